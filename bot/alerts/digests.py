"""Digest mode at work: alerts kept as lines in the reader's language, and each recipient's
lines sent as one message once their digest time has come.

Two things make an alert wait for a digest: a digest subscription (sent at the account's
digest time), and a person's own ``/digest`` (every so many minutes, or daily at their time
together with the day's tasks: the morning agenda). Reminders never wait for a digest.

The lines are kept by ``bot.alerts.pending.DigestBook``; this service decides what a line says and
when, and to which messengers, a digest goes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.alerts.kinds import STATUS_KINDS, Alert
from bot.alerts.pending import (
    SHOWN_ITEMS,
    DigestBook,
    Pending,
    PendingItem,
    last_moment,
    sent_key,
)
from bot.alerts.routing import Recipient
from bot.alerts.subscriptions import Subscriptions
from bot.core import DEFAULT_LANG, Catalogue, Clock, DigestCard, DigestItem, Reader, Task
from bot.crm import Directory
from bot.delivery import Outbox, OutboxItem
from bot.people import HeldMessages, Prefs, Reach, UserPrefs
from bot.store import Store
from bot.tasks import ReminderService

# A morning agenda more than this late (the service was down at its time) is skipped.
AGENDA_LATE_S = 3 * 3600
AGENDA_NS = "agenda_sent"
SENT_KEY_TTL_S = 2 * 86400.0  # a digest's once-key: far past a crashed tick's next try


@dataclass(frozen=True, slots=True, eq=False)
class DigestService:
    _store: Store
    _prefs: Prefs
    _directory: Directory
    _reach: Reach
    _held: HeldMessages
    _subscriptions: Subscriptions
    _reminders: ReminderService
    _outbox: Outbox
    _clock: Clock
    _t: Catalogue

    @property
    def _book(self) -> DigestBook:
        # The book holds nothing but the store, so one per use is the same book.
        return DigestBook(self._store)

    async def personal(self, amo_user_id: int) -> bool:
        """Does the person take their alerts as a digest (``/digest``)?"""
        return (await self._prefs.get(amo_user_id)).digest

    async def flush(self, amo_user_id: int) -> int:
        """Send what was kept for the person at once (they switched their digest off); returns
        how many alerts it held."""
        who = f"user:{amo_user_id}"
        pending = await self._book.peek(who)
        if pending is None or not pending.items:
            return 0
        await self._to_person(amo_user_id, self._card(pending), sent_key(who, pending))
        await self._book.remove(who, pending)
        return len(pending.items)

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
        who = actor.name if actor else t(lang, "someone")
        head = t(lang, f"alert_{alert.kind.value}", actor=who, owner=owner.name if owner else "")
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
        everyone = await self._prefs.all()
        for who in await self._book.waiting():
            kind, _, ident = who.partition(":")
            if kind == "user":
                prefs = everyone.get(int(ident), UserPrefs())
                if prefs.digest_daily is not None:
                    continue  # goes with the day's tasks (``_send_agendas``)
                if prefs.digest_every_min is not None:
                    oldest = await self._book.oldest(who)
                    if oldest is None or oldest > now - prefs.digest_every_min * 60:
                        continue
                else:
                    timezone = (await self._reminders.reader(int(ident))).timezone
                    if not await self._book.due(who, now, timezone, settings.digest_at):
                        continue
            elif not await self._book.due(who, now, account.timezone, settings.digest_at):
                continue
            pending = await self._book.peek(who)
            if pending is None or not pending.items:
                continue
            card, once = self._card(pending), sent_key(who, pending)
            if kind == "user":
                await self._to_person(int(ident), card, once)
            else:
                channel = "slack" if kind == "slack_channel" else "telegram"
                item = OutboxItem(channel=channel, chat_id=ident, is_group=ident.startswith("-"),
                                  card=card)  # fmt: skip
                await self._outbox.enqueue([item], once=once, once_ttl_s=SENT_KEY_TTL_S)
            # Removed once queued: a crash in between queues the same digest, which is a no-op.
            await self._book.remove(who, pending)
            sent += 1
        return sent + await self._send_agendas(now, everyone)

    async def _send_agendas(self, now: float, everyone: dict[int, UserPrefs]) -> int:
        """At each ``/digest daily`` person's time: the day's tasks and the alerts kept since
        the last one, as one message (nothing at all on a day with neither)."""
        sent = 0
        for user_id, prefs in everyone.items():
            if prefs.digest_daily is None or not await self._reach.links(user_id):
                continue  # no daily digest, or nowhere to send it (unlinked, paused)
            reader = await self._reminders.reader(user_id)
            moment = last_moment(now, reader.timezone, f"{prefs.digest_daily:%H:%M}")
            if now - moment > AGENDA_LATE_S:
                continue  # the service was down then: tomorrow's, rather than one at night
            agenda = f"agenda:{user_id}:{moment}"
            if await self._store.get_doc(AGENDA_NS, agenda) is not None:
                continue  # another replica, or an earlier tick, sent it
            tasks = await self._reminders.todays_tasks(user_id, reader.timezone)
            who = f"user:{user_id}"
            pending = await self._book.peek(who) or Pending(lang=reader.lang)
            if tasks or pending.items:
                card = await self._agenda(reader, tasks, pending, int(now))
                # Queued once per moment and lines, then the lines removed, then marked sent:
                # a crash anywhere in between sends it once.
                await self._to_person(user_id, card, sent_key(agenda, pending))
                await self._book.remove(who, pending)
                sent += 1
            await self._store.put_doc(AGENDA_NS, agenda, "1", ttl_s=SENT_KEY_TTL_S)
        return sent

    async def _agenda(
        self, reader: Reader, tasks: list[Task], pending: Pending, now: int
    ) -> DigestCard:
        t, lang = self._t, reader.lang
        zone = ZoneInfo(reader.timezone)
        today = dt.datetime.fromtimestamp(now, zone).date()
        lines = []
        for task in tasks[:SHOWN_ITEMS]:
            due = dt.datetime.fromtimestamp(task.complete_till, zone)
            when = f"{due:%H:%M}" if due.date() == today else f"{due:%d.%m %H:%M}"
            kind = await self._directory.task_type_name(task.type_id)
            mark = "❗" if task.complete_till < now else "🕒"
            what = f"{kind}: {task.text[:120]}" if kind else task.text[:120]
            text = f"{mark} {when} {what}"
            url = self._directory.deal_url(task.deal_id) if task.deal_id else None
            lines.append(DigestItem(text=text, url=url))
        alerts = self._card(pending) if pending.items else None
        overdue = sum(1 for x in tasks if x.complete_till < now)
        heading = t(lang, "agenda_heading", tasks=len(tasks), overdue=overdue,
                    alerts=len(pending.items) + pending.dropped)  # fmt: skip
        more = len(tasks) - min(len(tasks), SHOWN_ITEMS)
        more_text = [t(lang, "agenda_more_tasks", count=more)] if more else []
        if alerts is not None and alerts.more:
            more_text.append(alerts.more)
        return DigestCard(
            heading=heading,
            items=(*lines, *(alerts.items if alerts else ())),
            more="; ".join(more_text) or None,
        )

    async def _to_person(self, user_id: int, card: DigestCard, once: str) -> None:
        links = await self._reach.links(user_id)
        items = [OutboxItem(channel=x.channel, chat_id=x.chat_id, recipient=x.amo_user_id,
                            card=card) for x in links]  # fmt: skip
        await self._held.send(user_id, items, once=once, once_ttl_s=SENT_KEY_TTL_S)

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
