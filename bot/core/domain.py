"""The core's own types: what amoCRM data means to amobridge, free of any wire format.

Times are Unix seconds (ints), as amoCRM gives them; conversion to a user's timezone happens
where a message is rendered.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Value(BaseModel):
    """Base of every domain value: immutable, strict about unknown fields, JSON round-trippable."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Right(StrEnum):
    """amoCRM right letters: all, group, own, denied."""

    ALL = "A"
    GROUP = "G"
    OWN = "M"
    DENIED = "D"


class Rights(Value):
    leads_view: Right = Right.DENIED
    leads_edit: Right = Right.DENIED
    tasks_edit: Right = Right.DENIED
    tasks_delete: Right = Right.DENIED
    is_admin: bool = False


class User(Value):
    id: int
    name: str
    email: str | None = None
    lang: str = "ru"
    is_active: bool = True
    group_id: int | None = None
    rights: Rights = Rights()


class Group(Value):
    id: int
    name: str


class TaskType(Value):
    id: int
    name: str
    code: str | None = None


class Account(Value):
    id: int
    name: str
    subdomain: str
    timezone: str = "UTC"
    current_user_id: int | None = None
    groups: tuple[Group, ...] = ()
    task_types: tuple[TaskType, ...] = ()


class Status(Value):
    id: int
    name: str
    pipeline_id: int
    sort: int = 0
    type: int = 0


class Pipeline(Value):
    id: int
    name: str
    is_main: bool = False
    statuses: tuple[Status, ...] = ()


WON_STATUS_ID = 142
LOST_STATUS_ID = 143

EntityKind = Literal["task", "deal"]


class Task(Value):
    id: int
    text: str = ""
    type_id: int | None = None
    responsible_user_id: int
    created_by: int | None = None
    group_id: int | None = None
    entity_type: str | None = None  # amoCRM's plural: leads, contacts, companies, customers
    entity_id: int | None = None
    complete_till: int
    is_completed: bool = False
    result_text: str | None = None
    created_at: int = 0
    updated_at: int = 0

    @property
    def deal_id(self) -> int | None:
        return self.entity_id if self.entity_type == "leads" else None


class Deal(Value):
    id: int
    name: str = ""
    price: int = 0
    status_id: int
    pipeline_id: int
    responsible_user_id: int
    group_id: int | None = None
    loss_reason_id: int | None = None
    tags: tuple[str, ...] = ()
    created_by: int | None = None
    created_at: int = 0
    updated_at: int = 0
    closed_at: int | None = None
    closest_task_at: int | None = None
    is_deleted: bool = False


class LossReason(Value):
    id: int
    name: str


class OAuthTokens(Value):
    access_token: str
    refresh_token: str
    expires_at: int  # Unix seconds

    def expires_within(self, now: float, margin_s: float) -> bool:
        return self.expires_at - margin_s <= now


class AmoEvent(Value):
    """One item of ``GET /api/v4/events``; ``value_*`` keep amoCRM's shapes (lists of dicts)."""

    id: str
    type: str
    entity_type: str  # singular here: lead, task, contact, ...
    entity_id: int
    created_at: int
    created_by: int | None = None
    value_after: list[dict[str, object]] = Field(default_factory=list)
    value_before: list[dict[str, object]] = Field(default_factory=list)


class HintSource(StrEnum):
    WEBHOOK = "webhook"
    POLL = "poll"
    SYNC = "sync"
    ACTION = "action"  # a button pressed in a messenger, written back by amobridge


HintAction = Literal["add", "update", "delete", "status", "responsible", "complete"]


class EntityHint(Value):
    """A sign that an entity changed. Never trusted: the entity is re-read through the API.

    What a hint says about the previous state (old status, old responsible) is kept so that the
    first sight of an entity that is not in the cache can still be described as a change.
    """

    kind: EntityKind
    id: int
    source: HintSource
    action: HintAction = "update"
    old_status_id: int | None = None
    old_pipeline_id: int | None = None
    old_responsible_user_id: int | None = None
    actor_id: int | None = None
    at: int | None = None  # when the change happened, if the hint says
    via: str | None = None  # the channel an action came from ("telegram"); None: amoCRM itself


class CrmEventKind(StrEnum):
    DEAL_CREATED = "deal_created"
    DEAL_STATUS_CHANGED = "deal_status_changed"
    DEAL_RESPONSIBLE_CHANGED = "deal_responsible_changed"
    DEAL_UPDATED = "deal_updated"
    DEAL_DELETED = "deal_deleted"
    TASK_CREATED = "task_created"
    TASK_COMPLETED = "task_completed"
    TASK_DEADLINE_CHANGED = "task_deadline_changed"
    TASK_RESPONSIBLE_CHANGED = "task_responsible_changed"
    TASK_UPDATED = "task_updated"
    TASK_DELETED = "task_deleted"


class ChangeContext(Value):
    """Who changed a deal or a task, how, and the entity before and after: what a ``CrmEvent``
    records and an alert about it (``alerts.Alert``) carries on, so the two cannot drift apart.

    ``task``/``deal`` hold the entity after the change; ``previous_*`` the cached one before it.
    """

    actor_id: int | None = None
    via: str | None = None
    task: Task | None = None
    deal: Deal | None = None
    previous_task: Task | None = None
    previous_deal: Deal | None = None


class CrmEvent(ChangeContext):
    """One normalised change of a deal or a task, applied to the cache exactly once.

    ``key`` identifies the change (entity, version and kind) and is what deduplicates it.
    """

    key: str
    kind: CrmEventKind
    entity_kind: EntityKind
    entity_id: int
    version: int
    occurred_at: int


TaskEntityType = Literal["leads", "contacts", "companies", "customers"]


class WriteEffect(Value):
    """What a write to a task (or, for the responsible, a deal) changes that a re-read shows: what
    a ``TaskPatch`` sets and a pending write's claim (``crm.Claim``) waits to see. None: unset."""

    is_completed: bool | None = None
    complete_till: int | None = None
    responsible_user_id: int | None = None


class TaskPatch(WriteEffect):
    """A partial edit of one task; only the fields that are set are written.

    Complete: ``TaskPatch(id=1, is_completed=True, result_text="Called")``; snooze:
    ``complete_till=<ts>``; reassign: ``responsible_user_id=<id>``.
    """

    id: int
    result_text: str | None = None
    text: str | None = None


class NewTask(Value):
    """A task to create. ``responsible_user_id`` defaults (in amoCRM) to the token's user."""

    text: str
    complete_till: int
    responsible_user_id: int | None = None
    entity_type: TaskEntityType | None = None
    entity_id: int | None = None
    task_type_id: int | None = None
    duration: int | None = None  # seconds
    request_id: str | None = None  # echoed back by amoCRM


# The messengers amobridge speaks to.
Channel = Literal["telegram", "slack"]
CHANNELS: tuple[Channel, ...] = ("telegram", "slack")
