"""Not acted on → the other messenger: with the account's ``other_messenger_after_min`` set, a
reminder that went to one of a person's messengers (they chose it with ``/messenger``) and that
nobody acted on for that long is repeated once in the other messenger they linked.

Durable: the repeat is a due-queue entry put with ``Store.put_due_once`` in the step that fires
the reminder (not a timer in memory), claimed by whichever replica's reminder loop comes first,
and queued with a once-key. "Acted on" is read from durable state when it comes due: a press on
the task logged since (``reports.ActivityLog``), or the task changed in amoCRM (completed,
snoozed, handed over: its ``updated_at`` moved).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core import Catalogue, Clock, FailureNote, Value
from bot.crm import Directory
from bot.delivery import OutboxItem
from bot.people import ChannelLink, HeldMessages, Links, Prefs, Reach
from bot.reports import ActivityLog
from bot.store import DueEntry, DueItem, Store, work_due
from bot.tasks.cards import CardFactory

ELSEWHERE_QUEUE = "reminders-elsewhere"
RETRY_S = 60.0  # a repeat that failed is tried again after this
ONCE_TTL_S = 3 * 24 * 3600


class Unanswered(Value):
    task_id: int
    user_id: int
    sent_at: int  # when the reminder was queued
    reminder_at: int  # which reminder (one repeat per reminder)
    channels: tuple[str, ...]  # where it went


@dataclass(frozen=True, slots=True, eq=False)
class OtherMessenger:
    _store: Store
    _directory: Directory
    _links: Links
    _prefs: Prefs
    _reach: Reach
    _held: HeldMessages
    _cards: CardFactory
    _activity: ActivityLog
    _clock: Clock
    _t: Catalogue

    async def plan(
        self, task_id: int, user_id: int, reminder_at: int, sent_to: Sequence[ChannelLink]
    ) -> None:
        """The reminder just went to ``sent_to``: plan its repeat elsewhere, if the account
        asks for one and the person has a messenger it did not go to."""
        after = (await self._prefs.account()).other_messenger_after_min
        channels = tuple(sorted({x.channel for x in sent_to}))
        if after is None or not await self._others(user_id, channels):
            return
        now = int(self._clock.now())
        job = Unanswered(task_id=task_id, user_id=user_id, sent_at=now,
                         reminder_at=reminder_at, channels=channels)  # fmt: skip
        key = f"{task_id}:{user_id}:{reminder_at}"
        entry = DueEntry(item_id=key, due_at=now + after * 60, payload=job.model_dump_json())
        await self._store.put_due_once(ELSEWHERE_QUEUE, [entry], f"elsewhere:{key}", ONCE_TTL_S)

    async def fire_due(self, limit: int, failures: FailureNote) -> int:
        """The reminder loop's turn for repeats; ``failures``: that loop's."""
        return await work_due(
            self._store, ELSEWHERE_QUEUE, self._clock.now(), limit, RETRY_S, self._fire,
            clock=self._clock.now, failures=failures,
        )  # fmt: skip

    async def _others(self, user_id: int, channels: Sequence[str]) -> list[ChannelLink]:
        return [
            x for x in await self._links.of_user(user_id)
            if not x.paused and x.channel not in channels
        ]  # fmt: skip

    async def _acted(self, job: Unanswered) -> bool:
        subject = f"task:{job.task_id}"
        return any(
            a.kind == "pressed" and a.person == job.user_id and a.subject == subject
            for a in await self._activity.between(job.sent_at, self._clock.now() + 1)
        )

    async def _fire(self, item: DueItem) -> None:
        job = Unanswered.model_validate_json(item.payload)
        cached = await self._store.get_task(job.task_id)
        task = cached.value if cached else None
        others = await self._others(job.user_id, job.channels)
        if (
            task is None
            or task.is_completed
            or task.responsible_user_id != job.user_id
            or task.updated_at > job.sent_at  # changed since: snoozed, edited, handed over
            or not others
            or await self._acted(job)
        ):
            await self._store.complete_due(item)
            return
        now = int(self._clock.now())
        reader = await self._reach.reader(job.user_id)
        deal = await self._store.get_deal(task.deal_id) if task.deal_id else None
        where = ", ".join(self._t(reader.lang, f"via_{c}") for c in job.channels)
        card = await self._cards.task_card(
            task, reader, now, deal=deal.value if deal else None,
            actor=await self._directory.user(job.user_id),
            heading=self._t(reader.lang, "heading_elsewhere", where=where),
        )  # fmt: skip
        items = [
            OutboxItem(channel=x.channel, chat_id=x.chat_id, recipient=job.user_id,
                       subject=f"task:{task.id}", notice="reminder", card=card)
            for x in others
        ]  # fmt: skip
        once = f"elsewhere-sent:{item.item_id}"
        # Held by quiet hours or a mute, it is dropped if the task is done by then.
        await self._held.send(
            job.user_id, items, task_id=task.id, while_open=True, once=once, once_ttl_s=ONCE_TTL_S
        )
        await self._store.complete_due(item)
