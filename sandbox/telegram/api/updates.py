"""getUpdates (a real long poll) and the webhook methods."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from sandbox.telegram.api.common import Described
from sandbox.telegram.context import BotContext
from sandbox.telegram.errors import bad_request, conflict
from sandbox.telegram.params import Params
from sandbox.telegram.records import JsonDict
from sandbox.telegram.state import WebhookConfig

LONG_POLL_MAX_TIMEOUT_S = 50  # the server clamps `timeout` to 0..50
_SECRET = re.compile(r"^[A-Za-z0-9_-]*$")
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)


def _clamp(value: int | None, default: int, low: int, high: int) -> int:
    return default if value is None else max(low, min(high, value))


def _allowed_updates(params: Params) -> list[str] | None:
    value: Any = params.json("allowed_updates", invalid="can't parse allowed updates JSON object")
    if value is None:
        return None
    if not isinstance(value, list):
        raise bad_request("expected an Array of String as allowed updates")
    return [kind for kind in value if isinstance(kind, str)]


async def get_updates(ctx: BotContext, params: Params) -> list[JsonDict]:
    if ctx.state.webhook is not None:
        raise conflict(WEBHOOK_ACTIVE)
    offset = params.integer("offset") or 0
    limit = _clamp(params.integer("limit"), 100, 1, 100)
    timeout_s = _clamp(params.integer("timeout"), 0, 0, LONG_POLL_MAX_TIMEOUT_S)
    ctx.updates.set_allowed(_allowed_updates(params))
    if offset:
        ctx.updates.confirm(offset)
    batch = ctx.updates.head(limit)
    if not batch and timeout_s > 0:
        ended = await ctx.poll.wait(timeout_s)
        if ended == "conflict":
            raise conflict(
                "terminated by other getUpdates request; make sure that only one bot instance "
                "is running"
            )
        if ended == "webhook":
            raise conflict("terminated by setWebhook request")
        batch = ctx.updates.head(limit)
    return [update.to_json() for update in batch]


def _webhook_config(params: Params, url: str) -> WebhookConfig:
    parts = urlsplit(url)
    # Telegram takes https only; loopback receivers are plain http, as with the local server.
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise bad_request("invalid webhook URL specified")
    secret = params.text("secret_token") or ""
    if len(secret) > 256:
        raise bad_request("secret token is too long")
    if not _SECRET.match(secret):
        raise bad_request("secret token contains unallowed characters")
    return WebhookConfig(
        url=url,
        secret_token=secret or None,
        max_connections=_clamp(params.integer("max_connections"), 40, 1, 100),
        ip_address=params.text("ip_address") or None,
    )


async def delete_webhook(ctx: BotContext, params: Params) -> Described:
    if params.flag("drop_pending_updates"):
        ctx.updates.clear()
    if ctx.state.webhook is None:
        return Described(True, "Webhook is already deleted")
    ctx.state.webhook = None
    ctx.hooks.cancel()
    return Described(True, "Webhook was deleted")


async def set_webhook(ctx: BotContext, params: Params) -> Described:
    url = (params.text("url") or "").strip()
    if not url:
        return await delete_webhook(ctx, params)
    config = _webhook_config(params, url)
    ctx.updates.set_allowed(_allowed_updates(params))
    dropping = params.flag("drop_pending_updates")
    if config == ctx.state.webhook and not dropping:
        return Described(True, "Webhook is already set")
    if dropping:
        ctx.updates.clear()
    ctx.poll.end("webhook")
    ctx.state.webhook = config
    ctx.hooks.start(config)
    return Described(True, "Webhook was set")


async def get_webhook_info(ctx: BotContext, params: Params) -> JsonDict:
    config = ctx.state.webhook
    info: JsonDict = {
        "url": config.url if config is not None else "",
        "has_custom_certificate": False,
        "pending_update_count": len(ctx.updates),
    }
    if config is None:
        return info
    info["max_connections"] = config.max_connections
    if config.ip_address is not None:
        info["ip_address"] = config.ip_address
    if ctx.hooks.last_error is not None:
        info["last_error_date"], info["last_error_message"] = ctx.hooks.last_error
    info["allowed_updates"] = sorted(ctx.updates.allowed)
    return info
