"""A follow-up task created at most once, though amoCRM may lose the answer to its create.

amoCRM has no idempotency keys, and a create whose answer was lost (a 5xx, a timeout, a dropped
connection) may have made the task. So the attempt is recorded before the call (``PENDING`` and
when it was sent), and any press that finds an attempt unsettled first reads the deal's tasks for
one with the same text, deadline and person: found is done. A read that shows none creates again
only once the first create can no longer be under way (``IN_DOUBT_S`` after it was sent): amoCRM
may apply a create it is still working on after that read, and a second create then would make
two tasks.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from bot.core import Catalogue, Clock, Crm, CrmError, Lang, NewTask, User
from bot.crm import Claims, Directory, can_view_deal
from bot.reports import ActivityLog
from bot.store import Store
from bot.tasks.outcomes import LEASE_S, ActionResult, Outcome, live_deal

FOLLOW_UP_NS = "follow_up"
FOLLOW_UP_TTL_S = 3 * 24 * 3600
DONE = "1"
PENDING = "?"  # "?<sent at>": a create was sent and its answer not seen: read before another
# How long amoCRM may still apply a create whose answer was lost (far past its own gateways'
# timeouts): until then a read that shows no task does not let a second create through.
IN_DOUBT_S = 180.0


class Found(StrEnum):
    YES = "yes"
    NO = "no"
    UNREADABLE = "unreadable"


async def find_created(crm: Crm, task: NewTask) -> Found:
    """Does the deal hold ``task`` already (made by a create whose answer was lost)?"""
    assert task.entity_id is not None
    try:
        tasks = await crm.tasks(deal_id=task.entity_id)
    except CrmError:
        return Found.UNREADABLE
    same = any(
        t.text == task.text
        and t.complete_till == task.complete_till
        and t.responsible_user_id == task.responsible_user_id
        for t in tasks
    )
    return Found.YES if same else Found.NO


@dataclass(frozen=True, slots=True, eq=False)
class FollowUps:
    _store: Store
    _crm: Crm
    _directory: Directory
    _t: Catalogue
    _activity: ActivityLog
    _claims: Claims
    _clock: Clock
    # Applies a task just created as the presser's, so its reminders are planned at once.
    _created: Callable[[int, int, str], Awaitable[None]]

    async def create(
        self, actor: User, deal_id: int, at: int, *, via: str, lang: Lang
    ) -> ActionResult:
        """A task on the deal for ``actor``, due ``at``: once per deal, person and moment, however
        often the button is pressed, and only on a deal their amoCRM rights let them see."""
        done_key = f"{deal_id}:{actor.id}:{at}"
        owner = uuid.uuid4().hex
        lease = f"follow-up:{done_key}"
        if not await self._store.acquire_lease(lease, owner, LEASE_S):
            return ActionResult(outcome=Outcome.BUSY)
        try:
            state = await self._store.get_doc(FOLLOW_UP_NS, done_key)
            if state == DONE:
                return ActionResult(outcome=Outcome.ALREADY_DONE)
            deal = await live_deal(self._crm, deal_id)
            if isinstance(deal, ActionResult):
                return deal
            task = NewTask(
                text=self._t(lang, "follow_up_text", deal=deal.name), complete_till=at,
                responsible_user_id=actor.id, entity_type="leads", entity_id=deal_id,
                task_type_id=1,
            )  # fmt: skip
            if state is not None and state.startswith(PENDING):
                settled = await self._settled(done_key, task, _sent_at(state))
                if settled is not None:
                    return settled
            responsible = await self._directory.user(deal.responsible_user_id)
            if not actor.is_active or not can_view_deal(actor, deal, responsible):
                return ActionResult(outcome=Outcome.DENIED)
            # The attempt is recorded before the call: a lost answer, or a crash before the
            # answer is recorded, makes the next press read the deal's tasks before creating.
            # amoCRM names the token's user as the author: the creation is the presser's,
            # whichever path brings it back.
            await self._claims.put_new_task(task, actor.id, via)
            await self._mark(done_key, f"{PENDING}{self._clock.now()!r}")
            try:
                task_id = await self._crm.create_task(task)
            except CrmError as exc:
                outcome = await self._after_lost_create(done_key, task, exc)
                if outcome is not Outcome.DONE:
                    return ActionResult(outcome=outcome)
            else:
                await self._mark(done_key, DONE)
                await self._claims.put_author(task_id, actor.id)
                await self._created(task_id, actor.id, via)
            await self._activity.pressed(actor.id, via, f"deal:{deal_id}", "follow_up")
            return ActionResult(outcome=Outcome.DONE)
        finally:
            await self._store.release_lease(lease, owner)

    async def _mark(self, done_key: str, state: str) -> None:
        await self._store.put_doc(FOLLOW_UP_NS, done_key, state, ttl_s=FOLLOW_UP_TTL_S)

    async def _settled(self, done_key: str, task: NewTask, sent_at: float) -> ActionResult | None:
        """An earlier create's answer was lost: the answer if it made the task (or amoCRM
        cannot say yet, or may still make it); None when the deal shows no such task and the
        earlier create can no longer be under way, so it is created now."""
        found = await find_created(self._crm, task)
        if found is Found.NO and self._clock.now() - sent_at >= IN_DOUBT_S:
            return None
        if found is not Found.YES:
            return ActionResult(outcome=Outcome.UNKNOWN)
        await self._mark(done_key, DONE)
        return ActionResult(outcome=Outcome.ALREADY_DONE)

    async def _after_lost_create(self, done_key: str, task: NewTask, exc: CrmError) -> Outcome:
        """A create that failed: DONE if amoCRM made the task after all, else what to say."""
        if exc.maybe_applied:
            found = await find_created(self._crm, task)
            if found is Found.YES:
                await self._mark(done_key, DONE)
                return Outcome.DONE
            if exc.in_flight or found is Found.UNREADABLE:
                return Outcome.UNKNOWN  # left PENDING: the next press reads before creating
        await self._store.delete_doc(FOLLOW_UP_NS, done_key)
        return Outcome.CRM_ERROR


def _sent_at(state: str) -> float:
    """When the pending create was sent (0 for a record that does not say)."""
    try:
        return float(state.removeprefix(PENDING))
    except ValueError:
        return 0.0
