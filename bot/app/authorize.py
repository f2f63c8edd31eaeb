"""``amobridge authorize``: the amoCRM OAuth consent link (its state stored for the service to
check), or the exchange of a code an admin pasted at the console."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from bot.app.amocrm import build_installer
from bot.app.settings import Settings
from bot.core import SystemClock
from bot.store import open_store
from integrations.amocrm import InstallError, InstallProblem, OAuthInstaller, code_from_paste

# What each refusal means at the console (the browser page says the same in ru/en).
_EXPLAIN = {
    InstallProblem.MISSING: "no code given",
    InstallProblem.DENIED: "access was not allowed in amoCRM",
    InstallProblem.STATE: "the link expired or was already used: run amobridge authorize again",
    InstallProblem.ACCOUNT: "the code comes from another amoCRM account than "
    "AMOBRIDGE_AMOCRM__BASE_URL",
    InstallProblem.USED: "this code was already used: run amobridge authorize again",
    InstallProblem.REFUSED: "amoCRM refused the code (it lives 20 minutes and works once): "
    "run amobridge authorize again",
    InstallProblem.UNREACHABLE: "cannot reach amoCRM: check AMOBRIDGE_AMOCRM__BASE_URL and "
    "the network",
}


class AuthorizeError(Exception):
    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def _require_oauth(settings: Settings) -> None:
    cfg = settings.amocrm
    if not cfg.configured:
        raise AuthorizeError(
            "set AMOBRIDGE_AMOCRM__BASE_URL, AMOBRIDGE_AMOCRM__CLIENT_ID, "
            "AMOBRIDGE_AMOCRM__CLIENT_SECRET and AMOBRIDGE_AMOCRM__REDIRECT_URI first",
            2,
        )
    if not cfg.uses_oauth:
        raise AuthorizeError(
            "amoCRM is set up with a long-lived token: there is nothing to authorize "
            "(unset AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN to use OAuth)",
            2,
        )


@asynccontextmanager
async def _installer(settings: Settings) -> AsyncIterator[OAuthInstaller]:
    _require_oauth(settings)
    store = await open_store(settings.store_url, key_prefix=settings.redis_key_prefix)
    http = httpx.AsyncClient(timeout=httpx.Timeout(20, connect=5), trust_env=False)
    try:
        owner = f"authorize-{uuid.uuid4().hex[:8]}"
        installer = build_installer(
            settings.amocrm,
            store,
            http,
            SystemClock(),
            owner=owner,
            secret_key=settings.secret_key,
        )
        assert installer is not None  # _require_oauth
        yield installer
    finally:
        await http.aclose()
        await store.close()


async def authorization_url(settings: Settings) -> str:
    """The consent link, with a fresh state stored for the service's redirect page to check."""
    async with _installer(settings) as installer:
        return await installer.authorization_url()


async def exchange_pasted_code(settings: Settings, pasted: str) -> str:
    """Exchange the code once (the claim is shared with the service); the account's host."""
    code, referer = code_from_paste(pasted)
    async with _installer(settings) as installer:
        try:
            installed = await installer.install(code, state=None, referer=referer, pasted=True)
        except InstallError as exc:
            raise AuthorizeError(_EXPLAIN[exc.problem]) from None
        return installed.account_host
