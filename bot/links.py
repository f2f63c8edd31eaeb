"""Who is who across systems: a Telegram account linked to one amoCRM user, and back.

Both directions are documents of their own; a link is made by claiming the Telegram side first,
then the amoCRM side, undoing the first if the second is taken, so neither side is ever linked
twice even when two links race.
"""

from __future__ import annotations

from enum import StrEnum

from bot.domain import Value
from bot.store import Store

NS = "tg_link"


class TelegramLink(Value):
    amo_user_id: int
    tg_user_id: int
    chat_id: int  # the private chat with the bot (equal to the user id in Telegram)
    username: str | None = None
    paused: bool = False  # the bot was blocked: nothing is sent until the user comes back
    linked_at: int = 0


class LinkOutcome(StrEnum):
    LINKED = "linked"
    TELEGRAM_TAKEN = "telegram_taken"
    AMO_TAKEN = "amo_taken"


class Links:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def by_telegram(self, tg_user_id: int) -> TelegramLink | None:
        raw = await self._store.get_doc(NS, f"tg:{tg_user_id}")
        return TelegramLink.model_validate_json(raw) if raw else None

    async def by_amo(self, amo_user_id: int) -> TelegramLink | None:
        raw = await self._store.get_doc(NS, f"amo:{amo_user_id}")
        return TelegramLink.model_validate_json(raw) if raw else None

    async def link(self, link: TelegramLink) -> LinkOutcome:
        value = link.model_dump_json()
        if not await self._store.swap_doc(NS, f"tg:{link.tg_user_id}", None, value):
            return LinkOutcome.TELEGRAM_TAKEN
        if not await self._store.swap_doc(NS, f"amo:{link.amo_user_id}", None, value):
            await self._store.swap_doc(NS, f"tg:{link.tg_user_id}", value, None)
            return LinkOutcome.AMO_TAKEN
        return LinkOutcome.LINKED

    async def unlink(self, link: TelegramLink) -> None:
        await self._store.delete_doc(NS, f"amo:{link.amo_user_id}")
        await self._store.delete_doc(NS, f"tg:{link.tg_user_id}")

    async def set_paused(self, amo_user_id: int, paused: bool) -> TelegramLink | None:
        link = await self.by_amo(amo_user_id)
        if link is None or link.paused == paused:
            return link
        updated = link.model_copy(update={"paused": paused})
        value = updated.model_dump_json()
        await self._store.put_doc(NS, f"amo:{link.amo_user_id}", value)
        await self._store.put_doc(NS, f"tg:{link.tg_user_id}", value)
        return updated

    async def all(self) -> list[TelegramLink]:
        docs = await self._store.list_docs(NS)
        return [
            TelegramLink.model_validate_json(v) for k, v in docs.items() if k.startswith("amo:")
        ]
