"""Tolerant models of amoCRM's JSON, and their conversion to the core's types.

Unknown fields are ignored (amoCRM adds fields without notice). PHP quirks are absorbed here and
nowhere else: an empty object serialised as ``[]`` (``"result": []``, ``"_embedded": []``), a
list that is ``null`` (``custom_fields_values``), a list serialised as an object with numbered
keys, and string event ids.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.core import (
    Account,
    AmoEvent,
    Deal,
    Group,
    LossReason,
    Pipeline,
    Right,
    Rights,
    Status,
    Task,
    TaskType,
    User,
)
from integrations.amocrm.values import Webhook

T = TypeVar("T")


def _object_or_none(value: object) -> object:
    """PHP writes an empty associative array as ``[]``: read it as "absent"."""
    return None if value == [] else value


def _list_or_empty(value: object) -> object:
    """``null`` is an empty list; ``{"0": a, "1": b}`` (a PHP array with gaps) is ``[a, b]``."""
    if value is None:
        return []
    if isinstance(value, dict):
        if all(isinstance(k, str) and k.isdigit() for k in value):
            return list(value.values())
        return [value]
    return value


def _to_str(value: object) -> object:
    return str(value) if isinstance(value, int) else value


PhpObj = Annotated[T | None, BeforeValidator(_object_or_none)]
PhpList = Annotated[list[T], BeforeValidator(_list_or_empty)]
LooseStr = Annotated[str, BeforeValidator(_to_str)]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


def _right(letter: str | None) -> Right:
    try:
        return Right(letter) if letter else Right.DENIED
    except ValueError:
        return Right.DENIED  # an unknown letter grants nothing


# --- paging envelope -----------------------------------------------------------------------


class WireHref(_Wire):
    href: str


class WireLinks(_Wire):
    next: PhpObj[WireHref] = None


class WirePage(_Wire):
    """``{"_links": {"next": …}, "_embedded": {"<key>": [ … ]}}``; items are validated apart."""

    links: PhpObj[WireLinks] = Field(default=None, alias="_links")
    embedded: PhpObj[dict[str, Any]] = Field(default=None, alias="_embedded")

    def items(self, key: str) -> list[Any]:
        raw = (self.embedded or {}).get(key)
        items = _list_or_empty(raw)
        return items if isinstance(items, list) else []

    @property
    def next_href(self) -> str | None:
        return self.links.next.href if self.links and self.links.next else None


# --- account and users ---------------------------------------------------------------------


class _WireNamed(_Wire):
    """An entity amoCRM gives as an id and a name (a group, a task type, a loss reason)."""

    id: int
    name: str = ""


class WireGroup(_WireNamed):
    def to_domain(self) -> Group:
        return Group(id=self.id, name=self.name)


class WireTaskType(_WireNamed):
    code: str | None = None

    def to_domain(self) -> TaskType:
        return TaskType(id=self.id, name=self.name, code=self.code)


class WireDatetimeSettings(_Wire):
    timezone: str | None = None


class WireAccountEmbedded(_Wire):
    users_groups: PhpList[WireGroup] = []
    task_types: PhpList[WireTaskType] = []
    datetime_settings: PhpObj[WireDatetimeSettings] = None


class WireAccount(_Wire):
    id: int
    name: str = ""
    subdomain: str = ""
    current_user_id: int | None = None
    embedded: PhpObj[WireAccountEmbedded] = Field(default=None, alias="_embedded")

    def to_domain(self) -> Account:
        emb = self.embedded or WireAccountEmbedded()
        tz = emb.datetime_settings.timezone if emb.datetime_settings else None
        return Account(
            id=self.id,
            name=self.name,
            subdomain=self.subdomain,
            timezone=tz or "UTC",
            current_user_id=self.current_user_id,
            groups=tuple(g.to_domain() for g in emb.users_groups),
            task_types=tuple(t.to_domain() for t in emb.task_types),
        )


class WireEntityRights(_Wire):
    view: str | None = None
    edit: str | None = None


class WireTaskRights(_Wire):
    edit: str | None = None
    delete: str | None = None


class WireRights(_Wire):
    leads: PhpObj[WireEntityRights] = None
    tasks: PhpObj[WireTaskRights] = None
    is_admin: bool = False
    is_active: bool = True
    group_id: int | None = None


class WireUser(_Wire):
    id: int
    name: str = ""
    email: str | None = None
    lang: str | None = None
    rights: PhpObj[WireRights] = None

    def to_domain(self) -> User:
        r = self.rights or WireRights()
        leads = r.leads or WireEntityRights()
        tasks = r.tasks or WireTaskRights()
        return User(
            id=self.id,
            name=self.name,
            email=self.email or None,
            lang=self.lang or "ru",
            is_active=r.is_active,
            group_id=r.group_id,
            rights=Rights(
                leads_view=_right(leads.view),
                leads_edit=_right(leads.edit),
                tasks_edit=_right(tasks.edit),
                tasks_delete=_right(tasks.delete),
                is_admin=r.is_admin,
            ),
        )


# --- pipelines, leads, tasks ---------------------------------------------------------------


class WireStatus(_Wire):
    id: int
    name: str = ""
    pipeline_id: int | None = None
    sort: int = 0
    type: int = 0


class WirePipelineEmbedded(_Wire):
    statuses: PhpList[WireStatus] = []


class WirePipeline(_Wire):
    id: int
    name: str = ""
    is_main: bool = False
    embedded: PhpObj[WirePipelineEmbedded] = Field(default=None, alias="_embedded")

    def to_domain(self) -> Pipeline:
        statuses = self.embedded.statuses if self.embedded else []
        return Pipeline(
            id=self.id,
            name=self.name,
            is_main=self.is_main,
            statuses=tuple(
                Status(
                    id=s.id,
                    name=s.name,
                    pipeline_id=s.pipeline_id or self.id,
                    sort=s.sort,
                    type=s.type,
                )
                for s in sorted(statuses, key=lambda s: s.sort)
            ),
        )


class WireLossReason(_WireNamed):
    def to_domain(self) -> LossReason:
        return LossReason(id=self.id, name=self.name)


class WireTag(_Wire):
    name: str = ""


class WireLeadEmbedded(_Wire):
    tags: PhpList[WireTag] = []


class _WireOwned(_Wire):
    """What a lead and a task both carry: who is responsible, who made it, and when."""

    id: int
    responsible_user_id: int
    group_id: int | None = None
    created_by: int | None = None
    created_at: int | None = None
    updated_at: int | None = None


class WireLead(_WireOwned):
    name: str | None = None
    price: float | None = None
    status_id: int
    pipeline_id: int
    loss_reason_id: int | None = None
    closed_at: int | None = None
    closest_task_at: int | None = None
    is_deleted: bool = False
    custom_fields_values: PhpList[dict[str, Any]] = []
    embedded: PhpObj[WireLeadEmbedded] = Field(default=None, alias="_embedded")

    def to_domain(self) -> Deal:
        tags = self.embedded.tags if self.embedded else []
        return Deal(
            id=self.id,
            name=self.name or "",
            price=round(self.price or 0),
            status_id=self.status_id,
            pipeline_id=self.pipeline_id,
            responsible_user_id=self.responsible_user_id,
            group_id=self.group_id,
            loss_reason_id=self.loss_reason_id or None,
            tags=tuple(t.name for t in tags if t.name),
            created_by=self.created_by,
            created_at=self.created_at or 0,
            updated_at=self.updated_at or 0,
            closed_at=self.closed_at or None,
            closest_task_at=self.closest_task_at or None,
            is_deleted=self.is_deleted,
        )


class WireTaskResult(_Wire):
    text: str | None = None


class WireTask(_WireOwned):
    text: str | None = None
    task_type_id: int | None = None
    entity_type: str | None = None
    entity_id: int | None = None
    complete_till: int | None = None
    is_completed: bool = False
    result: PhpObj[WireTaskResult] = None  # ``[]`` when the task has no result

    def to_domain(self) -> Task:
        return Task(
            id=self.id,
            text=self.text or "",
            type_id=self.task_type_id,
            responsible_user_id=self.responsible_user_id,
            created_by=self.created_by,
            group_id=self.group_id,
            # A task without an entity has entity_id 0 / entity_type null.
            entity_type=(self.entity_type or None) if self.entity_id else None,
            entity_id=self.entity_id or None,
            complete_till=self.complete_till or 0,
            is_completed=self.is_completed,
            result_text=self.result.text if self.result and self.result.text else None,
            created_at=self.created_at or 0,
            updated_at=self.updated_at or 0,
        )


# --- events and webhooks -------------------------------------------------------------------


class WireEvent(_Wire):
    id: LooseStr
    type: str
    entity_type: str
    entity_id: int
    created_at: int
    created_by: int | None = None
    value_after: PhpList[dict[str, Any]] = []
    value_before: PhpList[dict[str, Any]] = []

    def to_domain(self) -> AmoEvent:
        return AmoEvent(
            id=self.id,
            type=self.type,
            entity_type=self.entity_type,
            entity_id=self.entity_id,
            created_at=self.created_at,
            created_by=self.created_by or None,
            value_after=list(self.value_after),
            value_before=list(self.value_before),
        )


class WireWebhook(_Wire):
    id: int
    destination: str
    settings: PhpList[str] = []
    disabled: bool = False
    sort: int | None = None
    created_at: int | None = None

    def to_domain(self) -> Webhook:
        return Webhook(
            id=self.id,
            destination=self.destination,
            settings=tuple(self.settings),
            disabled=self.disabled,
            sort=self.sort or 0,
            created_at=self.created_at or 0,
        )


# --- write answers -------------------------------------------------------------------------


class WireWritten(_Wire):
    """One item of a write answer: ``{id, updated_at?, request_id?}``."""

    id: int
    updated_at: int | None = None
    request_id: LooseStr | None = None
