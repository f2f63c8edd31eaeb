"""``amobridge check``: is each part configured, reachable and authorised? One row per finding.

It is a gate for going live: it passes only when amoCRM is configured and authorised and at
least one messenger is configured and reachable; each failing row says how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import ClientSession

from bot.app.amocrm import build_command_client
from bot.app.settings import Settings
from bot.store import Store, open_store
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


@dataclass(frozen=True, slots=True)
class CheckRow:
    part: str
    ok: bool | None  # None: not configured, nothing to check
    detail: str


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


async def run_checks(settings: Settings) -> list[CheckRow]:
    rows = [CheckRow("configuration", True, "valid")]
    try:
        store = await open_store(settings.store_url, key_prefix=settings.redis_key_prefix)
        await store.ping()
    except Exception as exc:
        rows.append(
            CheckRow(
                "store",
                False,
                f"cannot open {settings.store_url.split('://')[0]} store ({type(exc).__name__})",
            )
        )
        return rows
    rows.append(CheckRow("store", True, settings.store_url.split("://", 1)[0]))
    try:
        rows += await _check_amocrm(settings, store)
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


async def _check_amocrm(settings: Settings, store: Store) -> list[CheckRow]:
    if not settings.amocrm.configured:
        return [CheckRow("amoCRM", False, AMOCRM_NOT_CONFIGURED)]
    if settings.amocrm.uses_oauth and await store.load_tokens("amocrm") is None:
        return [
            CheckRow(
                "amoCRM",
                False,
                "not authorised yet: run `amobridge authorize`, open the link as an amoCRM "
                "admin and press Allow",
            )
        ]
    client, http = await build_command_client(settings, store, "check")
    try:
        account = await client.account()
        users = await client.users()
    except AmoError as exc:
        return [CheckRow("amoCRM", False, explain_amo_error(exc))]
    finally:
        await http.aclose()
    active = sum(1 for u in users if u.is_active)
    return [
        CheckRow("amoCRM", True, f"authorised at {settings.amocrm.base_url}"),
        CheckRow(
            "account", True, f"{account.name} ({account.subdomain}), timezone {account.timezone}"
        ),
        CheckRow("users", True, f"{active} active of {len(users)}"),
    ]
