"""When a messenger refuses a user for good (the bot blocked in Telegram, the Slack account
deactivated): pause that link so nothing more is queued for it, tell the admins, who are the ones
able to chase it up, and re-send what went only there to the user's other messenger."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from bot.core import Catalogue
from bot.crm import Directory
from bot.delivery import DeliveryError, Outbox, OutboxItem
from bot.people.admins import admin_notices
from bot.people.links import ChannelLink, Links
from bot.people.prefs import Prefs
from bot.people.reach import Reach

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, eq=False)
class LinkGuard:
    _links: Links
    _prefs: Prefs
    _reach: Reach
    _directory: Directory
    _outbox: Outbox
    _t: Catalogue

    async def on_permanent_failure(self, item: OutboxItem, error: DeliveryError) -> None:
        if item.recipient is None or not error.gone:
            return  # a shared chat, or this one message was refused (not the person)
        link = await self._links.by_amo(item.recipient, item.channel)
        if link is None or link.chat_id != item.chat_id:
            return  # the link has changed since the message was queued
        if not link.paused:  # one pause, one notice to the admins
            await self._links.set_paused(item.recipient, item.channel, True)
            await self._tell_admins(item, error.reason)
        if item.op == "send":
            # Every message that fails, not just the first: more were queued before the pause.
            instead = await self._reach.instead_of(item.recipient, item.channel)
            await self._outbox.enqueue([_resent(item, link) for link in instead])

    async def _tell_admins(self, item: OutboxItem, reason: str) -> None:
        assert item.recipient is not None
        user = await self._directory.user(item.recipient)
        name = user.name if user else str(item.recipient)
        log.warning("paused the %s link of %s: %s", item.channel, name, reason)
        # One notice per admin, in the messenger that failed if they use it.
        notices = await admin_notices(
            self._links, self._directory, self._prefs,
            lambda lang: self._t(lang, f"paused_admin_{item.channel}", name=name),
            prefer=item.channel,
        )  # fmt: skip
        await self._outbox.enqueue(notices)


def _resent(item: OutboxItem, link: ChannelLink) -> OutboxItem:
    """The same message, to the user's other messenger (its subject kept: presses edit it)."""
    return item.model_copy(update={
        "id": uuid.uuid4().hex, "channel": link.channel, "chat_id": link.chat_id,
        "is_group": False, "attempt": 0,
    })  # fmt: skip
