"""The amoCRM client as the settings describe it (long-lived token or OAuth), for the service
and for the ``check`` and ``setup`` commands alike."""

from __future__ import annotations

import uuid

import httpx
from pydantic import SecretStr

from bot.app.settings import AmoCrmSettings, Settings
from bot.core import Clock, Metrics, SystemClock
from bot.store import Store
from integrations.amocrm import (
    AmoAuth,
    AmoClient,
    LongLivedTokenAuth,
    OAuthInstaller,
    OAuthTokenManager,
    OnRequest,
    StorePacer,
    TokenCipher,
)


def _oauth_manager(
    cfg: AmoCrmSettings,
    store: Store,
    http: httpx.AsyncClient,
    clock: Clock,
    owner: str,
    secret_key: SecretStr | None,
) -> OAuthTokenManager:
    # Settings refuses OAuth without all three.
    assert cfg.client_id is not None
    assert cfg.client_secret is not None
    assert cfg.redirect_uri is not None
    return OAuthTokenManager(
        store,
        base_url=str(cfg.base_url),
        client_id=cfg.client_id,
        client_secret=cfg.client_secret.get_secret_value(),
        redirect_uri=cfg.redirect_uri,
        http=http,
        clock=clock,
        owner=owner,
        cipher=TokenCipher.from_setting(secret_key.get_secret_value() if secret_key else None),
    )


async def build_amo_client(
    cfg: AmoCrmSettings,
    store: Store,
    clock: Clock,
    *,
    owner: str,
    metrics: Metrics | None = None,
    on_request: OnRequest | None = None,
    secret_key: SecretStr | None = None,
) -> tuple[AmoClient, httpx.AsyncClient]:
    """The amoCRM client for these settings, and the HTTP client it owns (closed by the caller)."""
    timeout = httpx.Timeout(cfg.request_timeout_s, connect=min(5.0, cfg.request_timeout_s))
    http = httpx.AsyncClient(timeout=timeout, trust_env=False)
    observers = [f for f in (metrics.observe_amocrm if metrics else None, on_request) if f]

    def observe(method: str, path: str, status: int) -> None:
        for observer in observers:
            observer(method, path, status)

    auth: AmoAuth = (
        LongLivedTokenAuth(cfg.long_lived_token.get_secret_value())
        if cfg.long_lived_token is not None
        else _oauth_manager(cfg, store, http, clock, owner, secret_key)
    )
    client = AmoClient(
        str(cfg.base_url).rstrip("/"),
        auth=auth,
        pacer=StorePacer(store, rate_per_s=cfg.requests_per_second),
        http=http,
        on_request=observe if observers else None,
    )
    return client, http


async def build_command_client(
    settings: Settings, store: Store, command: str
) -> tuple[AmoClient, httpx.AsyncClient]:
    """The client of a one-off command (``check``, ``setup``): the system clock, and a lease owner
    of its own, so that a token refresh it makes never passes for a running replica's."""
    return await build_amo_client(
        settings.amocrm, store, SystemClock(), owner=f"{command}-{uuid.uuid4().hex[:8]}",
        secret_key=settings.secret_key,
    )  # fmt: skip


def build_installer(
    cfg: AmoCrmSettings,
    store: Store,
    http: httpx.AsyncClient,
    clock: Clock,
    *,
    owner: str,
    secret_key: SecretStr | None = None,
) -> OAuthInstaller | None:
    """The OAuth install flow for these settings, or None (a long-lived token needs none)."""
    if not cfg.configured or not cfg.uses_oauth:
        return None
    assert cfg.client_id is not None
    return OAuthInstaller(
        store,
        _oauth_manager(cfg, store, http, clock, owner, secret_key),
        base_url=str(cfg.base_url),
        client_id=cfg.client_id,
        owner=owner,
    )
