"""When a shared chat stops taking the bot's messages for good (the app removed from a Slack
channel or the channel archived, the bot kicked from a Telegram group or its right to post taken
away): the subscriptions posting there are paused, so nothing more is queued for a chat that
refuses it, and the admins, who can fix it, are told once. ``/subscriptions`` shows them paused;
a new subscription "to here" typed in that chat resumes them (``AdminService``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.alerts.subscriptions import Subscriptions, Target, TargetKind
from bot.core import Catalogue, Channel
from bot.crm import Directory
from bot.delivery import DeliveryError, Outbox, OutboxItem
from bot.people import Links, Prefs, admin_notices

log = logging.getLogger(__name__)

SHARED_KIND: dict[Channel, TargetKind] = {"slack": "slack_channel", "telegram": "telegram_chat"}


@dataclass(frozen=True, slots=True, eq=False)
class ChatGuard:
    _subscriptions: Subscriptions
    _links: Links
    _prefs: Prefs
    _directory: Directory
    _outbox: Outbox
    _t: Catalogue

    async def on_permanent_failure(self, item: OutboxItem, error: DeliveryError) -> None:
        if item.recipient is not None or not error.gone:
            return  # a person's chat (``people.LinkGuard``), or this one message was refused
        target = Target(kind=SHARED_KIND[item.channel], id=item.chat_id)
        paused = await self._subscriptions.set_paused(target, True)
        if not paused:
            return  # already paused: the admins were told when it was
        ids = ", ".join(s.id for s in paused)
        log.warning("%s chat %s refuses the bot (%s): paused %s", item.channel, item.chat_id,
                    error.reason, ids)  # fmt: skip
        notices = await admin_notices(
            self._links, self._directory, self._prefs,
            lambda lang: self._t(lang, f"chat_paused_{item.channel}", chat=item.chat_id, ids=ids),
            prefer=item.channel,
        )  # fmt: skip
        await self._outbox.enqueue(notices)
