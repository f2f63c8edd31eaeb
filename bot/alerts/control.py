"""Control tasks: with the account's ``control_tasks`` on, each escalation also leaves a task for
the supervisor on the deal in amoCRM ("Check why Ivan has not acted on …"), and amobridge closes
it when the original task is completed (or deleted).

Once per task and deadline, by construction: the escalation puts a job into a due queue with
``Store.put_due_once`` (the job and its once-key in one atomic step), and whichever replica
claims the job writes. amoCRM takes no idempotency key, so before creating, the job reads the
deal's recent open tasks back and looks for its own marker (the original task's id and deadline,
in the task's text): a job that crashed after amoCRM created the task, or whose answer was lost,
finds it there and only records it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bot.alerts.kinds import Alert
from bot.core import (
    Catalogue,
    Clock,
    Crm,
    FailureNote,
    Lang,
    NewTask,
    TaskPatch,
    Value,
    as_lang,
)
from bot.crm import Claims, Directory
from bot.store import DueEntry, DueItem, Store, work_due

CONTROL_QUEUE = "control-tasks"
CONTROL_NS = "control_task"  # original task id → the control tasks made for it
RETRY_S = 120.0  # a job amoCRM refused or did not answer is tried again after this
ONCE_TTL_S = 30 * 24 * 3600
READ_BACK_S = 3600  # a control task is looked for among the tasks changed since its job, less this
CONTROL_DUE_S = 24 * 3600  # the supervisor has a day to look into it
CONTROL_TYPE_ID = 1  # "Follow up", every account has it


class ControlJob(Value):
    op: Literal["create", "close"]
    task_id: int
    queued_at: int
    deadline: int = 0
    deal_id: int | None = None
    supervisor: int | None = None
    responsible: int | None = None
    text: str = ""


class ControlRecord(Value):
    ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class ControlTasks:
    _store: Store
    _crm: Crm
    _directory: Directory
    _clock: Clock
    _t: Catalogue
    _failures: FailureNote  # the jobs' (one per service, kept across calls)

    async def escalated(self, alerts: Sequence[Alert], supervisor_of: dict[int, int]) -> None:
        """Queue a control task for each escalation on a deal; ``supervisor_of``: the original
        task id → the supervisor who gets it (tasks with nobody to check them are skipped)."""
        now = int(self._clock.now())
        for alert in alerts:
            task = alert.task
            if task is None or task.deal_id is None or task.id not in supervisor_of:
                continue
            job = ControlJob(
                op="create", task_id=task.id, queued_at=now, deadline=task.complete_till,
                deal_id=task.deal_id, supervisor=supervisor_of[task.id],
                responsible=task.responsible_user_id, text=task.text,
            )  # fmt: skip
            entry = DueEntry(item_id=f"create:{task.id}:{task.complete_till}", due_at=now,
                             payload=job.model_dump_json())  # fmt: skip
            once = f"control:{task.id}:{task.complete_till}"
            await self._store.put_due_once(CONTROL_QUEUE, [entry], once, ONCE_TTL_S)
        await self.work()

    async def task_done(self, task_id: int) -> None:
        """The original task was completed or deleted: close its control tasks, if any."""
        if await self._store.get_doc(CONTROL_NS, str(task_id)) is None:
            return
        now = int(self._clock.now())
        job = ControlJob(op="close", task_id=task_id, queued_at=now)
        await self._store.put_due_many(CONTROL_QUEUE, [
            DueEntry(item_id=f"close:{task_id}", due_at=now, payload=job.model_dump_json())
        ])  # fmt: skip
        await self.work()

    async def work(self) -> int:
        """Do the queued jobs (also the scan's job: one left by a crash is done on the next)."""
        return await work_due(
            self._store, CONTROL_QUEUE, self._clock.now(), 20, RETRY_S, self._do,
            clock=self._clock.now, failures=self._failures,
        )  # fmt: skip

    async def _do(self, item: DueItem) -> None:
        job = ControlJob.model_validate_json(item.payload)
        # When amoCRM says no or does not answer, the job stays claimed and is tried again when
        # its retry delay (a create reads back first); the failure note logs an expected
        # answer once, without a traceback.
        if job.op == "create":
            await self._create(job)
        else:
            await self._close(job)
        await self._store.complete_due(item)

    async def _create(self, job: ControlJob) -> None:
        assert job.deal_id is not None
        text = await self._text(job)
        marker = self._marker(job)
        since = job.queued_at - READ_BACK_S
        made = [
            t.id for t in await self._crm.tasks(updated_since=since, is_completed=False)
            if t.deal_id == job.deal_id and marker in t.text
        ]  # fmt: skip
        if not made:
            due = max(int(self._clock.now()), job.deadline) + CONTROL_DUE_S
            task = NewTask(
                text=text, complete_till=due, responsible_user_id=job.supervisor,
                entity_type="leads", entity_id=job.deal_id, task_type_id=CONTROL_TYPE_ID,
            )  # fmt: skip
            # amoCRM will name the token's user as its author and tell the supervisor of a "new
            # task from Anna Admin"; it is amobridge's, made for the supervisor, who heard of the
            # escalation already: credited to them, so routing tells nobody of their own task.
            claims, supervisor = Claims(self._store), job.supervisor
            if supervisor is not None:
                await claims.put_new_task(task, supervisor, "amocrm")
            made = [await self._crm.create_task(task)]
            if supervisor is not None:
                await claims.put_author(made[0], supervisor)
        await self._record(job.task_id, made)

    async def _close(self, job: ControlJob) -> None:
        raw = await self._store.get_doc(CONTROL_NS, str(job.task_id))
        record = ControlRecord.model_validate_json(raw) if raw else ControlRecord()
        lang = await self._lang()
        for control_id in record.ids:
            current = await self._crm.task(control_id)
            if current is None or current.is_completed:
                continue  # closed (or deleted) by someone already
            await self._crm.update_task(TaskPatch(
                id=control_id, is_completed=True, result_text=self._t(lang, "control_task_closed")
            ))  # fmt: skip
        await self._store.delete_doc(CONTROL_NS, str(job.task_id))

    async def _record(self, task_id: int, ids: list[int]) -> None:
        raw = await self._store.get_doc(CONTROL_NS, str(task_id))
        record = ControlRecord.model_validate_json(raw) if raw else ControlRecord()
        merged = tuple(dict.fromkeys((*record.ids, *ids)))
        await self._store.put_doc(CONTROL_NS, str(task_id), ControlRecord(ids=merged)
                                  .model_dump_json(), ttl_s=ONCE_TTL_S)  # fmt: skip

    async def _lang(self) -> Lang:
        """The account's language: that of its integration user (amoCRM has no account-wide
        one in the API)."""
        account = await self._directory.account()
        owner = await self._directory.user(account.current_user_id or 0)
        return as_lang(owner.lang if owner else None)

    async def _text(self, job: ControlJob) -> str:
        responsible = await self._directory.user(job.responsible or 0)
        name = responsible.name if responsible else "?"
        lang = await self._lang()
        return self._t(lang, "control_task_text", name=name, task=job.text[:200],
                       marker=self._marker(job))  # fmt: skip

    def _marker(self, job: ControlJob) -> str:
        """What identifies the control task of this task and deadline in its text."""
        return f"#{job.task_id}/{job.deadline}"
