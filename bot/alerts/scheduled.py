"""Reports on a schedule: a ``report`` subscription sends the ``/report`` chart and its caption to
a chat or to people, daily or weekly, at a time in the account's timezone (Monday 09:00 unless
the admin said otherwise), covering the day or the week before.

Once per period whatever the replicas and crashes, by construction: a subscription's next
sending is one entry of the ``scheduled-reports`` due queue, put with ``Store.put_due_once``
under a key of the subscription and the moment. Whichever replica claims it draws the report
and queues it with a once-key of its own (``Outbox.enqueue``, ``HeldMessages.send``), then puts
the next period's entry, then completes the claim: a crash anywhere redoes only what is not
marked done. A periodic job puts any entry missing (a subscription imported on another
replica). An entry claimed more than ``LATE_S`` after its moment (the service was down) is
skipped with a log line and the next one planned: Monday's report on Monday night would
only be noise.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.alerts.routing import Router
from bot.alerts.subscriptions import ReportSchedule, Subscription, Subscriptions
from bot.core import (
    DEFAULT_LANG,
    Channel,
    Clock,
    FailureNote,
    Group,
    Reader,
    Reply,
    TextMessage,
    Value,
    wall_clock,
)
from bot.crm import Directory
from bot.delivery import Outbox, OutboxItem
from bot.people import HeldMessages, Reach
from bot.reports import ReportService
from bot.store import DueEntry, DueItem, Store, work_due

log = logging.getLogger(__name__)

QUEUE = "scheduled-reports"
LATE_S = 3 * 3600  # later than this after its moment, a report is skipped
RETRY_S = 300.0  # a report that failed (amoCRM down, the store full) is tried again after this
ONCE_TTL_S = 2 * 86400.0  # a sending's once-keys outlive its moment by this much
BATCH = 20


def next_moment(schedule: ReportSchedule, timezone: str, after: float) -> int:
    """The schedule's first sending strictly after ``after`` (wall-clock, DST-safe)."""
    zone = ZoneInfo(timezone)
    hour, minute = (int(x) for x in schedule.at.split(":"))
    day = dt.datetime.fromtimestamp(after, zone).date()
    while True:  # at most eight days ahead
        if schedule.every == "daily" or day.weekday() == schedule.weekday:
            moment = wall_clock(day, dt.time(hour, minute), zone)
            if moment > after:
                return moment
        day += dt.timedelta(days=1)


class Sending(Value):
    """One entry of the queue: this subscription's report due at ``moment``."""

    subscription_id: str
    moment: int


@dataclass(frozen=True, slots=True, eq=False)
class ScheduledReports:
    _store: Store
    _subscriptions: Subscriptions
    _reports: ReportService
    _directory: Directory
    _reach: Reach
    _held: HeldMessages
    _outbox: Outbox
    _clock: Clock
    _failures: FailureNote  # the sending loop's (one per service, kept across calls)

    async def plan(self, subscription: Subscription, *, after: float | None = None) -> int | None:
        """Put the subscription's next sending (after now, or ``after``) into the queue, once;
        returns its moment (None: not a report subscription)."""
        schedule = subscription.report
        if schedule is None:
            return None
        now = self._clock.now()
        timezone = (await self._directory.account()).timezone
        moment = next_moment(schedule, timezone, now if after is None else after)
        sending = Sending(subscription_id=subscription.id, moment=moment)
        entry = DueEntry(item_id=f"{subscription.id}:{moment}", due_at=moment,
                         payload=sending.model_dump_json())  # fmt: skip
        key = f"report-plan:{subscription.id}:{moment}"
        await self._store.put_due_once(QUEUE, [entry], key, moment - now + ONCE_TTL_S)
        return moment

    async def send_due(self) -> int:
        """The loop: send the reports whose moment has come; returns how many were claimed."""
        return await work_due(
            self._store, QUEUE, self._clock.now(), BATCH, RETRY_S, self._send,
            clock=self._clock.now, failures=self._failures,
        )  # fmt: skip

    async def plan_all(self) -> int:
        """The job: every report subscription has its next sending queued; returns how many
        report subscriptions there are."""
        planned = 0
        for subscription in await self._subscriptions.configured():
            if await self.plan(subscription) is not None:
                planned += 1
        return planned

    async def _send(self, item: DueItem) -> None:
        sending = Sending.model_validate_json(item.payload)
        subscription = next(
            (s for s in await self._subscriptions.configured() if s.id == sending.subscription_id),
            None,
        )
        if subscription is None or subscription.report is None:
            log.info("report of %s not sent: unsubscribed", sending.subscription_id)
            await self._store.complete_due(item)
            return
        timezone = (await self._directory.account()).timezone
        if next_moment(subscription.report, timezone, sending.moment - 1) != sending.moment:
            # The schedule changed since (an import kept the id): the job plans the new one.
            await self._store.complete_due(item)
            return
        now = self._clock.now()
        late = now - sending.moment
        if subscription.paused:
            log.info("report of %s not sent: its chat refuses the bot", subscription.id)
        elif late > LATE_S:
            log.warning("report of %s due %s skipped: %.0f min late (the service was down?)",
                        subscription.id, dt.datetime.fromtimestamp(sending.moment, dt.UTC),
                        late / 60)  # fmt: skip
        else:
            await self._deliver(subscription, sending.moment, timezone)
        await self.plan(subscription, after=max(now, sending.moment))
        await self._store.complete_due(item)

    async def _deliver(self, subscription: Subscription, moment: int, timezone: str) -> None:
        assert subscription.report is not None
        days = subscription.report.days
        once = f"report:{subscription.id}:{moment}"
        target = subscription.target
        if target.shared:
            reader = Reader(lang=subscription.lang or DEFAULT_LANG, timezone=timezone)
            reply = await self._reports.chart(reader, days, await self._group(subscription))
            channel: Channel = "slack" if target.kind == "slack_channel" else "telegram"
            chat = target.id or ""
            item = _item(channel, chat, reply, recipient=None, is_group=chat.startswith("-"))
            await self._outbox.enqueue([item], once=once, once_ttl_s=ONCE_TTL_S)
            return
        drawn: dict[tuple[Reader, int | None], Reply] = {}  # one chart per language and group
        for user_id, group in await self._people(subscription):
            links = await self._reach.links(user_id)
            if not links:
                continue  # not linked, or every messenger refuses them: nothing to draw
            reader = await self._reach.reader(user_id)
            key = (reader, group.id if group else None)
            if key not in drawn:
                drawn[key] = await self._reports.chart(reader, days, group)
            items = [_item(x.channel, x.chat_id, drawn[key], recipient=user_id) for x in links]
            await self._held.send(user_id, items, once=f"{once}:{user_id}:{key[1]}",
                                  once_ttl_s=ONCE_TTL_S)  # fmt: skip

    async def _group(self, subscription: Subscription) -> Group | None:
        """The group the report is about (its ``group:`` filter); None: the whole account."""
        ids = subscription.filters.group_ids
        return await self._named(ids[0]) if ids else None

    async def _named(self, group_id: int) -> Group:
        account = await self._directory.account()
        name = next((g.name for g in account.groups if g.id == group_id), str(group_id))
        return Group(id=group_id, name=name)

    async def _people(self, subscription: Subscription) -> list[tuple[int, Group | None]]:
        """Who gets it, each with the group their report is about: the subscription's group,
        else a supervisor's own group, else the whole account."""
        target, chosen = subscription.target, await self._group(subscription)
        users = await self._directory.active_users()
        if target.kind == "user" and target.id:
            return [(int(target.id), chosen)]
        if target.kind == "group" and target.id:
            return [(u.id, chosen) for u in users if u.group_id == int(target.id)]
        if target.kind != "supervisors":
            return []  # responsible and author name nobody without an event
        router = Router([], users, await self._subscriptions.settings())
        if target.id:
            groups = [int(target.id)]
        else:
            groups = [g.id for g in (await self._directory.account()).groups]
        found: list[tuple[int, Group | None]] = []
        for group_id in groups:
            about = chosen or await self._named(group_id)
            found += [(u, about) for u in router.supervisors(group_id)]
        return found


def _item(
    channel: Channel, chat_id: str, reply: Reply, *, recipient: int | None, is_group: bool = False
) -> OutboxItem:
    return OutboxItem(channel=channel, chat_id=chat_id, is_group=is_group, recipient=recipient,
                      card=TextMessage(text=reply.text), file=reply.file)  # fmt: skip
