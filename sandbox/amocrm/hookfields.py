"""The string fields of one webhook item (`leads[status][0][…]`); a dot nests (`result.text`)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from sandbox.amocrm.records import Lead, Task

# Webhooks number entity types where the API names them (reference §6).
_ELEMENT_TYPES: Mapping[str, str] = MappingProxyType(
    {"contacts": "1", "leads": "2", "companies": "3", "customers": "12"}
)


def lead_fields(lead: Lead, account_id: int) -> dict[str, str]:
    return {
        "id": str(lead.id),
        "name": lead.name,
        "status_id": str(lead.status_id),
        "pipeline_id": str(lead.pipeline_id),
        "price": str(lead.price),
        "responsible_user_id": str(lead.responsible_user_id),
        "last_modified": str(lead.updated_at),
        "modified_user_id": str(lead.updated_by),
        "created_user_id": str(lead.created_by),
        "date_create": str(lead.created_at),
        "account_id": str(account_id),
        "created_at": str(lead.created_at),
        "updated_at": str(lead.updated_at),
    }


def lead_status_fields(
    lead: Lead, account_id: int, *, old_status_id: int, old_pipeline_id: int
) -> dict[str, str]:
    return {
        **lead_fields(lead, account_id),
        "old_status_id": str(old_status_id),
        "old_pipeline_id": str(old_pipeline_id),
    }


def task_fields(task: Task, account_id: int, *, closed_now: bool = False) -> dict[str, str]:
    fields = {
        "id": str(task.id),
        "task_type": str(task.task_type_id),
        "text": task.text,
        "status": "1" if task.is_completed else "0",
        "responsible_user_id": str(task.responsible_user_id),
        "created_user_id": str(task.created_by),
        "modified_user_id": str(task.updated_by),
        "date_create": str(task.created_at),
        "last_modified": str(task.updated_at),
        "complete_till": str(task.complete_till),
        "account_id": str(account_id),
    }
    element_type = _ELEMENT_TYPES.get(task.entity_type or "")
    if task.entity_id is not None and element_type is not None:
        fields["element_id"] = str(task.entity_id)
        fields["element_type"] = element_type
    if closed_now:
        fields["action_close"] = "1"
    if task.result_text is not None:
        if task.result_note_id is not None:
            fields["result.id"] = str(task.result_note_id)
        fields["result.text"] = task.result_text
    return fields
