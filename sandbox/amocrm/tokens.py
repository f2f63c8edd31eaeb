"""Authorization codes, OAuth token pairs and long-lived tokens, with amoCRM's lifetimes.

After a refresh the previous access token keeps working until it expires, as on real amoCRM
(only the refresh token is single use); `revoke_all` is what kills every token at once,
`revoke_refresh` kills the refresh tokens only (what a stolen or rotated-away refresh token looks
like: the service finds out when its access token runs out) and `expire_access` ends every access
token's day now, so that a test or a person at the sandbox need not wait 24 hours for it.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

ACCESS_TTL_S = 86_400
REFRESH_TTL_S = 90 * 86_400
CODE_TTL_S = 20 * 60
LONG_LIVED_TTL_S = 5 * 365 * 86_400


class OAuthError(Exception):
    """An /oauth2 failure: `hint` is the human reason amoCRM puts in its problem body."""

    def __init__(self, hint: str, status: int = 400) -> None:
        super().__init__(hint)
        self.hint = hint
        self.status = status


@dataclass(frozen=True, slots=True)
class Grant:
    user_id: int
    expires_at: int
    kind: Literal["oauth", "long_lived"]


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    server_time: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(eq=False, kw_only=True)
class TokenStore:
    """The account's tokens: whom each is for and until when (by ``clock``)."""

    clock: Callable[[], float]
    client_id: str
    account_id: int
    api_domain: Callable[[], str]
    _access: dict[str, Grant] = field(init=False, default_factory=dict)
    _refresh: dict[str, Grant] = field(init=False, default_factory=dict)
    _codes: dict[str, Grant] = field(init=False, default_factory=dict)
    _used_codes: set[str] = field(init=False, default_factory=set)
    _dead_refresh: set[str] = field(init=False, default_factory=set)

    def _now(self) -> int:
        return int(self.clock())

    def _jwt(self, user_id: int, ttl_s: int) -> str:
        now = self._now()
        header = {"typ": "JWT", "alg": "RS256", "jti": uuid.uuid4().hex}
        claims = {
            "aud": self.client_id,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_s,
            "sub": str(user_id),
            "grant_type": "",
            "account_id": self.account_id,
            "base_domain": "amocrm.ru",
            "version": 2,
            "scopes": ["crm", "notifications"],
            "api_domain": self.api_domain(),
        }
        parts = (json.dumps(header).encode(), json.dumps(claims).encode(), secrets.token_bytes(64))
        return ".".join(_b64(part) for part in parts)

    # -- issuing --

    def issue_code(self, user_id: int) -> str:
        code = "def50200" + secrets.token_hex(96)
        self._codes[code] = Grant(user_id, self._now() + CODE_TTL_S, "oauth")
        return code

    def new_long_lived(self, user_id: int) -> str:
        token = self._jwt(user_id, LONG_LIVED_TTL_S)
        self._access[token] = Grant(user_id, self._now() + LONG_LIVED_TTL_S, "long_lived")
        return token

    def _new_pair(self, user_id: int) -> TokenPair:
        access = self._jwt(user_id, ACCESS_TTL_S)
        refresh = "def50200" + secrets.token_hex(160)
        now = self._now()
        self._access[access] = Grant(user_id, now + ACCESS_TTL_S, "oauth")
        self._refresh[refresh] = Grant(user_id, now + REFRESH_TTL_S, "oauth")
        return TokenPair(access, refresh, ACCESS_TTL_S, now)

    # -- using --

    def authenticate(self, token: str) -> int | None:
        """The user a Bearer token acts as, or None (unknown, expired or revoked)."""
        grant = self._access.get(token)
        if grant is None or grant.expires_at <= self._now():
            return None
        return grant.user_id

    def _redeem(
        self, pool: dict[str, Grant], spent: set[str], token: str, refusals: tuple[str, str, str]
    ) -> int:
        """The user of a single-use ``token`` from ``pool``; ``refusals``: amoCRM's words for
        one used before, one unknown and one expired."""
        used, unknown, expired = refusals
        if token in spent:
            raise OAuthError(used)
        grant = pool.pop(token, None)
        if grant is None:
            raise OAuthError(unknown)
        spent.add(token)
        if grant.expires_at <= self._now():
            raise OAuthError(expired)
        return grant.user_id

    def exchange_code(self, code: str) -> TokenPair:
        refusals = ("Authorization code has been revoked", "Cannot decrypt the authorization code",
                    "Authorization code has expired")  # fmt: skip
        return self._new_pair(self._redeem(self._codes, self._used_codes, code, refusals))

    def refresh(self, refresh_token: str) -> TokenPair:
        refusals = ("Token has been revoked", "Invalid refresh token", "Token has expired")
        user_id = self._redeem(self._refresh, self._dead_refresh, refresh_token, refusals)
        return self._new_pair(user_id)

    def revoke_refresh(self) -> None:
        """Every refresh token dies; access tokens keep working until they expire."""
        self._dead_refresh.update(self._refresh)
        self._refresh.clear()

    def expire_access(self) -> None:
        """Every OAuth access token expires now (long-lived tokens are not touched)."""
        now = self._now()
        for token, grant in self._access.items():
            if grant.kind == "oauth":
                self._access[token] = Grant(grant.user_id, now, grant.kind)

    def revoke_all(self) -> None:
        """Every access, refresh and long-lived token dies; issued codes stay usable."""
        self._dead_refresh.update(self._refresh)
        self._refresh.clear()
        self._access.clear()
