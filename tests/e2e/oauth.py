"""The OAuth side of the end-to-end tests: settings for an external amoCRM integration, and the
admin's press on amoCRM's consent page."""

from __future__ import annotations

import os

import httpx

from bot.app.authorize import authorization_url
from bot.app.settings import AmoCrmSettings, HttpSettings, Settings
from sandbox.amocrm import AmoEmulator
from tests.e2e.helpers import free_port


def oauth_settings(amo: AmoEmulator, store_url: str, redis_prefix: str) -> Settings:
    """An external integration (client id, secret and redirect URI), not yet authorised, whose
    redirect URI is this service's ``/amocrm/oauth`` on a free port."""
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/amocrm/oauth"
    amo.oauth_redirect_uri = redirect
    return Settings(
        _env_file=None,
        amocrm=AmoCrmSettings(
            base_url=amo.base_url,
            client_id=amo.oauth_client_id,
            client_secret=amo.oauth_client_secret,
            redirect_uri=redirect,
            poll_interval_s=0.3,
            sync_interval_s=0.3,
        ),
        http=HttpSettings(host="127.0.0.1", port=port),
        store_url=store_url,
        redis_key_prefix=redis_prefix,
    )


async def consent(browser: httpx.AsyncClient, url: str) -> str:
    """The admin presses Allow on amoCRM's page: where amoCRM sends the browser back to."""
    answer = await browser.get(url)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


async def authorise(browser: httpx.AsyncClient, settings: Settings) -> None:
    """``amobridge authorize``'s link, followed to the end: the service holds tokens."""
    page = await browser.get(await consent(browser, await authorization_url(settings)))
    assert page.status_code == 200, page.text


def oauth_env(settings: Settings, *, client_secret: str | None = None) -> dict[str, str]:
    """The environment ``amobridge`` runs with for ``settings`` (an OAuth integration), as an
    admin's ``.env`` would have it; ``client_secret`` overrides the configured one."""
    cfg = settings.amocrm
    secret = client_secret or (cfg.client_secret.get_secret_value() if cfg.client_secret else "")
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("AMOBRIDGE_")},
        "AMOBRIDGE_AMOCRM__BASE_URL": str(cfg.base_url),
        "AMOBRIDGE_AMOCRM__CLIENT_ID": str(cfg.client_id),
        "AMOBRIDGE_AMOCRM__CLIENT_SECRET": secret,
        "AMOBRIDGE_AMOCRM__REDIRECT_URI": str(cfg.redirect_uri),
        "AMOBRIDGE_STORE_URL": settings.store_url,
        "AMOBRIDGE_REDIS_KEY_PREFIX": settings.redis_key_prefix,
    }
