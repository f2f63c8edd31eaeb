"""What a button press does: complete, snooze, reassign, written back to amoCRM exactly once.

Every press re-reads the task and checks the presser's amoCRM rights; a lease per task makes a
double press (or presses in two chats, or on two replicas) one write. After the write the fresh
task goes through the same ``EventProcessor`` as any amoCRM change, so the copies of its
messages are edited and its reminders recomputed by the one path that handles every change.

A write whose answer is lost (a 5xx, a timeout, a connection dropped after sending) may or may
not have been applied, and amoCRM has no idempotency keys to ask with. So the presser is
remembered first (a ``Claim`` in the store, which credits them whichever path brings the change
back), and after a lost answer the task is read again: applied is done, not applied after
amoCRM's own answer is "nothing was changed", and anything else is settled later from the
store's due index, the presser told the outcome then.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from bot.core import (
    Catalogue,
    Channel,
    Clock,
    Crm,
    CrmError,
    Deal,
    EntityHint,
    HintSource,
    Lang,
    Right,
    Task,
    TaskPatch,
    TextMessage,
    User,
    Value,
)
from bot.crm import (
    Claim,
    Claims,
    Directory,
    EventProcessor,
    can_edit_task,
    may_assign_to,
)
from bot.delivery import Outbox, OutboxItem
from bot.people import Links
from bot.reports import ActivityLog, Press
from bot.store import DueItem, Store, work_due
from bot.tasks.follow_ups import FollowUps
from bot.tasks.outcomes import LEASE_S, ActionResult, Outcome, live_deal

log = logging.getLogger(__name__)

TAKE_WAIT_ROUNDS = 40
TAKE_WAIT_S = 0.1
SETTLE_QUEUE = "write_settle"
# When a write whose answer was lost is read again: amoCRM under strain may take a while.
SETTLE_AFTER_S = (15.0, 60.0, 300.0)
SETTLE_LEASE_S = 60.0


class PendingWrite(Value):
    """A press whose write amoCRM did not confirm: read again later, and the presser told."""

    task_id: int
    task_text: str
    actor_id: int
    via: str
    lang: Lang
    press: Press
    claim: Claim
    note: str
    attempt: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class TaskActions:
    _store: Store
    _crm: Crm
    _directory: Directory
    _processor: EventProcessor
    _clock: Clock
    _t: Catalogue
    _activity: ActivityLog
    _links: Links
    _outbox: Outbox

    @property
    def _claims(self) -> Claims:
        # Claims holds nothing but the store, so one per use is the same record.
        return Claims(self._store)

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
        return await self._write(actor, task_id, patch, note, via=via, lang=lang, press="complete")

    async def snooze(
        self, actor: User, task_id: int, until: int, *, via: str, lang: Lang, until_text: str
    ) -> ActionResult:
        def patch(task: Task) -> TaskPatch:
            return TaskPatch(id=task.id, complete_till=until)

        note = self._t(lang, "note_snoozed", actor=actor.name, when=until_text,
                       via=self._t(lang, f"via_{via}"))  # fmt: skip
        return await self._write(actor, task_id, patch, note, via=via, lang=lang, press="snooze")

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
        return await self._write(actor, task_id, patch, note, via=via, lang=lang, press="reassign")

    async def follow_up(
        self, actor: User, deal_id: int, at: int, *, via: str, lang: Lang
    ) -> ActionResult:
        """A task on the deal for ``actor``, due ``at``: once per deal, person and moment, however
        often the button is pressed, and only on a deal their amoCRM rights let them see."""
        follow_ups = FollowUps(self._store, self._crm, self._directory, self._t, self._activity)
        return await follow_ups.create(actor, deal_id, at, via=via, lang=lang)

    async def take(self, actor: User, deal_id: int, *, via: str, lang: Lang) -> ActionResult:
        """Make ``actor`` responsible for a deal nobody has taken yet (its responsible is still
        the integration's own user). The first press wins; a later one finds the deal taken."""
        if not actor.is_active or (
            actor.rights.leads_edit is Right.DENIED and not actor.rights.is_admin
        ):
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
            deal = await live_deal(self._crm, deal_id)
            if isinstance(deal, ActionResult):
                return deal
            if not await self.unassigned(deal):
                return ActionResult(outcome=Outcome.ALREADY_DONE, deal=deal)
            claim = Claim(actor_id=actor.id, via=via, responsible_user_id=actor.id)
            await self._claims.put("deal", deal_id, claim)
            try:
                updated_at = await self._crm.update_lead_responsible(deal_id, actor.id)
            except CrmError as exc:
                lost = await self._after_lost_take(deal_id, claim, exc)
                if isinstance(lost, ActionResult):
                    return lost
                taken = lost
                updated_at = taken.updated_at
            else:
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
            await self._claims.drop("deal", deal_id)
            await self._activity.pressed(actor.id, via, f"deal:{deal_id}", "take")
            return ActionResult(outcome=Outcome.DONE, deal=taken)
        finally:
            await self._store.release_lease(lease, owner)

    async def _after_lost_take(
        self, deal_id: int, claim: Claim, exc: CrmError
    ) -> Deal | ActionResult:
        """The deal, if the lost write took it for the presser; else what to tell them. While
        amoCRM may still apply it the claim stays, so that a late change is still theirs."""
        if exc.maybe_applied:
            try:
                deal = await self._crm.lead(deal_id)
            except CrmError:
                deal = None
            if deal is not None and claim.met_by(deal):
                return deal
            if exc.in_flight or deal is None:
                return ActionResult(outcome=Outcome.UNKNOWN)
        await self._claims.drop("deal", deal_id)
        return ActionResult(outcome=Outcome.CRM_ERROR)

    async def unassigned(self, deal: Deal) -> bool:
        """Nobody took the deal yet: amoCRM put it on the integration's own user."""
        account = await self._directory.account()
        return deal.responsible_user_id == account.current_user_id

    async def _verdict(self, actor: User, task: Task | None) -> ActionResult | None:
        """Why ``actor`` may not act on ``task``, or None if they may."""
        if not actor.is_active:
            return ActionResult(outcome=Outcome.DENIED, task=task)
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
        lang: Lang,
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
            claim = Claim(
                actor_id=actor.id, via=via, is_completed=patch.is_completed,
                complete_till=patch.complete_till, responsible_user_id=patch.responsible_user_id,
            )  # fmt: skip
            # Stored before the write: whichever path brings the change back credits the presser.
            await self._claims.put("task", task_id, claim)
            try:
                updated_at = await self._crm.update_task(patch)
            except CrmError as exc:
                if not exc.maybe_applied:
                    await self._claims.drop("task", task_id)
                    return ActionResult(outcome=Outcome.CRM_ERROR)
                pending = PendingWrite(
                    task_id=task_id, task_text=task.text[:200], actor_id=actor.id, via=via,
                    lang=lang, press=press, claim=claim, note=note,
                )  # fmt: skip
                return await self._after_lost_answer(pending, in_flight=exc.in_flight)
            changed = _patched(task, patch, updated_at)
            await self._applied(changed, note, actor.id, via)
            await self._claims.drop("task", task_id)
            await self._activity.pressed(actor.id, via, f"task:{task_id}", press)
            return ActionResult(outcome=Outcome.DONE, task=changed)
        finally:
            await self._store.release_lease(lease, owner)

    async def _after_lost_answer(self, pending: PendingWrite, *, in_flight: bool) -> ActionResult:
        """The write's answer was lost: what amoCRM holds now says what to tell the presser."""
        task_id = pending.task_id
        try:
            task = await self._crm.task(task_id)
        except CrmError:
            return await self._settle_later(pending)
        if task is not None and pending.claim.met_by(task):
            await self._confirmed(task, pending)
            return ActionResult(outcome=Outcome.DONE, task=task)
        if task is not None and in_flight:
            return await self._settle_later(pending)  # amoCRM may still be at it
        # amoCRM answered and did not apply it (or the task is gone): nothing was changed.
        await self._claims.drop("task", task_id)
        return ActionResult(outcome=Outcome.GONE if task is None else Outcome.CRM_ERROR)

    async def _settle_later(self, pending: PendingWrite) -> ActionResult:
        await self._store.put_due(
            SETTLE_QUEUE, f"task:{pending.task_id}", self._clock.now() + SETTLE_AFTER_S[0],
            pending.model_dump_json(),
        )  # fmt: skip
        return ActionResult(outcome=Outcome.UNKNOWN)

    async def _confirmed(self, task: Task, pending: PendingWrite) -> None:
        await self._applied(task, pending.note, pending.actor_id, pending.via)
        await self._claims.drop("task", task.id)
        await self._activity.pressed(pending.actor_id, pending.via, f"task:{task.id}",
                                     pending.press)  # fmt: skip

    async def settle_due(self, limit: int = 20) -> int:
        """Read again the tasks whose writes were not confirmed and tell each presser what
        became of their press; returns how many were claimed."""
        return await work_due(
            self._store, SETTLE_QUEUE, self._clock.now(), limit, SETTLE_LEASE_S, self._settle,
            log=log, failed="settling %s failed",
        )  # fmt: skip

    async def _settle(self, item: DueItem) -> None:
        pending = PendingWrite.model_validate_json(item.payload)
        task_id = pending.task_id
        last = pending.attempt + 1 >= len(SETTLE_AFTER_S)
        if not last:
            # The next look is queued before this one, so that a crash in between loses none.
            # It replaces the claimed entry (a new token), so the claim needs no completing.
            later = pending.model_copy(update={"attempt": pending.attempt + 1})
            await self._store.put_due(
                SETTLE_QUEUE, item.item_id,
                self._clock.now() + SETTLE_AFTER_S[pending.attempt + 1],
                later.model_dump_json(),
            )  # fmt: skip
        try:
            task: Task | None = await self._crm.task(task_id)
        except CrmError:
            read = False
            task = None
        else:
            read = True
        # A later press on the task has its own claim and its own answer; this one only tells.
        ours = await self._claims.get("task", task_id) == pending.claim
        if task is not None and pending.claim.met_by(task):
            if ours:
                await self._confirmed(task, pending)
            await self._tell(pending, "settle_done")
        elif read and task is None:
            if ours:
                await self._claims.drop("task", task_id)
            await self._tell(pending, "settle_gone")
        elif last:
            if ours:
                await self._claims.drop("task", task_id)
            await self._tell(pending, "settle_not_done" if read else "settle_unknown")
        else:
            return  # looked at again when the next attempt comes due
        if last:
            await self._store.complete_due(item)
        else:
            await self._store.cancel_due(SETTLE_QUEUE, item.item_id)

    async def _tell(self, pending: PendingWrite, key: str) -> None:
        """A message to the presser, in the messenger they pressed in."""
        if pending.via not in ("telegram", "slack"):
            return
        channel: Channel = "telegram" if pending.via == "telegram" else "slack"
        link = await self._links.by_amo(pending.actor_id, channel)
        if link is None:
            return
        text = self._t(pending.lang, key, text=pending.task_text)
        await self._outbox.enqueue([OutboxItem(
            channel=channel, chat_id=link.chat_id, recipient=pending.actor_id,
            card=TextMessage(text=text),
        )])  # fmt: skip

    async def _applied(self, task: Task, note: str, actor_id: int, via: str) -> None:
        hint = EntityHint(
            kind="task", id=task.id, source=HintSource.ACTION, actor_id=actor_id, via=via,
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
