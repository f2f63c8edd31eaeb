"""Values the client takes (writes) or returns where the core has no type of its own."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

TaskEntityType = Literal["leads", "contacts", "companies", "customers"]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskPatch(_Value):
    """A partial edit of one task; only the fields that are set are sent.

    Complete: ``TaskPatch(id=1, is_completed=True, result_text="Called")``; snooze:
    ``complete_till=<ts>``; reassign: ``responsible_user_id=<id>``.
    """

    id: int
    is_completed: bool | None = None
    result_text: str | None = None
    complete_till: int | None = None
    responsible_user_id: int | None = None
    text: str | None = None

    def wire_body(self, *, with_id: bool = False) -> dict[str, object]:
        body: dict[str, object] = {"id": self.id} if with_id else {}
        if self.is_completed is not None:
            body["is_completed"] = self.is_completed
        if self.result_text is not None:
            body["result"] = {"text": self.result_text}
        if self.complete_till is not None:
            body["complete_till"] = self.complete_till
        if self.responsible_user_id is not None:
            body["responsible_user_id"] = self.responsible_user_id
        if self.text is not None:
            body["text"] = self.text
        return body


class NewTask(_Value):
    """A task to create. ``responsible_user_id`` defaults (in amoCRM) to the token's user."""

    text: str
    complete_till: int
    responsible_user_id: int | None = None
    entity_type: TaskEntityType | None = None
    entity_id: int | None = None
    task_type_id: int | None = None
    duration: int | None = None  # seconds
    request_id: str | None = None  # echoed back by amoCRM

    def wire_body(self) -> dict[str, object]:
        return self.model_dump(exclude_none=True)


class Webhook(_Value):
    id: int
    destination: str
    settings: tuple[str, ...] = ()
    disabled: bool = False
    sort: int = 0
    created_at: int = 0
