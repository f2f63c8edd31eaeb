"""``amobridge check``: is each part configured, reachable and authorised? One row per finding.

It is a gate for going live: it passes only when amoCRM is configured and authorised and at
least one messenger is configured and reachable; each failing row says how to fix it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import ClientSession

from bot.app.amocrm import build_command_client
from bot.app.settings import Settings
from bot.store import Store, StoreOpenError, open_store
from integrations.amocrm import (
    AmoAuthError,
    AmoError,
    AmoForbidden,
    AmoOAuthError,
    AmoPaymentRequired,
    AmoTransportError,
)
from integrations.slack import SlackApi, SlackError, web_client
from integrations.telegram.probe import TelegramProbeError, bot_username

AMOCRM_NOT_CONFIGURED = (
    "not configured: set AMOBRIDGE_AMOCRM__BASE_URL (https://<account>.amocrm.ru or "
    ".kommo.com) and AMOBRIDGE_AMOCRM__LONG_LIVED_TOKEN, or for OAuth "
    "AMOBRIDGE_AMOCRM__CLIENT_ID, …__CLIENT_SECRET and …__REDIRECT_URI"
)

# Named after a store that cannot be opened: the one setting that decides it.
STORE_SETTING = "AMOBRIDGE_STORE_URL"

# Where amoCRM accounts live: https://<account>.amocrm.ru (or .amocrm.com, .kommo.com).
AMOCRM_HOST_SUFFIXES = (".amocrm.ru", ".amocrm.com", ".kommo.com")
RESOLVE_TIMEOUT_S = 10.0

# Looks a host name up (raises OSError if it does not resolve): the system's resolver.
Resolver = Callable[[str, int], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class CheckRow:
    part: str
    ok: bool | None  # None: not configured, nothing to check (or only a warning)
    detail: str
    warning: bool = False  # worth a look, but does not fail the check

    @property
    def mark(self) -> str:
        if self.warning:
            return "WARN"
        return "ok" if self.ok else ("--" if self.ok is None else "FAIL")


def amocrm_host_warning(base_url: str) -> str | None:
    """What is wrong with the host of AMOBRIDGE_AMOCRM__BASE_URL, if no amoCRM account can live
    there (a typo, a bare domain, www.); None for an account's host or this machine's (the
    emulator)."""
    host = (urlsplit(base_url).hostname or "").rstrip(".").lower()
    if _is_loopback(host):
        return None
    subdomain = next(
        (host.removesuffix(suffix) for suffix in AMOCRM_HOST_SUFFIXES if host.endswith(suffix)),
        None,
    )
    if subdomain and subdomain != "www" and "." not in subdomain:
        return None
    return (
        f"{host or base_url} is not an amoCRM account's address: accounts live at "
        "https://<account>.amocrm.ru, https://<account>.amocrm.com or "
        "https://<account>.kommo.com (the address the browser shows when you are signed in)"
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cannot_reach(host: str, why: str) -> str:
    return (
        f"cannot reach {host}: is the subdomain right? ({why}; check "
        "AMOBRIDGE_AMOCRM__BASE_URL and the network)"
    )


async def _resolve(host: str, port: int) -> object:
    loop = asyncio.get_running_loop()
    lookup = loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    try:
        return await asyncio.wait_for(lookup, RESOLVE_TIMEOUT_S)
    except TimeoutError:
        raise OSError("no answer from the name server") from None


def explain_amo_error(exc: AmoError) -> str:
    """What an amoCRM failure means for the admin, and what to do about it."""
    if isinstance(exc, AmoOAuthError):
        if exc.status is None:  # refused here, before amoCRM: the message says what to do
            return str(exc)
        return "OAuth refused: the integration must be authorised again: run amobridge authorize"
    if isinstance(exc, AmoAuthError):
        return (
            "token rejected (401): issue a new long-lived token, or re-authorise the integration"
        )
    if isinstance(exc, AmoForbidden):
        if exc.blocked:
            return "blocked by amoCRM (403 page): too many requests; amoCRM support must unblock"
        return "forbidden (403): the token's user lacks rights, or the IP is not whitelisted"
    if isinstance(exc, AmoPaymentRequired):
        return "account not paid (402): amoCRM refuses API calls until the subscription is renewed"
    if isinstance(exc, AmoTransportError):
        return "cannot reach amoCRM: check AMOBRIDGE_AMOCRM__BASE_URL and the network"
    return f"amoCRM answered {exc.status or 'an error'}: {exc.title or 'unexpected error'}"


async def run_checks(settings: Settings, *, resolve: Resolver = _resolve) -> list[CheckRow]:
    rows = [CheckRow("configuration", True, "valid")]
    backend = settings.store_url.split("://", 1)[0]
    if not settings.amocrm.configured:
        # Nothing to keep yet: a look around creates no store (no SQLite file), as `run` does.
        rows.append(CheckRow("store", None, f"{backend}: not opened until amoCRM is configured"))
        rows.append(CheckRow("amoCRM", False, AMOCRM_NOT_CONFIGURED))
    else:
        try:
            store = await open_store(settings.store_url, key_prefix=settings.redis_key_prefix)
            await store.ping()
        except StoreOpenError as exc:
            rows.append(CheckRow("store", False, f"{exc} ({STORE_SETTING})"))
            return rows
        except Exception as exc:
            rows.append(
                CheckRow("store", False, f"cannot open {backend} store ({type(exc).__name__})")
            )
            return rows
        rows.append(CheckRow("store", True, backend))
        try:
            rows += await _check_amocrm(settings, store, resolve)
        finally:
            await store.close()
    rows.append(await _check_telegram(settings))
    rows.append(await _check_slack(settings))
    if not settings.telegram.configured and not settings.slack.configured:
        rows.append(
            CheckRow(
                "messenger",
                False,
                "none configured: set AMOBRIDGE_TELEGRAM__TOKEN (from @BotFather), or "
                "AMOBRIDGE_SLACK__BOT_TOKEN and AMOBRIDGE_SLACK__SIGNING_SECRET (the Slack app)",
            )
        )
    return rows


async def _check_slack(settings: Settings) -> CheckRow:
    cfg = settings.slack
    if cfg.bot_token is None:
        return CheckRow("Slack", None, "not configured")
    if cfg.signing_secret is None:
        return CheckRow("Slack", False, "AMOBRIDGE_SLACK__SIGNING_SECRET is missing")
    async with ClientSession(trust_env=False) as session:
        api = SlackApi(web_client(cfg.bot_token.get_secret_value(), str(cfg.api_base),
                                  session=session))  # fmt: skip
        try:
            me = await api.identity()
        except SlackError as exc:
            return CheckRow("Slack", False, explain_slack_error(exc))
    return CheckRow("Slack", True, f"workspace {me.team or me.team_id}, bot user {me.bot_user_id}")


def explain_slack_error(exc: SlackError) -> str:
    if exc.code in ("invalid_auth", "not_authed", "token_revoked", "account_inactive"):
        return f"token rejected ({exc.code}): reinstall the app and copy its Bot User OAuth Token"
    if exc.code == "network":
        return "cannot reach Slack: check AMOBRIDGE_SLACK__API_BASE and the network"
    return f"Slack answered {exc.code}"


async def _check_telegram(settings: Settings) -> CheckRow:
    cfg = settings.telegram
    if cfg.token is None:
        return CheckRow("Telegram", None, "not configured")
    try:
        username = await bot_username(cfg.token.get_secret_value(), str(cfg.api_base))
    except TelegramProbeError as exc:
        return CheckRow("Telegram", False, str(exc))
    mode = "webhook" if cfg.webhook_secret else "long polling"
    return CheckRow("Telegram", True, f"bot @{username}, {mode}")


async def _check_amocrm(settings: Settings, store: Store, resolve: Resolver) -> list[CheckRow]:
    base_url = str(settings.amocrm.base_url)
    odd_host = amocrm_host_warning(base_url)
    rows = [] if odd_host is None else [CheckRow("amoCRM", None, odd_host, warning=True)]
    address = urlsplit(base_url)
    host = address.hostname or base_url
    try:
        await resolve(host, address.port or (443 if address.scheme == "https" else 80))
    except OSError:
        return [*rows, CheckRow("amoCRM", False, cannot_reach(host, "the name does not resolve"))]
    if settings.amocrm.uses_oauth and await store.load_tokens("amocrm") is None:
        return [
            *rows,
            CheckRow(
                "amoCRM",
                False,
                "not authorised yet: run `amobridge authorize`, open the link as an amoCRM "
                "admin and press Allow",
            ),
        ]
    client, http = await build_command_client(settings, store, "check")
    try:
        account = await client.account()
        users = await client.users()
    except AmoTransportError:
        return [*rows, CheckRow("amoCRM", False, cannot_reach(host, "nothing answers there"))]
    except AmoError as exc:
        return [*rows, CheckRow("amoCRM", False, explain_amo_error(exc))]
    finally:
        await http.aclose()
    active = sum(1 for u in users if u.is_active)
    return [
        *rows,
        CheckRow("amoCRM", True, f"authorised at {settings.amocrm.base_url}"),
        CheckRow(
            "account", True, f"{account.name} ({account.subdomain}), timezone {account.timezone}"
        ),
        CheckRow("users", True, f"{active} active of {len(users)}"),
    ]
