"""Where the client's bearer token comes from: a long-lived token, or OAuth with refresh.

amoCRM's refresh tokens are single-use: a refresh token sent twice gives one success and then
"Token has been revoked", which means re-authorization by a human. So a refresh happens under a
cross-process lease in the store, re-reads the store first (another replica may have refreshed
already), and saves the new pair before anyone uses it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import uuid
from collections.abc import Sequence
from typing import Protocol

import httpx
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import BaseModel, ConfigDict, ValidationError

from bot.core import Clock, OAuthTokens
from bot.store import Store
from integrations.amocrm.errors import (
    AmoBadResponse,
    AmoError,
    AmoOAuthError,
    error_from_response,
    oauth_error_from_response,
    transport_error,
)

TOKEN_PATH = "/oauth2/access_token"


class AmoAuth(Protocol):
    async def access_token(self) -> str:
        """The token for the next request."""
        ...

    async def on_unauthorized(self, rejected: str) -> str | None:
        """``rejected`` got a 401: a new token to retry with once, or None (give up)."""
        ...


def jwt_expiry(token: str) -> int | None:
    """The ``exp`` claim of a JWT access token (amoCRM's are), unverified: for monitoring only."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return exp if isinstance(exp, int) else None


class LongLivedTokenAuth:
    """A token an admin generated in the Keys tab: nothing to refresh, a 401 is final."""

    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "LongLivedTokenAuth(token=***)"

    async def access_token(self) -> str:
        return self._token

    async def on_unauthorized(self, rejected: str) -> str | None:
        return None


class TokenCipher:
    """Encrypts the token pair at rest (Fernet: AES-128-CBC with HMAC-SHA256).

    ``keys`` in order of preference: the first encrypts, any decrypts (MultiFernet), so a new
    key is put first and the old one dropped once the pair was saved again (the next refresh,
    within a day). A pair stored in clear (before a key was set) is read as it is and encrypted
    when next saved.
    """

    PREFIX = "fernet:"

    def __init__(self, keys: Sequence[str]) -> None:
        self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])

    def __repr__(self) -> str:
        return "TokenCipher(keys=***)"

    @classmethod
    def from_setting(cls, value: str | None) -> TokenCipher | None:
        """``AMOBRIDGE_SECRET_KEY``: one Fernet key, or several separated by commas."""
        if not value:
            return None
        return cls([key for key in value.split(",") if key.strip()])

    def seal(self, tokens: OAuthTokens) -> OAuthTokens:
        return tokens.model_copy(
            update={
                "access_token": self._seal(tokens.access_token),
                "refresh_token": self._seal(tokens.refresh_token),
            }
        )

    def open(self, tokens: OAuthTokens) -> OAuthTokens:
        return tokens.model_copy(
            update={
                "access_token": self._open(tokens.access_token),
                "refresh_token": self._open(tokens.refresh_token),
            }
        )

    def _seal(self, value: str) -> str:
        return self.PREFIX + self._fernet.encrypt(value.encode()).decode()

    def _open(self, value: str) -> str:
        if not value.startswith(self.PREFIX):
            return value
        try:
            return self._fernet.decrypt(value.removeprefix(self.PREFIX).encode()).decode()
        except InvalidToken:
            raise AmoOAuthError(
                "the stored amoCRM tokens do not decrypt with AMOBRIDGE_SECRET_KEY: put back "
                "the key they were saved with (keys can be listed, comma-separated)"
            ) from None


def is_sealed(tokens: OAuthTokens) -> bool:
    return tokens.refresh_token.startswith(TokenCipher.PREFIX)


class _TokenAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    access_token: str
    refresh_token: str
    expires_in: int = 86400


class OAuthTokenManager:
    """Access tokens from the store, refreshed ahead of expiry or after a 401, one at a time.

    ``owner`` names this process in the refresh lease; a random suffix is added so that two
    managers never mistake each other's lease for their own.
    """

    def __init__(
        self,
        store: Store,
        *,
        base_url: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        http: httpx.AsyncClient,
        clock: Clock,
        store_key: str = "amocrm",
        owner: str,
        refresh_margin_s: float = 300.0,
        lease_ttl_s: float = 60.0,
        lease_wait_s: float = 30.0,
        cipher: TokenCipher | None = None,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._token_url = base_url.rstrip("/") + TOKEN_PATH
        self._client_id = client_id
        self._client_secret = client_secret
        self._redirect_uri = redirect_uri
        self._http = http
        self._clock = clock
        self._key = store_key
        self._lease = f"{store_key}:refresh"
        self._owner = f"{owner}:{uuid.uuid4().hex[:8]}"
        self._margin = refresh_margin_s
        # The lease must outlive a refresh call (20 s HTTP timeout) or a second refresh could
        # start with the same single-use refresh token.
        self._lease_ttl = lease_ttl_s
        self._lease_wait = lease_wait_s
        self._lock = asyncio.Lock()
        self._rng = random.Random()
        self._cached: OAuthTokens | None = None

    def __repr__(self) -> str:
        return f"OAuthTokenManager(store_key={self._key!r}, owner={self._owner!r})"

    async def _load(self) -> OAuthTokens | None:
        stored = await self._store.load_tokens(self._key)
        if stored is None:
            return None
        if self._cipher is not None:
            return self._cipher.open(stored)
        if is_sealed(stored):
            raise AmoOAuthError("the stored amoCRM tokens are encrypted: set AMOBRIDGE_SECRET_KEY")
        return stored

    async def _save(self, tokens: OAuthTokens) -> None:
        sealed = self._cipher.seal(tokens) if self._cipher is not None else tokens
        await self._store.save_tokens(self._key, sealed)

    async def exchange_code(self, code: str) -> OAuthTokens:
        """Trade an authorization code (from the install redirect) for a pair, and save it."""
        async with self._lock:
            tokens = await self._grant("authorization_code", code=code)
            await self._save(tokens)
            self._cached = tokens
            return tokens

    async def access_token(self) -> str:
        tokens = self._cached if self._is_fresh(self._cached) else None
        if tokens is None:
            tokens = await self._load()
            if tokens is None:
                raise AmoOAuthError("no amoCRM tokens stored: authorize the integration first")
        if not self._is_fresh(tokens):
            tokens = await self._refresh_ahead(tokens)
        self._cached = tokens
        return tokens.access_token

    async def on_unauthorized(self, rejected: str) -> str | None:
        tokens = await self._refresh(rejected)
        return tokens.access_token

    def _is_fresh(self, tokens: OAuthTokens | None) -> bool:
        return tokens is not None and not tokens.expires_within(self._clock.now(), self._margin)

    async def _refresh_ahead(self, expiring: OAuthTokens) -> OAuthTokens:
        """Proactive refresh; a failure that leaves the old token valid keeps using it."""
        try:
            return await self._refresh(expiring.access_token)
        except AmoOAuthError:
            raise
        except AmoError:
            if expiring.expires_at > self._clock.now():
                return expiring
            raise

    async def _refresh(self, stale: str) -> OAuthTokens:
        async with self._lock:
            # Another coroutine of this process may have refreshed while we waited for the lock.
            cached = self._cached
            if cached is not None and cached.access_token != stale and self._is_fresh(cached):
                return cached
            current = await self._take_lease(stale)
            if current is not None:
                self._cached = current
                return current
            try:
                stored = await self._load()
                if stored is None:
                    raise AmoOAuthError("no amoCRM tokens stored: authorize the integration first")
                if stored.access_token != stale and self._is_fresh(stored):
                    self._cached = stored  # another process refreshed: its pair is ours too
                    return stored
                tokens = await self._grant("refresh_token", refresh_token=stored.refresh_token)
                # Saved before anyone uses it: the old refresh token is dead from now on.
                await self._save(tokens)
                self._cached = tokens
                return tokens
            finally:
                await self._store.release_lease(self._lease, self._owner)

    async def _take_lease(self, stale: str) -> OAuthTokens | None:
        """Hold the refresh lease (None), or return the pair another holder saved meanwhile."""
        deadline = asyncio.get_running_loop().time() + self._lease_wait
        while not await self._store.acquire_lease(self._lease, self._owner, self._lease_ttl):
            stored = await self._load()
            if stored is not None and stored.access_token != stale and self._is_fresh(stored):
                return stored
            if asyncio.get_running_loop().time() >= deadline:
                raise AmoError("timed out waiting for another process's token refresh")
            await asyncio.sleep(0.05 + self._rng.random() * 0.1)
        return None

    async def _grant(self, grant_type: str, **fields: str) -> OAuthTokens:
        body = {
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "grant_type": grant_type,
            "redirect_uri": self._redirect_uri,
            **fields,
        }
        try:
            response = await self._http.post(self._token_url, json=body)
        except httpx.TransportError as exc:
            raise transport_error(exc, "POST", TOKEN_PATH) from None
        if response.status_code >= 500:
            raise error_from_response(response, "POST", TOKEN_PATH)
        if response.status_code != 200:
            raise oauth_error_from_response(response, grant_type)
        try:
            answer = _TokenAnswer.model_validate_json(response.content)
        except ValidationError:
            raise AmoBadResponse(
                f"POST {TOKEN_PATH}: unexpected token answer", status=200
            ) from None
        return OAuthTokens(
            access_token=answer.access_token,
            refresh_token=answer.refresh_token,
            expires_at=int(self._clock.now()) + answer.expires_in,
        )
