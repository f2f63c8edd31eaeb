"""The emulated account's records: immutable values, replaced whole on every change."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypedDict

JsonDict = dict[str, Any]
Right = Literal["A", "G", "M", "D"]

WON_STATUS_ID = 142
LOST_STATUS_ID = 143

# The two built-in task types every account has (reference §2).
TASK_TYPES: tuple[tuple[int, str, str], ...] = (
    (1, "Связаться", "FOLLOW_UP"),
    (2, "Встреча", "MEETING"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    id: int
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: int
    name: str
    email: str
    lang: str
    group_id: int
    is_admin: bool
    is_active: bool
    leads_view: Right
    leads_edit: Right
    tasks_edit: Right
    tasks_delete: Right


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    id: int
    pipeline_id: int
    name: str
    sort: int
    color: str
    type: int
    is_editable: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Pipeline:
    id: int
    name: str
    sort: int
    is_main: bool
    status_ids: tuple[int, ...]


class Made(TypedDict):
    """The fields of a new deal, task or note that say which it is, whose, and who made it when."""

    id: int
    responsible_user_id: int
    group_id: int
    created_by: int
    created_at: int


class MadeAndUpdated(Made):
    """``Made``, for a record that also keeps who changed it last and when (as yet its maker)."""

    updated_by: int
    updated_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Lead:
    id: int
    name: str
    price: int
    status_id: int
    pipeline_id: int
    responsible_user_id: int
    group_id: int
    created_by: int
    updated_by: int
    created_at: int
    updated_at: int
    closed_at: int | None = None
    loss_reason_id: int | None = None
    is_deleted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class LossReason:
    """Why a deal was lost, as the account's admins list them (Settings → loss reasons)."""

    id: int
    name: str
    sort: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    id: int
    text: str
    task_type_id: int
    responsible_user_id: int
    group_id: int
    entity_type: str | None
    entity_id: int | None
    complete_till: int
    created_by: int
    updated_by: int
    created_at: int
    updated_at: int
    is_completed: bool = False
    result_text: str | None = None
    result_note_id: int | None = None
    duration: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    id: int
    entity_id: int
    note_type: str
    params: JsonDict
    responsible_user_id: int
    group_id: int
    created_by: int
    created_at: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    id: str
    seq: int
    type: str
    entity_type: str  # singular: "lead", "task"
    entity_id: int
    created_by: int
    created_at: int
    value_after: tuple[JsonDict, ...] = ()
    value_before: tuple[JsonDict, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    id: int
    destination: str
    settings: tuple[str, ...]
    sort: int
    created_by: int
    created_at: int
    updated_at: int
    disabled: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class HookChange:
    """One UI-like change as webhooks see it: the entity key, the actions it triggers and the
    string fields each action's item carries (actions share one POST per destination)."""

    entity: Literal["leads", "task"]
    actions: Mapping[str, Mapping[str, str]]

    def setting(self, action: str) -> str:
        """The webhook setting that subscribes to `action` (e.g. "status" -> "status_lead")."""
        return f"{action}_{'lead' if self.entity == 'leads' else 'task'}"
