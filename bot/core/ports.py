"""What the core needs from the outside world, as protocols; `integrations/` implements them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.core.domain import (
    Account,
    AmoEvent,
    Deal,
    LossReason,
    NewTask,
    Pipeline,
    Task,
    TaskPatch,
    User,
)


class CrmError(Exception):
    """amoCRM could not do what was asked. ``maybe_applied``: a write may have gone through
    anyway (the answer was lost), so the caller must re-read before trying again.
    ``in_flight``: amoCRM may still be working on it (no answer came, or a gateway's), so a
    re-read that shows nothing yet does not prove that nothing will happen.
    ``access_lost``: amoCRM refuses our token (a 401, a refused refresh): nothing will work
    until the integration is authorised again, so amoCRM work waits rather than fails.
    ``expected``: an answer amoCRM documents (401, 402, 403, 429, 5xx, no answer), not a bug
    of ours: logged as one line, without a traceback (``bot.core.FailureNote``)."""

    maybe_applied: bool = False
    in_flight: bool = False
    access_lost: bool = False
    expected: bool = False


class CrmReader(Protocol):
    """The amoCRM reads the event pipeline uses (``integrations.amocrm.AmoClient`` has them)."""

    async def account(self) -> Account: ...

    async def task(self, task_id: int) -> Task | None: ...

    async def lead(self, lead_id: int) -> Deal | None: ...

    async def tasks(
        self,
        *,
        ids: Sequence[int] | None = None,
        updated_since: int | None = None,
        is_completed: bool | None = None,
        deal_id: int | None = None,
    ) -> list[Task]: ...

    async def leads(
        self,
        *,
        ids: Sequence[int] | None = None,
        updated_since: int | None = None,
        statuses: Sequence[tuple[int, int]] | None = None,
        closed_between: tuple[int, int] | None = None,
    ) -> list[Deal]: ...

    async def events(
        self,
        *,
        created_since: int,
        types: Sequence[str] = (),
        entities: Sequence[str] = (),
        entity_ids: Sequence[int] = (),
    ) -> list[AmoEvent]: ...


class Crm(CrmReader, Protocol):
    """Everything the services use of amoCRM: the reads above, the directory, and the writes."""

    async def users(self) -> list[User]: ...

    async def pipelines(self) -> list[Pipeline]: ...

    async def loss_reasons(self) -> list[LossReason]: ...

    async def update_task(self, patch: TaskPatch) -> int: ...

    async def create_task(self, task: NewTask) -> int: ...

    async def update_lead_responsible(self, lead_id: int, user_id: int) -> int: ...

    async def add_lead_note(
        self, lead_id: int, text: str, *, note_type: str = "common"
    ) -> int: ...
