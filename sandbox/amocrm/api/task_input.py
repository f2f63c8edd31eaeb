"""Validation of POST/PATCH task items into typed inputs or amoCRM validation errors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sandbox.amocrm.problems import FieldError
from sandbox.amocrm.records import TASK_TYPES
from sandbox.amocrm.state import AccountState
from sandbox.amocrm.task_actions import ENTITY_TYPES, TaskEdit

MAX_BATCH = 250

_TYPE_NAMES: Mapping[type, str] = MappingProxyType({int: "int", str: "string", bool: "bool"})


@dataclass(frozen=True, slots=True)
class TaskInput:
    request_id: str
    id: int | None
    edit: TaskEdit


def _blank(path: str) -> FieldError:
    return FieldError("NotBlank", path, "This value should not be blank.")


def _choice(path: str) -> FieldError:
    return FieldError("NotSupportedChoice", path, "The value you selected is not a valid choice.")


class _Reader:
    """Reads typed fields off one item, collecting an error per bad field."""

    def __init__(self, item: dict[str, Any]) -> None:
        self.item = item
        self.errors: list[FieldError] = []

    def get(self, path: str, kind: type[Any], *, required: bool = False) -> Any:
        if path not in self.item or self.item[path] is None:
            if required:
                self.errors.append(_blank(path))
            return None
        value = self.item[path]
        # bool is an int in Python but not in amoCRM's schema.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            detail = f"This value should be of type {_TYPE_NAMES[kind]}."
            self.errors.append(FieldError("InvalidType", path, detail))
            return None
        return value


def _request_id(item: dict[str, Any], default: str) -> str:
    value = item.get("request_id")
    return default if value is None or isinstance(value, bool) else str(value)


def parse_item(
    item: Any,
    *,
    default_request_id: str,
    creating: bool,
    with_id: bool,
    state: AccountState,
) -> TaskInput | tuple[str, list[FieldError]]:
    if not isinstance(item, dict):
        return default_request_id, [FieldError("InvalidType", "", "Item must be an object.")]
    request_id = _request_id(item, default_request_id)
    read = _Reader(item)
    task_id = read.get("id", int, required=True) if with_id else None
    if task_id is not None and task_id not in state.tasks:
        read.errors.append(FieldError("NotFound", "id", "Task not found."))
    text = read.get("text", str, required=creating)
    if creating and text == "":
        read.errors.append(_blank("text"))
    complete_till = read.get("complete_till", int, required=creating)
    responsible = read.get("responsible_user_id", int)
    if responsible is not None and responsible not in state.users:
        read.errors.append(_choice("responsible_user_id"))
    task_type = read.get("task_type_id", int)
    if task_type is not None and task_type not in {t for t, _, _ in TASK_TYPES}:
        read.errors.append(_choice("task_type_id"))
    duration = read.get("duration", int)
    is_completed = read.get("is_completed", bool)
    result_text = _result_text(read)
    entity = _entity(read, state)
    if read.errors:
        return request_id, read.errors
    return TaskInput(
        request_id=request_id,
        id=task_id,
        edit=TaskEdit(
            text=text,
            complete_till=complete_till,
            responsible_user_id=responsible,
            is_completed=is_completed,
            result_text=result_text,
            task_type_id=task_type,
            duration=duration,
            entity=entity,
        ),
    )


def _result_text(read: _Reader) -> str | None:
    result = read.item.get("result")
    if result is None or result == []:
        return None
    if not isinstance(result, dict):
        read.errors.append(FieldError("InvalidType", "result", "This value should be object."))
        return None
    text = result.get("text")
    if not isinstance(text, str):
        read.errors.append(
            FieldError("InvalidType", "result.text", "This value should be of type string.")
        )
        return None
    return text


def _entity(read: _Reader, state: AccountState) -> tuple[str, int] | None:
    entity_type = read.get("entity_type", str)
    entity_id = read.get("entity_id", int)
    if entity_id is None:
        return None
    if entity_type is None:
        read.errors.append(_blank("entity_type"))
        return None
    if entity_type not in ENTITY_TYPES:
        read.errors.append(_choice("entity_type"))
        return None
    if entity_type == "leads":
        lead = state.leads.get(entity_id)
        if lead is None or lead.is_deleted:
            read.errors.append(_choice("entity_id"))
            return None
    return entity_type, entity_id


def parse_batch(
    body: Any, *, creating: bool, state: AccountState
) -> tuple[list[TaskInput], Sequence[tuple[str, Sequence[FieldError]]]]:
    """All items, or the errors of every failing one (nothing is applied if any fails)."""
    if not isinstance(body, list) or not body:
        error = FieldError("InvalidType", "", "Request body must be a non-empty array.")
        return [], [("0", [error])]
    if len(body) > MAX_BATCH:
        return [], [("0", [FieldError("TooMany", "", f"At most {MAX_BATCH} items per request.")])]
    inputs: list[TaskInput] = []
    errors: list[tuple[str, Sequence[FieldError]]] = []
    for index, item in enumerate(body):
        parsed = parse_item(
            item,
            default_request_id=str(index),
            creating=creating,
            with_id=not creating,
            state=state,
        )
        if isinstance(parsed, TaskInput):
            inputs.append(parsed)
        else:
            errors.append(parsed)
    return inputs, errors
