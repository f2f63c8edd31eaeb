"""What reached whom, what they pressed, and what became of each task: the log behind
``/report`` and ``/export``.

A notification is logged when the messenger took it (one line per copy: a person linked in both
messengers gets two; a reminder with the deadline it was about), a press when its write to
amoCRM went through, each change of a task as the ``EventProcessor`` journals it (``on_events``,
a listener: whoever made the change, in amoCRM itself too), an escalation when it is raised.
A task line or an escalation has the id of its event, so the reader counts it once however many
times a listener was given it. Lines are kept ``KEEP_DAYS``; a daily job trims the older ones.
A line is stored as the JSON array of ``Fact``'s fields; lines of the older JSON object form
are still read.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from pydantic import Field

from bot.core import Channel, Clock, CrmEvent, CrmEventKind, Task, Value
from bot.store import Store

ACTIVITY_NS = "activity"
KEEP_DAYS = 400
# A report reads at most this many lines: a year of a 50-person team at 100 lines a day each.
READ_LIMIT = 2_000_000
# Read and parsed a day at a time, each piece in a thread: a piece is parsed by one C call that
# holds the GIL throughout, so a small piece keeps the event loop's waits short.
CHUNK_S = 86400.0

Notice = Literal["reminder", "alert"]
Press = Literal["complete", "snooze", "reassign", "follow_up", "take"]
TaskChange = Literal["created", "deadline", "reassigned", "completed", "deleted", "updated"]
CHANGES: dict[CrmEventKind, TaskChange] = {
    CrmEventKind.TASK_CREATED: "created",
    CrmEventKind.TASK_DEADLINE_CHANGED: "deadline",
    CrmEventKind.TASK_RESPONSIBLE_CHANGED: "reassigned",
    CrmEventKind.TASK_COMPLETED: "completed",
    CrmEventKind.TASK_DELETED: "deleted",
    CrmEventKind.TASK_UPDATED: "updated",
}


class Activity(Value):
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    at: float
    kind: Literal["sent", "pressed", "task", "escalated"]
    person: int  # the amoCRM user told, who pressed, or whose task it is (after the change)
    channel: Channel | None = None  # of a notice or a press
    subject: str  # "task:12", "deal:7"
    what: str  # sent: a Notice; pressed: a Press; task: a TaskChange
    deadline: int | None = None  # a reminder's or a task line's: the task's deadline then
    deal: int | None = None  # task lines: the deal it is on
    text: str | None = None  # task lines: the task's text


class Fact(NamedTuple):
    """A log line as the figures read it: the same fields as ``Activity``, without its
    validation (the log's own lines, read by the 10⁵–10⁶ for a report)."""

    id: str
    at: float
    kind: str
    person: int
    subject: str
    what: str
    channel: str | None = None
    deadline: int | None = None
    deal: int | None = None
    text: str | None = None


# A log line as the figures read it: the fields of ``Fact`` in its order (a ``Fact``, or the
# JSON array of a stored line).
Line = Sequence[Any]


def as_fact(entry: Activity) -> Fact:
    return Fact(**entry.model_dump(exclude_none=True))


def encode(entry: Activity) -> str:
    """A stored line: the JSON array of ``Fact``'s fields (a report parses 10⁶ of them, and
    an array parses in a third of the time of an object with its keys)."""
    return json.dumps(as_fact(entry), separators=(",", ":"), ensure_ascii=False)


def decode(line: str) -> Activity:
    """A stored line as an ``Activity``, in either form: the array, or the object that
    versions before the array wrote (kept ``KEEP_DAYS``)."""
    if line.startswith("{"):
        return Activity.model_validate_json(line)
    fields = json.loads(line)
    return Activity.model_validate(
        {k: v for k, v in zip(Fact._fields, fields, strict=True) if v is not None}
    )


@dataclass(frozen=True, slots=True, eq=False)
class ActivityLog:
    _store: Store
    _clock: Clock

    async def sent(
        self, person: int, channel: Channel, subject: str, notice: Notice, *, at: float,
        deadline: int | None = None,
    ) -> None:  # fmt: skip
        await self._add(Activity(at=at, kind="sent", person=person, channel=channel,
                                 subject=subject, what=notice, deadline=deadline))  # fmt: skip

    async def pressed(self, person: int, via: str, subject: str, press: Press) -> None:
        channel: Channel = "slack" if via == "slack" else "telegram"
        await self._add(Activity(at=self._clock.now(), kind="pressed", person=person,
                                 channel=channel, subject=subject, what=press))  # fmt: skip

    async def on_events(self, events: Sequence[CrmEvent]) -> None:
        """The ``EventProcessor`` listener: a line per change of a task, with the task as it
        stands after it (deleted: as it stood before)."""
        for event in events:
            change = CHANGES.get(event.kind)
            task = event.task or event.previous_task
            if change is None or task is None:
                continue
            await self._add(Activity(
                id=event.key, at=float(event.occurred_at), kind="task",
                person=task.responsible_user_id, subject=f"task:{task.id}", what=change,
                deadline=task.complete_till, deal=task.deal_id, text=task.text or None,
            ))  # fmt: skip

    async def escalated(self, key: str, task: Task, at: float) -> None:
        """An escalation raised about ``task`` (``key``: the escalation's own, once per task
        and deadline)."""
        await self._add(Activity(id=key, at=at, kind="escalated", person=task.responsible_user_id,
                                 subject=f"task:{task.id}", what="escalated",
                                 deadline=task.complete_till))  # fmt: skip

    async def between(self, since: float, until: float) -> list[Activity]:
        lines = await self._store.read_log(ACTIVITY_NS, since, until, limit=READ_LIMIT)
        # A year of a team is 10⁵–10⁶ lines: parsed off the event loop, which must keep
        # acknowledging Slack within 3 s and answering Telegram meanwhile.
        return await asyncio.to_thread(_parse, lines)

    async def facts(self, since: float, until: float) -> list[Fact]:
        """The lines of ``since`` <= at < ``until`` as ``Fact``s, oldest first."""
        out: list[Fact] = []
        async for lines in self.pieces(since, until):
            out += await asyncio.to_thread(parse_facts, lines)
        return out

    async def pieces(self, since: float, until: float) -> AsyncIterator[list[str]]:
        """The raw lines of ``since`` <= at < ``until``, a day at a time, oldest first (at
        most ``READ_LIMIT`` in all); ``parse_lines`` reads a piece."""
        start, left = since, READ_LIMIT
        while start < until and left > 0:
            end = min(start + CHUNK_S, until)
            lines = await self._store.read_log(ACTIVITY_NS, start, end, limit=left)
            left -= len(lines)
            yield lines
            start = end

    async def trim(self) -> int:
        """Forget what is older than ``KEEP_DAYS``; returns how many lines went."""
        return await self._store.trim_log(ACTIVITY_NS, self._clock.now() - KEEP_DAYS * 86400)

    async def _add(self, entry: Activity) -> None:
        await self._store.add_log(ACTIVITY_NS, entry.at, encode(entry))


def _parse(lines: list[str]) -> list[Activity]:
    return [decode(line) for line in lines]


def parse_lines(lines: list[str]) -> list[Line]:
    """Raw log lines as ``Gathered.add_parsed`` takes them: their JSON arrays, unchecked (a
    line of the older object form turned into a ``Fact``)."""
    # One JSON array for the lot: half the time of a json.loads per line.
    parsed: list[Any] = json.loads("[" + ",".join(lines) + "]")
    return [line if type(line) is list else Fact(**line) for line in parsed]


def parse_facts(lines: list[str]) -> list[Fact]:
    return [Fact(*line) for line in parse_lines(lines)]
