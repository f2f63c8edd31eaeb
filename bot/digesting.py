"""Digest mode at work: alerts of digest subscriptions kept as lines in the reader's language,
and each recipient's lines sent as one message once their digest time has come.

The lines are kept by ``bot.digests.DigestBook``; this service decides what a line says and
when, and to which messengers, a digest goes.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from bot.alerts import STATUS_KINDS, Alert
from bot.cards import Reader
from bot.clock import Clock
from bot.delivery import Outbox, OutboxItem
from bot.digests import SHOWN_ITEMS, DigestBook, Pending, PendingItem
from bot.directory import Directory
from bot.holding import HeldMessages
from bot.i18n import DEFAULT_LANG, Catalogue
from bot.reach import Reach
from bot.reminding import ReminderService
from bot.routing import Recipient
from bot.store import Store
from bot.subscriptions import Subscriptions
from bot.views import DigestCard, DigestItem


class DigestService:
    def __init__(
        self,
        store: Store,
        directory: Directory,
        reach: Reach,
        held: HeldMessages,
        subscriptions: Subscriptions,
        reminders: ReminderService,
        outbox: Outbox,
        clock: Clock,
        t: Catalogue,
    ) -> None:
        self._book = DigestBook(store)
        self._directory = directory
        self._reach = reach
        self._held = held
        self._subscriptions = subscriptions
        self._reminders = reminders
        self._outbox = outbox
        self._clock = clock
        self._t = t

    async def keep(self, alert: Alert, recipient: Recipient) -> None:
        """Keep the alert for ``recipient``'s next digest, as a line in their language."""
        chat = recipient.shared
        if chat is None:
            assert recipient.amo_user_id is not None
            who = f"user:{recipient.amo_user_id}"
            reader = await self._reminders.reader(recipient.amo_user_id)
        else:
            who = f"{chat.kind}:{chat.id}"
            account = await self._directory.account()
            reader = Reader(lang=recipient.lang or DEFAULT_LANG, timezone=account.timezone)
        fields = recipient.fields if chat is not None else None
        await self._book.add(who, reader.lang, await self._line(alert, reader, fields))

    async def _line(
        self, alert: Alert, reader: Reader, fields: tuple[str, ...] | None
    ) -> PendingItem:
        """One line: the time, what happened, to what (as much as a shared chat may see)."""
        t, lang = self._t, reader.lang
        actor = await self._directory.user(alert.actor_id) if alert.actor_id else None
        owner = await self._directory.user(alert.responsible_id) if alert.responsible_id else None
        head = t(lang, f"alert_{alert.kind.value}", actor=actor.name if actor else "",
                 owner=owner.name if owner else "")  # fmt: skip
        deal = alert.deal
        if alert.kind.about_deal and deal is not None:
            may_name = fields is None or "name" in fields
            title = deal.name if may_name and deal.name else t(lang, "deal_untitled")
            if (fields is None or "status" in fields) and alert.kind in STATUS_KINDS:
                _, status = await self._directory.status_name(deal.pipeline_id, deal.status_id)
                title += f" → {status}"
        else:
            title = alert.task.text[:120] if alert.task is not None else ""
        at = dt.datetime.fromtimestamp(alert.occurred_at, ZoneInfo(reader.timezone))
        text = f"{at:%H:%M} {head}: {title}"
        url = self._directory.deal_url(deal.id) if deal is not None else None
        return PendingItem(at=alert.occurred_at, text=text, url=url)

    async def send_due(self) -> int:
        """The scheduled job: every recipient whose digest time has come gets one message with
        what was kept for them since the last one. Returns how many digests were queued."""
        settings = await self._subscriptions.settings()
        account = await self._directory.account()
        now = self._clock.now()
        sent = 0
        for who in await self._book.waiting():
            kind, _, ident = who.partition(":")
            if kind == "user":
                timezone = (await self._reminders.reader(int(ident))).timezone
            else:
                timezone = account.timezone
            if not await self._book.due(who, now, timezone, settings.digest_at):
                continue
            pending = await self._book.take(who)
            if pending is None or not pending.items:
                continue
            card = self._card(pending)
            try:
                if kind == "user":
                    links = await self._reach.links(int(ident))
                    await self._held.send(int(ident), [
                        OutboxItem(channel=x.channel, chat_id=x.chat_id,
                                   recipient=x.amo_user_id, card=card)
                        for x in links
                    ])  # fmt: skip
                else:
                    channel = "slack" if kind == "slack_channel" else "telegram"
                    await self._outbox.enqueue([
                        OutboxItem(channel=channel, chat_id=ident,
                                   is_group=ident.startswith("-"), card=card)
                    ])  # fmt: skip
            except Exception:
                for item in pending.items:  # back for the next round rather than lost
                    await self._book.add(who, pending.lang, item)
                raise
            sent += 1
        return sent

    def _card(self, pending: Pending) -> DigestCard:
        t, lang = self._t, pending.lang
        items = sorted(pending.items, key=lambda i: i.at)
        shown = items[-SHOWN_ITEMS:]  # the latest, when there are too many
        more = len(items) - len(shown) + pending.dropped
        return DigestCard(
            heading=t(lang, "digest_heading", count=len(items) + pending.dropped),
            items=tuple(DigestItem(text=i.text, url=i.url) for i in shown),
            more=t(lang, "digest_more", count=more) if more else None,
        )
