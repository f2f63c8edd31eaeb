"""Who is who across systems: a messenger account linked to one amoCRM user, and back.

An amoCRM user may link one Telegram account and one Slack account. Each direction is a document
of its own; a link is made by claiming the messenger side first, then the amoCRM side, undoing
the first if the second is taken, so neither side is ever linked twice even when two links race.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.core import CHANNELS, Channel, Lang, Reader, User, Value
from bot.store import Store

NS = "link"


class ChannelLink(Value):
    channel: Channel
    amo_user_id: int
    account_id: str  # the Telegram user id, or the Slack user id
    chat_id: str  # where the bot writes to them: the private chat, or the Slack DM channel
    username: str | None = None
    paused: bool = False  # the messenger refused them for good: nothing is sent until they return
    linked_at: int = 0


class LinkOutcome(StrEnum):
    LINKED = "linked"
    ACCOUNT_TAKEN = "account_taken"  # this messenger account is linked to someone already
    AMO_TAKEN = "amo_taken"  # this amoCRM user has another account of this messenger linked


def _account_key(channel: Channel, account_id: str) -> str:
    return f"{channel}:account:{account_id}"


def _amo_key(channel: Channel, amo_user_id: int) -> str:
    return f"{channel}:amo:{amo_user_id}"


@dataclass(frozen=True, slots=True, eq=False)
class Links:
    _store: Store

    async def by_account(self, channel: Channel, account_id: str | int) -> ChannelLink | None:
        raw = await self._store.get_doc(NS, _account_key(channel, str(account_id)))
        return ChannelLink.model_validate_json(raw) if raw else None

    async def by_amo(self, amo_user_id: int, channel: Channel) -> ChannelLink | None:
        raw = await self._store.get_doc(NS, _amo_key(channel, amo_user_id))
        return ChannelLink.model_validate_json(raw) if raw else None

    async def of_user(self, amo_user_id: int) -> list[ChannelLink]:
        """Every link of the amoCRM user, paused ones included, Telegram first."""
        found = [await self.by_amo(amo_user_id, channel) for channel in CHANNELS]
        return [link for link in found if link is not None]

    async def link(self, link: ChannelLink) -> LinkOutcome:
        value = link.model_dump_json()
        account = _account_key(link.channel, link.account_id)
        if not await self._store.swap_doc(NS, account, None, value):
            return LinkOutcome.ACCOUNT_TAKEN
        if not await self._store.swap_doc(
            NS, _amo_key(link.channel, link.amo_user_id), None, value
        ):
            await self._store.swap_doc(NS, account, value, None)
            return LinkOutcome.AMO_TAKEN
        return LinkOutcome.LINKED

    async def unlink(self, link: ChannelLink) -> None:
        await self._store.delete_doc(NS, _amo_key(link.channel, link.amo_user_id))
        await self._store.delete_doc(NS, _account_key(link.channel, link.account_id))

    async def set_paused(
        self, amo_user_id: int, channel: Channel, paused: bool
    ) -> ChannelLink | None:
        link = await self.by_amo(amo_user_id, channel)
        if link is None or link.paused == paused:
            return link
        updated = link.model_copy(update={"paused": paused})
        value = updated.model_dump_json()
        await self._store.put_doc(NS, _amo_key(channel, amo_user_id), value)
        await self._store.put_doc(NS, _account_key(channel, link.account_id), value)
        return updated

    async def all(self, channel: Channel | None = None) -> list[ChannelLink]:
        """Every link (of one messenger, or of both), in no particular order."""
        docs = await self._store.list_docs(NS)
        return [
            ChannelLink.model_validate_json(value)
            for key, value in docs.items()
            if ":amo:" in key and (channel is None or key.startswith(f"{channel}:"))
        ]


class Speaker(Value):
    """Who wrote or pressed, as far as amobridge knows them."""

    channel: Channel
    account_id: str
    lang: Lang
    link: ChannelLink | None = None
    user: User | None = None
    reader: Reader

    @property
    def linked(self) -> bool:
        return self.link is not None and self.user is not None
