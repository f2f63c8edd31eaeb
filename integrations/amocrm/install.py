"""Installing the integration by OAuth: the authorization URL, its ``state``, and the one exchange
of the code amoCRM sends back to the redirect URI.

Both halves are single-use and shared by every replica through the store:

- a ``state`` is issued by amobridge (``amobridge authorize``), kept for ``STATE_TTL_S`` and
  consumed by a compare-and-set, so a forged or replayed state finds nothing;
- a ``code`` is claimed by a compare-and-set before it is sent to amoCRM, so a reload of the
  redirect page or two replicas receiving it at once make one exchange, never two (a second one
  would fail at amoCRM anyway, and a refresh pair is never burnt by a race).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import KW_ONLY, dataclass
from enum import StrEnum
from urllib.parse import parse_qs, urlencode, urlsplit

from bot.core import OAuthTokens
from bot.store import Store
from integrations.amocrm.auth import OAuthTokenManager
from integrations.amocrm.errors import AmoError, AmoOAuthError

STATE_NS = "amocrm-oauth-state"
CODE_NS = "amocrm-oauth-code"
# The person opens the URL and consents within the hour; amoCRM's code itself lives 20 minutes.
STATE_TTL_S = 3600.0
# A claimed code stays claimed well past amoCRM's 20-minute lifetime: after that it is dead there.
CODE_CLAIM_TTL_S = 86_400.0
_ISSUED = "issued"
_MAX_STATE = 64

# amoCRM's account hosts and where each family's consent page is: www.amocrm.ru/oauth for the
# Russian platform (amoCRM's docs); *.amocrm.com is Kommo's former name, the same platform as
# *.kommo.com (the redirect's ``platform=2``), so both consent at www.kommo.com. The token
# exchange and refreshes go to the account's own host (``<base>/oauth2/access_token``).
_CONSENT_HOSTS = {"amocrm.ru": "www.amocrm.ru", "amocrm.com": "www.kommo.com",
                  "kommo.com": "www.kommo.com"}  # fmt: skip


class InstallProblem(StrEnum):
    """Why an install redirect was refused; each has its own page (``oauth_<value>``)."""

    MISSING = "missing"  # no code (or no state) in the redirect
    DENIED = "denied"  # the person pressed "deny" in amoCRM
    STATE = "state"  # the state is unknown, expired or used: not ours, or a replay
    ACCOUNT = "account"  # the redirect names another amoCRM account than the configured one
    USED = "used"  # this code was already taken (reload, second replica)
    REFUSED = "refused"  # amoCRM refused the code (expired, revoked)
    UNREACHABLE = "unreachable"  # amoCRM could not be asked


class InstallError(Exception):
    def __init__(self, problem: InstallProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Installed:
    account_host: str
    tokens: OAuthTokens


def consent_url_base(base_url: str) -> str:
    """Where the consent page is: ``www.<family>/oauth`` for amoCRM's own hosts, the account's
    ``/oauth`` otherwise (an emulator, a self-hosted proxy)."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    for family, www in _CONSENT_HOSTS.items():
        if host.endswith("." + family):
            return f"https://{www}/oauth"
    return f"{parts.scheme}://{parts.netloc}/oauth"


def _code_key(code: str) -> str:
    # The code itself is a credential for 20 minutes: the store keeps only its digest.
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class OAuthInstaller:
    _store: Store
    _tokens: OAuthTokenManager
    _: KW_ONLY
    base_url: str
    client_id: str
    owner: str

    def __repr__(self) -> str:
        return f"OAuthInstaller(account={self.account_host!r})"

    @property
    def account_host(self) -> str:
        return (urlsplit(self.base_url).netloc or "").lower()

    async def authorization_url(self) -> str:
        """A consent URL with a fresh state, valid ``STATE_TTL_S`` for one install."""
        state = secrets.token_urlsafe(24)
        await self._store.put_doc(STATE_NS, state, _ISSUED, ttl_s=STATE_TTL_S)
        query = urlencode({"client_id": self.client_id, "state": state, "mode": "post_message"})
        return f"{consent_url_base(self.base_url)}?{query}"

    async def install(
        self, code: str | None, *, state: str | None, referer: str | None, pasted: bool = False
    ) -> Installed:
        """Check the redirect and exchange its code once; ``pasted`` (the CLI, where an admin
        pasted the code at the server's console) needs no state."""
        if not code or (not pasted and not state):
            raise InstallError(InstallProblem.MISSING)
        if not pasted:
            assert state is not None
            # Ours are 32 characters; anything longer is not looked up at all.
            if len(state) > _MAX_STATE or await self._store.get_doc(STATE_NS, state) != _ISSUED:
                raise InstallError(InstallProblem.STATE)
        if referer is not None and referer.strip().lower() != self.account_host:
            raise InstallError(InstallProblem.ACCOUNT)
        claimed = await self._store.swap_doc(
            CODE_NS, _code_key(code), None, self.owner, ttl_s=CODE_CLAIM_TTL_S
        )
        if not claimed:
            raise InstallError(InstallProblem.USED)
        if not pasted:
            assert state is not None
            if not await self._store.swap_doc(STATE_NS, state, _ISSUED, None):
                raise InstallError(InstallProblem.STATE)  # consumed meanwhile by another code
        try:
            tokens = await self._tokens.exchange_code(code)
        except AmoOAuthError:
            raise InstallError(InstallProblem.REFUSED) from None
        except AmoError:
            raise InstallError(InstallProblem.UNREACHABLE) from None
        return Installed(self.account_host, tokens)


def code_from_paste(pasted: str) -> tuple[str, str | None]:
    """The code (and the referer) from what an admin pasted: the bare code, or the whole
    redirect URL copied from the browser's address bar."""
    text = pasted.strip()
    if "code=" not in text:
        return text, None
    query = parse_qs(urlsplit(text).query if "?" in text else text)
    codes = query.get("code") or [""]
    referers = query.get("referer")
    return codes[0], (referers[0] if referers else None)
