"""Task reminders: one pending entry per (task, recipient) in the store's due index, turned into
notifications by a scheduler job, and kept in step with every change of the task.

When a task changes anywhere (a button here, the amoCRM UI, a robot), its pending reminder is
recomputed and every delivered copy of its messages is edited to say what happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import (
    DEFAULT_LANG,
    Account,
    Clock,
    CrmEvent,
    CrmEventKind,
    Deal,
    FailureNote,
    Reader,
    Task,
    TaskCard,
    User,
    Value,
    wall_clock,
)
from bot.crm import Directory
from bot.delivery import MessageRef, Outbox, OutboxItem
from bot.people import (
    AccountPrefs,
    ChannelLink,
    HeldMessages,
    Links,
    Prefs,
    Reach,
    UserPrefs,
    chosen_hours,
    timezone,
    within_hours,
    working_hours,
)
from bot.store import (
    Cached,
    ClaimedAhead,
    Drawn,
    DueEntry,
    DueItem,
    OncePut,
    Store,
    work_due_together,
)
from bot.tasks.cards import CardFactory, OutcomeLine
from bot.tasks.elsewhere import OtherMessenger
from bot.tasks.schedule import (
    DEFAULT_LEAD_MINUTES,
    Reminder,
    ReminderKind,
    ReminderPolicy,
    is_all_day,
    next_reminder,
)

log = logging.getLogger(__name__)

REMINDER_QUEUE = "reminders"
RETRY_S = 60.0  # a reminder that failed is tried again after this
# A burst (many tasks due at one moment) is claimed in large batches, and each batch is fired
# together: its reads in one go, its cards drawn, then its notifications and next reminders in a
# few writes for all of them (bench/scheduler.py: a write per reminder, even grouped by commit,
# was most of a burst's lateness).
FIRE_BATCH = 500
# Reminders due this soon are claimed and drawn before their moment, at most this many at once:
# a burst of 10,000 due in one second is then written at its moment, not drawn then (drawing is
# most of its cost: bench/scheduler.py). Shorter than a claim's lease by more than a renewal
# period, so that a loop waiting for another replica's drawn reminders never spins.
DRAW_AHEAD_S = 5.0
DRAW_AHEAD_MOST = 20_000
WRITES_AT_ONCE = 4  # parts of a burst being written at one time
LATE_S = 5 * 60
FIRED_TTL_S = 3 * 24 * 3600

_OUTCOMES = {
    CrmEventKind.TASK_COMPLETED: "completed",
    CrmEventKind.TASK_DELETED: "deleted",
    CrmEventKind.TASK_DEADLINE_CHANGED: "deadline",
    CrmEventKind.TASK_RESPONSIBLE_CHANGED: "reassigned",
}


class PendingReminder(Value):
    task_id: int
    user_id: int
    reminder: Reminder

    def payload(self) -> str:
        """What its due entry keeps: the task and person are in the item id and the moment is
        its due time, so only the kind (and the lead) is left; a million pending reminders
        take about 90 bytes less each than as JSON (bench/scheduler.py)."""
        r = self.reminder
        return r.kind.value if r.minutes_before is None else f"{r.kind.value}:{r.minutes_before}"

    @classmethod
    def of(cls, item: DueItem) -> PendingReminder:
        if item.payload.startswith("{"):  # put as JSON by a version before the short form
            return cls.model_validate_json(item.payload)
        task_id, user_id = item.item_id.split(":")
        kind, _, minutes = item.payload.partition(":")
        reminder = Reminder(at=int(item.due_at), kind=ReminderKind(kind),
                            minutes_before=int(minutes) if minutes else None)  # fmt: skip
        return cls(task_id=int(task_id), user_id=int(user_id), reminder=reminder)


@dataclass(slots=True)
class FireBatch:
    """What one claim of reminders reads once for all of them: its people (on first need), its
    tasks and their deals (in one read each, before the first fires)."""

    pending: dict[str, PendingReminder] = field(default_factory=dict)  # by item id
    people: dict[int, asyncio.Future[Recipient]] = field(default_factory=dict)
    tasks: dict[int, Cached[Task]] = field(default_factory=dict)
    deals: dict[int, Cached[Deal]] = field(default_factory=dict)


class Recipient(Value):
    """What firing a reminder needs to know of its person, read once per batch of reminders
    (a burst holds many of one person's tasks): where it goes, how it reads, when it may go."""

    links: tuple[ChannelLink, ...]
    reader: Reader
    actor: User | None
    policy: ReminderPolicy
    held_until: int | None
    repeat_after_min: int | None  # the account's other_messenger_after_min


def subject(task_id: int) -> str:
    return f"task:{task_id}"


class ReminderService:
    def __init__(
        self,
        store: Store,
        directory: Directory,
        links: Links,
        prefs: Prefs,
        reach: Reach,
        held: HeldMessages,
        cards: CardFactory,
        outbox: Outbox,
        clock: Clock,
        elsewhere: OtherMessenger,
    ) -> None:
        self._fired_observers: list[Callable[[float], None]] = []
        self._elsewhere = elsewhere
        self._failures = FailureNote(log, "reminders")
        self._store = store
        self._directory = directory
        self._links = links
        self._prefs = prefs
        self._reach = reach
        self._held = held
        self._cards = cards
        self._outbox = outbox
        self._clock = clock
        self._ahead: ClaimedAhead[_Fire] = ClaimedAhead(
            store, REMINDER_QUEUE, ahead_s=DRAW_AHEAD_S, most=DRAW_AHEAD_MOST, clock=clock.now
        )

    async def reader(self, amo_user_id: int) -> Reader:
        return await self._reach.reader(amo_user_id)

    async def todays_tasks(self, amo_user_id: int, timezone: str) -> list[Task]:
        """The person's open tasks due today (in ``timezone``) or overdue, by deadline."""
        zone = ZoneInfo(timezone)
        tomorrow = datetime.fromtimestamp(self._clock.now(), zone).date() + timedelta(days=1)
        end_of_today = wall_clock(tomorrow, datetime.min.time(), zone)
        return [
            x
            for x in await self._store.list_open_tasks(amo_user_id)
            if x.complete_till < end_of_today
        ]

    async def reschedule(self, task: Task, *, previous_responsible: int | None = None) -> None:
        """Put the task's next reminder for its responsible user (or none, if there is none)."""
        if previous_responsible is not None and previous_responsible != task.responsible_user_id:
            await self._store.cancel_due(REMINDER_QUEUE, f"{task.id}:{previous_responsible}")
        await self.reschedule_many([task])

    async def reschedule_many(self, tasks: Sequence[Task]) -> None:
        """``reschedule`` for many tasks (a person's after ``/remind`` or ``/tz``, a bulk load):
        each person's links and reminder policy are read once, and the reminders are put in one
        write."""
        now = int(self._clock.now())
        account = await self._directory.account()
        policies: dict[int, ReminderPolicy | None] = {}  # None: not linked, nothing to plan
        entries: list[DueEntry] = []
        gone: list[str] = []
        for task in tasks:
            user_id = task.responsible_user_id
            if user_id not in policies:
                linked = await self._links.of_user(user_id)
                policies[user_id] = await self.policy(user_id) if linked else None
            policy = policies[user_id]
            reminder = (
                None
                if task.is_completed or policy is None
                else next_for(task, policy, account, after=now)
            )
            item_id = f"{task.id}:{user_id}"
            if reminder is None:
                gone.append(item_id)
                continue
            pending = PendingReminder(task_id=task.id, user_id=user_id, reminder=reminder)
            entries.append(
                DueEntry(item_id=item_id, due_at=reminder.at, payload=pending.payload())
            )
        await self._store.put_due_many(REMINDER_QUEUE, entries)
        for item_id in gone:
            await self._store.cancel_due(REMINDER_QUEUE, item_id)

    async def policy(self, amo_user_id: int) -> ReminderPolicy:
        """The person's reminder times, timezone and working hours (theirs, else the
        account's)."""
        prefs = await self._prefs.get(amo_user_id)
        account = await self._directory.account()
        return reminder_policy(prefs, account, await self._prefs.account())

    async def in_working_hours(self, amo_user_id: int, at: int) -> int:
        """``at``, or the person's next working start if it falls outside the hours they or an
        admin set (none set: ``at``, as before there were working hours to set)."""
        prefs = await self._prefs.get(amo_user_id)
        hours = chosen_hours(prefs, await self._prefs.account())
        if hours is None:
            return at
        return within_hours(at, hours, timezone(prefs, await self._directory.account()))

    async def reschedule_user(self, amo_user_id: int) -> None:
        """After linking or a change of ``/remind`` or ``/tz``: every open task of the user."""
        await self.reschedule_many(await self._store.list_open_tasks(amo_user_id))

    async def on_events(self, events: Sequence[CrmEvent]) -> None:
        """The event listener: recompute reminders and edit the copies of changed tasks."""
        for event in events:
            if event.entity_kind != "task":
                continue
            previous = event.previous_task
            if event.task is not None:
                await self.reschedule(
                    event.task,
                    previous_responsible=previous.responsible_user_id if previous else None,
                )
            elif previous is not None:
                await self._store.cancel_due(
                    REMINDER_QUEUE, f"{previous.id}:{previous.responsible_user_id}"
                )
            outcome_kind = _OUTCOMES.get(event.kind)
            if outcome_kind is not None:
                await self._edit_copies(event, outcome_kind)

    async def _edit_copies(self, event: CrmEvent, kind: str) -> None:
        task = event.task or event.previous_task
        if task is None:
            return
        actor = await self._directory.user(event.actor_id) if event.actor_id else None
        assignee = await self._directory.user(task.responsible_user_id)
        outcome = OutcomeLine(
            kind=kind,
            actor=actor.name if actor else None,
            via=event.via,
            when=task.complete_till if kind == "deadline" else None,
            assignee=assignee.name if assignee else None,
        )
        now = int(self._clock.now())
        deal = await self._deal_of(task)

        async def card_for(ref: MessageRef) -> TaskCard | None:
            if kind == "reassigned" and ref.recipient == task.responsible_user_id:
                return None  # the new responsible's copies are theirs to act on
            reader = await self.reader(ref.recipient) if ref.recipient else await self._default()
            return await self._cards.task_card(task, reader, now, deal=deal, outcome=outcome)

        await self._outbox.edit_everywhere(subject(task.id), card_for)

    async def _default(self) -> Reader:
        """For a shared chat, which has no one reader: the account's timezone."""
        account = await self._directory.account()
        return Reader(lang=DEFAULT_LANG, timezone=account.timezone)

    async def _deal_of(self, task: Task) -> Deal | None:
        if task.deal_id is None:
            return None
        cached = await self._store.get_deal(task.deal_id)
        return cached.value if cached else None

    def observe_fired(self, observer: Callable[[float], None]) -> None:
        """Call ``observer`` with the lateness (seconds) of each reminder as it fires."""
        self._fired_observers.append(observer)

    async def fire_due(self, limit: int = FIRE_BATCH) -> int:
        """Turn due reminders into notifications and put each task's next one; returns how many
        were written or claimed. Reminders due within ``DRAW_AHEAD_S`` are claimed and drawn
        before their moment, so that at their moment only their writes are left."""
        now = self._clock.now()
        written = await self._fire_drawn(now)
        claimed = await work_due_together(
            self._store, REMINDER_QUEUE, now, limit, RETRY_S,
            lambda items: self._fire_all(items, int(now)), clock=self._clock.now,
            failures=self._failures,
        )  # fmt: skip
        if not claimed:
            claimed = await self._draw_ahead(now, limit)
        return written + claimed + await self._elsewhere.fire_due(limit, self._failures)

    async def _draw_ahead(self, now: float, limit: int) -> int:
        items = await self._ahead.claim(now, limit)
        if not items:
            return 0
        try:
            fires, failed = await self._draw_all(items, now)
        except Exception as exc:  # the reads: none drawn, all tried again after the pause
            fires, failed = [], [(item, exc) for item in items]
        self._ahead.hold([(fire.item, fire) for fire in fires])
        for item, why in failed:
            self._failures.failed(why, item.item_id)
        if failed:
            with contextlib.suppress(Exception):  # else the claims run out after the lease
                await self._store.extend_claims(
                    [item for item, _ in failed], self._clock.now() + RETRY_S
                )
        return len(items)

    async def _fire_drawn(self, now: float) -> int:
        """Write the reminders drawn ahead whose moment has come (and which nothing changed
        since: see ``ClaimedAhead``)."""
        drawn = self._ahead.take_due(now)
        if not drawn:
            return 0
        # In claim-sized parts, a few at once: the store works on one part while the next is
        # sent (bench/scheduler.py). Every notification is queued before any next reminder.
        gate = asyncio.Semaphore(WRITES_AT_ONCE)

        async def notify(part: Sequence[Drawn[_Fire]]) -> list[_Fire]:
            async with gate:
                fires = [d.prepared for d in await self._ahead.still_ours(part)]
                await self._notify(fires)
                return fires

        parts = [drawn[first : first + FIRE_BATCH] for first in range(0, len(drawn), FIRE_BATCH)]
        done = await asyncio.gather(*(notify(part) for part in parts), return_exceptions=True)
        # What was queued is followed up even if a part failed; that part's claims run out and
        # come back (its once-keys say what was queued).
        await self._follow_up(
            [fire for fires in done if isinstance(fires, list) for fire in fires]
        )
        for failed in done:
            if isinstance(failed, BaseException):
                raise failed
        self._failures.worked()
        return len(drawn)

    async def hand_back(self) -> None:
        """On a stop: the reminders drawn ahead are given back, for the next claimer."""
        await self._ahead.hand_back()

    async def _read_ahead(self, items: Sequence[DueItem], batch: FireBatch) -> None:
        batch.pending = {x.item_id: PendingReminder.of(x) for x in items}
        batch.tasks = await self._store.get_tasks([p.task_id for p in batch.pending.values()])
        deal_ids = [c.value.deal_id for c in batch.tasks.values()]
        batch.deals = await self._store.get_deals([i for i in deal_ids if i is not None])

    async def _recipient(self, user_id: int, batch: FireBatch) -> Recipient:
        # One read per person and claim, shared by the workers that need it at once (each
        # reading it for itself took more store round trips than the reminders' writes).
        found = batch.people.get(user_id)
        if found is None:
            found = batch.people[user_id] = asyncio.ensure_future(self._read_recipient(user_id))
        if found.done():  # read already: most of a burst, without a wrapper per reminder
            return found.result()
        return await asyncio.shield(found)

    async def _read_recipient(self, user_id: int) -> Recipient:
        return Recipient(
            links=tuple(await self._reach.links(user_id)),
            reader=await self.reader(user_id),
            actor=await self._directory.user(user_id),
            policy=await self.policy(user_id),
            held_until=await self._reach.held_until(user_id),
            repeat_after_min=(await self._prefs.account()).other_messenger_after_min,
        )

    async def wait_due(self, idle_s: float) -> None:
        """The reminder loop's pause: until the next reminder is due to be drawn (or, drawn,
        to be written), ``idle_s`` at most."""
        await self._ahead.wait(idle_s)

    async def _fire_all(
        self, items: Sequence[DueItem], now: int
    ) -> list[tuple[DueItem, Exception]]:
        """A claim's reminders together: read, drawn, then written in a few statements for all
        (the notifications with their once-keys, then the next reminders). Each step is safe to
        do again after a crash: a notification's once-key is marked in its write, and a next
        reminder replaces the claimed entry, so the claim needs no completing."""
        fires, failed = await self._draw_all(items, now)
        await self._notify(fires)
        await self._follow_up(fires)
        return failed

    async def _draw_all(
        self, items: Sequence[DueItem], now: float
    ) -> tuple[list[_Fire], list[tuple[DueItem, Exception]]]:
        """The claim's reminders drawn, each as of its moment (or ``now``, if that is later);
        those no longer due to anyone are completed."""
        batch = FireBatch()
        await self._read_ahead(items, batch)
        failed: list[tuple[DueItem, Exception]] = []
        fires: list[_Fire] = []
        for item in items:
            try:
                fire = await self._draw(item, int(max(now, item.due_at)), batch)
            except Exception as exc:  # this one's data, not the batch's: the rest go on
                failed.append((item, exc))
                continue
            if fire is None:
                await self._store.complete_due(item)  # no longer due: done, handed over, unlinked
            else:
                fires.append(fire)
        return fires, failed

    async def _notify(self, fires: Sequence[_Fire]) -> None:
        """The notifications of ``fires``, each queued with its once-key in one write."""
        # Each person on hold gets a release marker before their kept items, as one at a time.
        await self._held.put_releases([f.release for f in fires if f.release is not None])
        written = iter(await self._store.put_due_once_many([p for f in fires for p in f.puts]))
        now = self._clock.now()
        for fire in fires:
            if any([next(written) for _ in fire.puts]):
                self._outbox.woken(fire.channels)
                for observe in self._fired_observers:
                    observe(now - fire.reminder_at)

    async def _follow_up(self, fires: Sequence[_Fire]) -> None:
        """What follows the notifications of ``fires``: their repeats in the other messenger
        and their next reminders, which replace the claimed entries."""
        # Planned whether or not this step queued it: a crash right after queuing comes back
        # here with nothing written, and the plan has a once-key of its own. At once, as each
        # is a read and a write of its own where the account repeats reminders elsewhere.
        await asyncio.gather(*(
            self._elsewhere.plan(
                fire.task_id, fire.user_id, fire.reminder_at, fire.links, fire.repeat_after_min
            )
            for fire in fires
            if fire.repeat_after_min is not None  # else no task per reminder for nothing
        ))  # fmt: skip
        await self._store.put_due_many(REMINDER_QUEUE, [f.following for f in fires if f.following])
        for fire in fires:
            if fire.following is None:
                await self._store.complete_due(fire.item)

    async def _draw(self, item: DueItem, now: int, batch: FireBatch) -> _Fire | None:
        """What firing ``item`` writes, or None if it is no longer due to anyone."""
        pending = batch.pending[item.item_id]
        cached = batch.tasks.get(pending.task_id)
        task = cached.value if cached else None
        person = await self._recipient(pending.user_id, batch)
        links = person.links
        if (
            task is None
            or task.is_completed
            or task.responsible_user_id != pending.user_id
            or not links
        ):
            return None
        reminder = pending.reminder
        deal_cached = batch.deals.get(task.deal_id) if task.deal_id is not None else None
        deal = deal_cached.value if deal_cached else None
        # A reminder that fires late (the service was down) shows the task as it is now,
        # not "due in 15 min" an hour after the deadline.
        shown = reminder if now - reminder.at <= LATE_S else None
        card = await self._cards.task_card(
            task, person.reader, now, deal=deal, reminder=shown, actor=person.actor
        )
        # Every messenger the user takes: a press in one edits the copy in the other.
        sent = [
            OutboxItem(
                channel=link.channel, chat_id=link.chat_id, recipient=pending.user_id,
                subject=subject(task.id), notice="reminder", card=card,
                deadline=task.complete_till,
            )
            for link in links
        ]  # fmt: skip
        # Marked in the same write as it is queued: after a crash the claim comes back and the
        # reminder is queued if, and only if, it was not.
        fired_key = f"reminder:{task.id}:{pending.user_id}:{reminder.at}"
        release: DueEntry | None = None
        if person.held_until is None:
            puts = self._outbox.once_puts(sent, fired_key, FIRED_TTL_S)
        else:
            release, put = self._held.held_puts(
                pending.user_id, sent, person.held_until, task_id=task.id, reminder=True,
                once=fired_key, once_ttl_s=FIRED_TTL_S,
            )  # fmt: skip
            puts = [put]
        # From now, not from this reminder: one that fired late must not drag past ones after it.
        account = await self._directory.account()
        following = next_for(task, person.policy, account, after=max(reminder.at, now))
        nxt = (
            None
            if following is None
            else DueEntry(
                item_id=item.item_id,
                due_at=following.at,
                payload=PendingReminder(
                    task_id=task.id, user_id=pending.user_id, reminder=following
                ).payload(),
            )
        )
        return _Fire(
            item=item, task_id=task.id, user_id=pending.user_id, reminder_at=reminder.at,
            links=links, repeat_after_min=person.repeat_after_min, puts=tuple(puts),
            release=release, following=nxt,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Fire:
    """One reminder of a claim, drawn and ready to write."""

    item: DueItem
    task_id: int
    user_id: int
    reminder_at: int
    links: tuple[ChannelLink, ...]
    repeat_after_min: int | None
    puts: tuple[OncePut, ...]  # its notifications (or kept items), each with its once-key
    release: DueEntry | None  # the person is on hold: when their kept items go
    following: DueEntry | None  # the next reminder, replacing the claimed entry

    @property
    def channels(self) -> list[str]:
        return [link.channel for link in self.links]


def next_for(
    task: Task, policy: ReminderPolicy, account: Account, *, after: int
) -> Reminder | None:
    """The task's first reminder after ``after`` for a person with ``policy``."""
    all_day = is_all_day(task.complete_till, account.timezone)
    return next_reminder(task.complete_till, policy, after=after, all_day=all_day)


def reminder_policy(
    prefs: UserPrefs, account: Account, account_prefs: AccountPrefs
) -> ReminderPolicy:
    lead = DEFAULT_LEAD_MINUTES if prefs.lead_minutes is None else prefs.lead_minutes
    hours = working_hours(prefs, account_prefs)
    return ReminderPolicy.of(lead, timezone(prefs, account), hours)
