"""Presses made while amoCRM does not answer: acknowledged ("saved, will sync"), kept in the
store in the order they were made, and written when amoCRM is back, exactly once.

A press is parked only after the presser's rights are checked on the cached task. The presses of
one task are one document (a list, oldest first) changed only under the task's action lease, and
one due entry per task wakes the replay. The replay takes the same lease, re-reads the task and
writes the oldest press first; a process that dies mid-way leaves the document and the entry, so
the press is replayed after the entry's claim runs out, and the re-read shows whether the write
already happened (a completed task is not completed twice).

A replay marks the press ``sent`` in the document just before its write: a replay that finds a
sent press already applied knows the change for its own (its presser hears "written", not "already
completed"). The presser's notice is queued once per press (keyed by its ``id``) before the press
leaves the document, so a crash in between queues no second notice and loses none.
"""

from __future__ import annotations

import uuid

from pydantic import Field, TypeAdapter

from bot.core import Lang, Value
from bot.reports import Press
from bot.store import Store

PARK_QUEUE = "press_park"
PARK_NS = "parked_presses"
PARK_TTL_S = 7 * 24 * 3600.0
# How soon amoCRM is tried again for the parked presses of a task: then every last step.
PARK_RETRY_S = (5.0, 15.0, 60.0, 300.0)
PARK_FAILED_S = 120.0  # a replay that raised (not amoCRM down: a bug) is tried again after this


class ParkedPress(Value):
    """A press as made, enough to make it again: what, on which task, by whom, from where."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    press: Press
    task_id: int
    task_text: str = ""
    actor_id: int
    via: str
    lang: Lang
    until: int | None = None  # snooze
    until_text: str = ""
    assignee_id: int | None = None  # reassign
    comment: str | None = None  # complete
    attempt: int = 0
    sent: bool = False  # its write went to amoCRM (or was about to) from a replay


def notice_key(press: ParkedPress) -> str:
    """The outbox's once-key of the notice telling the presser what became of ``press``."""
    return f"parked-notice:{press.id}"


_LIST = TypeAdapter(list[ParkedPress])


async def parked(store: Store, task_id: int) -> list[ParkedPress]:
    raw = await store.get_doc(PARK_NS, str(task_id))
    return [] if raw is None else _LIST.validate_json(raw)


async def keep_parked(store: Store, task_id: int, presses: list[ParkedPress], now: float) -> None:
    """Store the task's parked presses (under its action lease) and when to try them next."""
    if not presses:
        await store.delete_doc(PARK_NS, str(task_id))
        await store.cancel_due(PARK_QUEUE, f"task:{task_id}")
        return
    await store.put_doc(PARK_NS, str(task_id), _LIST.dump_json(presses).decode(), ttl_s=PARK_TTL_S)
    delay = PARK_RETRY_S[min(presses[0].attempt, len(PARK_RETRY_S) - 1)]
    await store.put_due(PARK_QUEUE, f"task:{task_id}", now + delay, str(task_id))


async def mark_sent(store: Store, task_id: int, presses: list[ParkedPress]) -> None:
    """The oldest press marked sent, just before its write (under the task's action lease). Its
    due entry stays as claimed: after a crash it comes back when the claim runs out."""
    presses[0] = presses[0].model_copy(update={"sent": True})
    await store.put_doc(PARK_NS, str(task_id), _LIST.dump_json(presses).decode(), ttl_s=PARK_TTL_S)
