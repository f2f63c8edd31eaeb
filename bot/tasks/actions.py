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

A press made while amoCRM does not answer is checked on the cached task and parked
(``bot/tasks/parked.py``): the presser hears "saved, will sync", and the replay loop writes the
task's parked presses in order, through the same write path, once amoCRM answers.

Over 400 lines on purpose: the press path (plan, write, park, replay, settle) is one piece over
one lease and one claim; the records of parked presses and follow-ups live in their own modules.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from bot.core import (
    Catalogue,
    Channel,
    Clock,
    Crm,
    CrmError,
    Deal,
    EntityHint,
    FailureNote,
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
from bot.tasks.parked import (
    PARK_FAILED_S,
    PARK_QUEUE,
    PARK_TTL_S,
    ParkedPress,
    keep_parked,
    mark_sent,
    notice_key,
    parked,
)

log = logging.getLogger(__name__)

TAKE_WAIT_ROUNDS = 40
TAKE_WAIT_S = 0.1
SETTLE_QUEUE = "write_settle"
# When a write whose answer was lost is read again: amoCRM under strain may take a while.
SETTLE_AFTER_S = (15.0, 60.0, 300.0)
SETTLE_RETRY_S = 60.0  # a settling that failed is tried again after this


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


@dataclass(frozen=True, slots=True)
class _Plan:
    """What a press writes: its patch of the task as read, and its note on the deal."""

    patch_for: Callable[[Task], TaskPatch]
    note: str


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
    # The settling loop's failures, said once while amoCRM is down rather than per press.
    _settle_failures: FailureNote = field(
        default_factory=lambda: FailureNote(log, "settling presses")
    )
    _replay_failures: FailureNote = field(
        default_factory=lambda: FailureNote(log, "replaying parked presses")
    )

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
        press = ParkedPress(press="complete", task_id=task_id, actor_id=actor.id, via=via,
                            lang=lang, comment=comment)  # fmt: skip
        return await self._press(actor, press)

    async def snooze(
        self, actor: User, task_id: int, until: int, *, via: str, lang: Lang, until_text: str
    ) -> ActionResult:
        press = ParkedPress(press="snooze", task_id=task_id, actor_id=actor.id, via=via,
                            lang=lang, until=until, until_text=until_text)  # fmt: skip
        return await self._press(actor, press)

    async def reassign(
        self, actor: User, task_id: int, assignee_id: int, *, via: str, lang: Lang
    ) -> ActionResult:
        press = ParkedPress(press="reassign", task_id=task_id, actor_id=actor.id, via=via,
                            lang=lang, assignee_id=assignee_id)  # fmt: skip
        return await self._press(actor, press)

    async def _plan(self, actor: User, p: ParkedPress) -> _Plan | ActionResult:
        """The patch a press makes and the note it leaves on the deal."""
        lang, via = p.lang, self._t(p.lang, f"via_{p.via}")
        if p.press == "complete":
            result = p.comment or self._t(lang, "result_completed", via=via)
            note = self._t(lang, "note_completed", actor=actor.name, via=via)
            if p.comment:
                note += "\n" + p.comment
            return _Plan(lambda t: TaskPatch(id=t.id, is_completed=True, result_text=result), note)
        if p.press == "snooze" and p.until is not None:
            until = p.until
            note = self._t(lang, "note_snoozed", actor=actor.name, when=p.until_text, via=via)
            return _Plan(lambda t: TaskPatch(id=t.id, complete_till=until), note)
        assignee = await self._directory.user(p.assignee_id or 0)
        if p.press != "reassign" or assignee is None or not may_assign_to(actor, assignee):
            return ActionResult(outcome=Outcome.BAD_ASSIGNEE)
        note = self._t(lang, "note_reassigned", actor=actor.name, assignee=assignee.name,
                       via=via)  # fmt: skip
        return _Plan(lambda t: TaskPatch(id=t.id, responsible_user_id=assignee.id), note)

    async def _press(self, actor: User, press: ParkedPress) -> ActionResult:
        plan = await self._plan(actor, press)
        if isinstance(plan, ActionResult):
            return plan
        owner = uuid.uuid4().hex
        lease = f"task-action:{press.task_id}"
        if not await self._store.acquire_lease(lease, owner, LEASE_S):
            return ActionResult(outcome=Outcome.BUSY)
        try:
            if await parked(self._store, press.task_id):
                # Earlier presses wait for amoCRM: this one goes after them, in order.
                return await self._park(actor, press)
            return await self._write(actor, press, plan, park=True)
        finally:
            await self._store.release_lease(lease, owner)

    async def follow_up(
        self, actor: User, deal_id: int, at: int, *, via: str, lang: Lang
    ) -> ActionResult:
        """A task on the deal for ``actor``, due ``at``: once per deal, person and moment, however
        often the button is pressed, and only on a deal their amoCRM rights let them see."""
        follow_ups = FollowUps(
            self._store, self._crm, self._directory, self._t, self._activity, self._claims,
            self._clock, self._created,
        )  # fmt: skip
        return await follow_ups.create(actor, deal_id, at, via=via, lang=lang)

    async def _created(self, task_id: int, actor_id: int, via: str) -> None:
        """Apply the task just created, as the presser's, so its reminders are planned now; if
        it cannot be read yet, whichever path brings it later credits them (its claim)."""
        try:
            created = await self._crm.task(task_id)
        except CrmError:
            return
        if created is not None:
            hint = EntityHint(kind="task", id=task_id, source=HintSource.ACTION, action="add",
                              actor_id=actor_id, via=via, at=created.updated_at)  # fmt: skip
            await self._processor.apply_task(task_id, created, hint)

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
        press: ParkedPress,
        plan: _Plan,
        *,
        park: bool,
        sending: Callable[[], Awaitable[None]] | None = None,
    ) -> ActionResult:
        """The press written to amoCRM, under the task's action lease (the caller's). amoCRM not
        answering the read: parked (``park``), or PARKED for a replay to keep waiting. A replay
        records the press as sent (``sending``) just before the write, and a press sent before
        whose change the task shows is this press's own write, applied before a crash."""
        task_id, via, lang = press.task_id, press.via, press.lang
        try:
            task = await self._crm.task(task_id)
        except CrmError:
            if park:
                return await self._park(actor, press)
            return ActionResult(outcome=Outcome.PARKED)
        # A replay's own write, applied before a crash kept it from being recorded: done.
        if (
            press.sent
            and task is not None
            and _claim(actor, via, plan.patch_for(task)).met_by(task)
        ):
            return await self._done(task, plan.note, actor.id, via, press.press)
        refusal = await self._verdict(actor, task)
        if refusal is not None:
            return refusal
        assert task is not None
        patch = plan.patch_for(task)
        claim = _claim(actor, via, patch)
        # Stored before the write: whichever path brings the change back credits the presser.
        await self._claims.put("task", task_id, claim)
        if sending is not None:
            await sending()
        try:
            updated_at = await self._crm.update_task(patch)
        except CrmError as exc:
            if not exc.maybe_applied:
                await self._claims.drop("task", task_id)
                return ActionResult(outcome=Outcome.CRM_ERROR)
            pending = PendingWrite(
                task_id=task_id, task_text=task.text[:200], actor_id=actor.id, via=via,
                lang=lang, press=press.press, claim=claim, note=plan.note,
            )  # fmt: skip
            return await self._after_lost_answer(pending, in_flight=exc.in_flight)
        return await self._done(_patched(task, patch, updated_at), plan.note, actor.id, via,
                                press.press)  # fmt: skip

    async def _done(
        self, task: Task, note: str, actor_id: int, via: str, press: Press
    ) -> ActionResult:
        """A press's write is in amoCRM: applied as the presser's, its note left, logged."""
        await self._applied(task, note, actor_id, via)
        await self._claims.drop("task", task.id)
        await self._activity.pressed(actor_id, via, f"task:{task.id}", press)
        return ActionResult(outcome=Outcome.DONE, task=task)

    async def _park(self, actor: User, press: ParkedPress) -> ActionResult:
        """amoCRM does not answer: checked on the cached task, the press is kept to be written
        when amoCRM is back (under the task's action lease)."""
        cached = await self._store.get_task(press.task_id)
        if cached is None or cached.value is None:
            return ActionResult(outcome=Outcome.CRM_ERROR)  # nothing to check the rights on
        refusal = await self._verdict(actor, cached.value)
        if refusal is not None:
            return refusal
        waiting = await parked(self._store, press.task_id)
        waiting.append(press.model_copy(update={"task_text": cached.value.text[:200]}))
        await keep_parked(self._store, press.task_id, waiting, self._clock.now())
        return ActionResult(outcome=Outcome.PARKED, task=cached.value)

    async def replay_parked(self, limit: int = 20) -> int:
        """Write the presses parked while amoCRM did not answer, oldest first per task, and tell
        each presser; returns how many tasks were claimed."""
        return await work_due(
            self._store, PARK_QUEUE, self._clock.now(), limit, PARK_FAILED_S, self._replay,
            clock=self._clock.now, failures=self._replay_failures,
        )  # fmt: skip

    async def _replay(self, item: DueItem) -> None:
        task_id = int(item.payload)
        owner = uuid.uuid4().hex
        lease = f"task-action:{task_id}"
        if not await self._store.acquire_lease(lease, owner, LEASE_S):
            return  # a press on the task right now: the entry comes back when its claim runs out
        try:
            waiting = await parked(self._store, task_id)
            while waiting:
                press = waiting[0]
                actor = await self._directory.user(press.actor_id)
                plan = await self._plan(actor, press) if actor is not None else None
                if actor is None or plan is None:
                    result = ActionResult(outcome=Outcome.DENIED)
                elif isinstance(plan, ActionResult):
                    result = plan
                else:
                    sending = partial(mark_sent, self._store, task_id, waiting)
                    result = await self._write(actor, press, plan, park=False, sending=sending)
                if result.outcome is Outcome.PARKED:  # amoCRM still does not answer
                    waiting[0] = press.model_copy(update={"attempt": press.attempt + 1})
                    break
                waiting.pop(0)
                # Queued once per press, then saved: a crash in between replays the press,
                # which finds its own write applied and queues no second notice.
                await self._say_parked(press, result)
                await keep_parked(self._store, task_id, waiting, self._clock.now())
            await keep_parked(self._store, task_id, waiting, self._clock.now())
        finally:
            await self._store.release_lease(lease, owner)

    async def _say_parked(self, press: ParkedPress, result: ActionResult) -> None:
        if result.outcome is Outcome.UNKNOWN:
            return  # settled from the write_settle queue, which tells the presser
        once = notice_key(press)
        if result.outcome is Outcome.DONE:
            await self._say(press.actor_id, press.via, press.lang, "parked_done", once=once,
                            text=press.task_text)  # fmt: skip
            return
        why = self._t(press.lang, f"action_{result.outcome.value}")
        await self._say(press.actor_id, press.via, press.lang, "parked_not_done", once=once,
                        text=press.task_text, why=why)  # fmt: skip

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
        await self._done(task, pending.note, pending.actor_id, pending.via, pending.press)

    async def settle_due(self, limit: int = 20) -> int:
        """Read again the tasks whose writes were not confirmed and tell each presser what
        became of their press; returns how many were claimed."""
        return await work_due(
            self._store, SETTLE_QUEUE, self._clock.now(), limit, SETTLE_RETRY_S, self._settle,
            clock=self._clock.now, failures=self._settle_failures,
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
        await self._say(pending.actor_id, pending.via, pending.lang, key, text=pending.task_text)

    async def _say(
        self,
        actor_id: int,
        via: str,
        lang: Lang,
        key: str,
        *,
        once: str | None = None,
        **params: object,
    ) -> None:
        """A message to the presser, in the messenger they pressed in (queued at most once per
        ``once`` key)."""
        if via not in ("telegram", "slack"):
            return
        channel: Channel = "telegram" if via == "telegram" else "slack"
        link = await self._links.by_amo(actor_id, channel)
        if link is None:
            return
        await self._outbox.enqueue([OutboxItem(
            channel=channel, chat_id=link.chat_id, recipient=actor_id,
            card=TextMessage(text=self._t(lang, key, **params)),
        )], once=once, once_ttl_s=PARK_TTL_S)  # fmt: skip

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


def _claim(actor: User, via: str, patch: TaskPatch) -> Claim:
    return Claim(
        actor_id=actor.id, via=via, is_completed=patch.is_completed,
        complete_till=patch.complete_till, responsible_user_id=patch.responsible_user_id,
    )  # fmt: skip


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
