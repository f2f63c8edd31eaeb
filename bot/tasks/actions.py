"""What a button press does: complete, snooze, reassign, written back to amoCRM exactly once.

Every press re-reads the task and checks the presser's amoCRM rights; a lease per task makes a
double press (or presses in two chats, or on two replicas) one write. After the write the fresh
task goes through the same ``EventProcessor`` as any amoCRM change, so the copies of its
messages are edited and its reminders recomputed by the one path that handles every change.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from enum import StrEnum

from bot.core import (
    Catalogue,
    Clock,
    Crm,
    CrmError,
    Deal,
    EntityHint,
    HintSource,
    Lang,
    NewTask,
    Right,
    Task,
    TaskPatch,
    User,
    Value,
)
from bot.crm import Directory, EventProcessor, can_edit_task, can_view_deal, may_assign_to
from bot.reports import ActivityLog, Press
from bot.store import Store

log = logging.getLogger(__name__)

LEASE_S = 30.0
FOLLOW_UP_NS = "follow_up"
TAKE_WAIT_ROUNDS = 40
TAKE_WAIT_S = 0.1
FOLLOW_UP_TTL_S = 3 * 24 * 3600


class Outcome(StrEnum):
    DONE = "done"
    DENIED = "denied"
    ALREADY_DONE = "already_done"
    GONE = "gone"
    BUSY = "busy"
    CRM_ERROR = "crm_error"
    BAD_ASSIGNEE = "bad_assignee"


class ActionResult(Value):
    outcome: Outcome
    task: Task | None = None
    deal: Deal | None = None  # for a deal action: the deal as it is now

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.DONE


class TaskActions:
    def __init__(
        self,
        store: Store,
        crm: Crm,
        directory: Directory,
        processor: EventProcessor,
        clock: Clock,
        t: Catalogue,
        activity: ActivityLog,
    ) -> None:
        self._activity = activity
        self._store = store
        self._crm = crm
        self._directory = directory
        self._processor = processor
        self._clock = clock
        self._t = t

    async def check(self, actor: User, task_id: int) -> ActionResult:
        """May ``actor`` act on the task at all (before showing a menu or asking for text)?"""
        try:
            task = await self._crm.task(task_id)
        except CrmError:
            return ActionResult(outcome=Outcome.CRM_ERROR)
        return await self._verdict(actor, task) or ActionResult(outcome=Outcome.DONE, task=task)

    async def check_cached(self, actor: User, task_id: int) -> ActionResult:
        """``check`` on the cached task (no amoCRM call); the write re-reads and re-checks."""
        cached = await self._store.get_task(task_id)
        task = cached.value if cached else None
        return await self._verdict(actor, task) or ActionResult(outcome=Outcome.DONE, task=task)

    async def complete(
        self, actor: User, task_id: int, *, via: str, lang: Lang, comment: str | None = None
    ) -> ActionResult:
        result = comment or self._t(lang, "result_completed", via=self._t(lang, f"via_{via}"))

        def patch(task: Task) -> TaskPatch:
            return TaskPatch(id=task.id, is_completed=True, result_text=result)

        note = self._t(lang, "note_completed", actor=actor.name, via=self._t(lang, f"via_{via}"))
        if comment:
            note += "\n" + comment
        return await self._write(actor, task_id, patch, note, via=via, press="complete")

    async def snooze(
        self, actor: User, task_id: int, until: int, *, via: str, lang: Lang, until_text: str
    ) -> ActionResult:
        def patch(task: Task) -> TaskPatch:
            return TaskPatch(id=task.id, complete_till=until)

        note = self._t(lang, "note_snoozed", actor=actor.name, when=until_text,
                       via=self._t(lang, f"via_{via}"))  # fmt: skip
        return await self._write(actor, task_id, patch, note, via=via, press="snooze")

    async def reassign(
        self, actor: User, task_id: int, assignee_id: int, *, via: str, lang: Lang
    ) -> ActionResult:
        assignee = await self._directory.user(assignee_id)
        if assignee is None or not may_assign_to(actor, assignee):
            return ActionResult(outcome=Outcome.BAD_ASSIGNEE)

        def patch(task: Task) -> TaskPatch:
            return TaskPatch(id=task.id, responsible_user_id=assignee_id)

        note = self._t(lang, "note_reassigned", actor=actor.name, assignee=assignee.name,
                       via=self._t(lang, f"via_{via}"))  # fmt: skip
        return await self._write(actor, task_id, patch, note, via=via, press="reassign")

    async def follow_up(
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
            if await self._store.get_doc(FOLLOW_UP_NS, done_key) is not None:
                return ActionResult(outcome=Outcome.ALREADY_DONE)
            deal = await self._live_deal(deal_id)
            if isinstance(deal, ActionResult):
                return deal
            responsible = await self._directory.user(deal.responsible_user_id)
            if not can_view_deal(actor, deal, responsible):
                return ActionResult(outcome=Outcome.DENIED)
            task = NewTask(
                text=self._t(lang, "follow_up_text", deal=deal.name), complete_till=at,
                responsible_user_id=actor.id, entity_type="leads", entity_id=deal_id,
                task_type_id=1,
            )  # fmt: skip
            try:
                await self._crm.create_task(task)
            except CrmError:
                # A lost answer may hide a created task; the marker below is not written, so a
                # second press can make a second task: better than none (reference: no
                # idempotency keys on amoCRM writes).
                return ActionResult(outcome=Outcome.CRM_ERROR)
            await self._store.put_doc(FOLLOW_UP_NS, done_key, "1", ttl_s=FOLLOW_UP_TTL_S)
            await self._activity.pressed(actor.id, via, f"deal:{deal_id}", "follow_up")
            return ActionResult(outcome=Outcome.DONE)
        finally:
            await self._store.release_lease(lease, owner)

    async def _live_deal(self, deal_id: int) -> Deal | ActionResult:
        """The deal as amoCRM has it now, or why there is none to act on."""
        try:
            deal = await self._crm.lead(deal_id)
        except CrmError:
            return ActionResult(outcome=Outcome.CRM_ERROR)
        if deal is None or deal.is_deleted:
            return ActionResult(outcome=Outcome.GONE)
        return deal

    async def take(self, actor: User, deal_id: int, *, via: str, lang: Lang) -> ActionResult:
        """Make ``actor`` responsible for a deal nobody has taken yet (its responsible is still
        the integration's own user). The first press wins; a later one finds the deal taken."""
        if actor.rights.leads_edit is Right.DENIED and not actor.rights.is_admin:
            return ActionResult(outcome=Outcome.DENIED)
        owner = uuid.uuid4().hex
        lease = f"deal-action:{deal_id}"
        # Presses of "Take it" race by nature: the loser waits for the winner's write, so that
        # it can be told who took the deal rather than "try again".
        for _ in range(TAKE_WAIT_ROUNDS):
            if await self._store.acquire_lease(lease, owner, LEASE_S):
                break
            await asyncio.sleep(TAKE_WAIT_S)
        else:
            return ActionResult(outcome=Outcome.BUSY)
        try:
            deal = await self._live_deal(deal_id)
            if isinstance(deal, ActionResult):
                return deal
            if not await self.unassigned(deal):
                return ActionResult(outcome=Outcome.ALREADY_DONE, deal=deal)
            try:
                updated_at = await self._crm.update_lead_responsible(deal_id, actor.id)
            except CrmError:
                return ActionResult(outcome=Outcome.CRM_ERROR)
            taken = deal.model_copy(update={"responsible_user_id": actor.id,
                                            "updated_at": updated_at})  # fmt: skip
            hint = EntityHint(kind="deal", id=deal_id, source=HintSource.ACTION, actor_id=actor.id,
                              via=via, action="responsible", at=updated_at)  # fmt: skip
            await self._processor.apply_deal(deal_id, taken, hint)
            note = self._t(lang, "note_taken", actor=actor.name, via=self._t(lang, f"via_{via}"))
            try:
                await self._crm.add_lead_note(deal_id, note)
            except CrmError:
                log.warning("note on deal %s (taken) not written", deal_id)
            await self._activity.pressed(actor.id, via, f"deal:{deal_id}", "take")
            return ActionResult(outcome=Outcome.DONE, deal=taken)
        finally:
            await self._store.release_lease(lease, owner)

    async def unassigned(self, deal: Deal) -> bool:
        """Nobody took the deal yet: amoCRM put it on the integration's own user."""
        account = await self._directory.account()
        return deal.responsible_user_id == account.current_user_id

    async def _verdict(self, actor: User, task: Task | None) -> ActionResult | None:
        """Why ``actor`` may not act on ``task``, or None if they may."""
        if task is None:
            return ActionResult(outcome=Outcome.GONE)
        responsible = await self._directory.user(task.responsible_user_id)
        if not can_edit_task(actor, task, responsible):
            return ActionResult(outcome=Outcome.DENIED, task=task)
        if task.is_completed:
            return ActionResult(outcome=Outcome.ALREADY_DONE, task=task)
        return None

    async def _write(
        self,
        actor: User,
        task_id: int,
        patch_for: Callable[[Task], TaskPatch],
        note: str,
        *,
        via: str,
        press: Press,
    ) -> ActionResult:
        owner = uuid.uuid4().hex
        lease = f"task-action:{task_id}"
        if not await self._store.acquire_lease(lease, owner, LEASE_S):
            return ActionResult(outcome=Outcome.BUSY)
        try:
            try:
                task = await self._crm.task(task_id)
            except CrmError:
                return ActionResult(outcome=Outcome.CRM_ERROR)
            refusal = await self._verdict(actor, task)
            if refusal is not None:
                return refusal
            assert task is not None
            patch = patch_for(task)
            try:
                updated_at = await self._crm.update_task(patch)
            except CrmError as exc:
                if not exc.maybe_applied:
                    return ActionResult(outcome=Outcome.CRM_ERROR)
                # The answer was lost: what amoCRM holds now says whether it went through.
                result = await self._after_lost_answer(task_id, patch, note, actor, via)
            else:
                changed = _patched(task, patch, updated_at)
                await self._applied(changed, note, actor, via)
                result = ActionResult(outcome=Outcome.DONE, task=changed)
            if result.ok:
                await self._activity.pressed(actor.id, via, f"task:{task_id}", press)
            return result
        finally:
            await self._store.release_lease(lease, owner)

    async def _after_lost_answer(
        self, task_id: int, patch: TaskPatch, note: str, actor: User, via: str
    ) -> ActionResult:
        try:
            task = await self._crm.task(task_id)
        except CrmError:
            return ActionResult(outcome=Outcome.CRM_ERROR)
        if task is None or _patched(task, patch, task.updated_at) != task:
            return ActionResult(outcome=Outcome.CRM_ERROR)
        await self._applied(task, note, actor, via)
        return ActionResult(outcome=Outcome.DONE, task=task)

    async def _applied(self, task: Task, note: str, actor: User, via: str) -> None:
        hint = EntityHint(
            kind="task", id=task.id, source=HintSource.ACTION, actor_id=actor.id, via=via,
            action="complete" if task.is_completed else "update", at=task.updated_at,
        )  # fmt: skip
        await self._processor.apply_task(task.id, task, hint)
        if task.deal_id is not None:
            try:
                await self._crm.add_lead_note(task.deal_id, note)
            except CrmError:
                # The task is changed; a missing note must not make the press look failed.
                log.warning("note on deal %s for task %s not written", task.deal_id, task.id)


def _patched(task: Task, patch: TaskPatch, updated_at: int) -> Task:
    changes: dict[str, object] = {"updated_at": updated_at}
    if patch.is_completed is not None:
        changes["is_completed"] = patch.is_completed
    if patch.result_text is not None:
        changes["result_text"] = patch.result_text
    if patch.complete_till is not None:
        changes["complete_till"] = patch.complete_till
    if patch.responsible_user_id is not None:
        changes["responsible_user_id"] = patch.responsible_user_id
    return task.model_copy(update=changes)
