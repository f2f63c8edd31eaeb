"""``amobridge setup``: register this service's webhook with amoCRM (idempotent)."""

from __future__ import annotations

from bot.app.amocrm import build_command_client
from bot.app.settings import Settings
from bot.store import open_store

# What amobridge follows; amoCRM has no complete_task: a completion arrives as update_task.
WEBHOOK_EVENTS = (
    "add_lead",
    "update_lead",
    "status_lead",
    "responsible_lead",
    "delete_lead",
    "restore_lead",
    "add_task",
    "update_task",
    "delete_task",
    "responsible_task",
)


class SetupError(Exception):
    """Setup cannot proceed; the message says which setting is missing."""


def webhook_destination(settings: Settings) -> str:
    if settings.public_url is None:
        raise SetupError("set AMOBRIDGE_PUBLIC_URL: the address amoCRM can reach this server at")
    if settings.amocrm.webhook_secret is None:
        raise SetupError("set AMOBRIDGE_AMOCRM__WEBHOOK_SECRET: a long random path segment")
    base = str(settings.public_url).rstrip("/")
    return f"{base}/amocrm/webhook/{settings.amocrm.webhook_secret.get_secret_value()}"


async def register_amocrm_webhook(settings: Settings) -> str:
    """Register (or update: amoCRM keys hooks by destination) the webhook; returns its URL."""
    if not settings.amocrm.configured:
        raise SetupError("set AMOBRIDGE_AMOCRM__BASE_URL and a token first")
    destination = webhook_destination(settings)
    store = await open_store(settings.store_url, key_prefix=settings.redis_key_prefix)
    try:
        client, http = await build_command_client(settings, store, "setup")
        try:
            await client.register_webhook(destination, WEBHOOK_EVENTS)
        finally:
            await http.aclose()
    finally:
        await store.close()
    return destination
