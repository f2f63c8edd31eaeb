"""Lead notes: POST/GET /api/v4/leads/{id}/notes and POST/GET /api/v4/leads/notes."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from aiohttp import web

from sandbox.amocrm.api.common import answers_query_errors, json_body, paged, query_of
from sandbox.amocrm.context import EmulatorContext, context_of, user_of
from sandbox.amocrm.problems import FieldError, hal, no_content, validation_failed
from sandbox.amocrm.query import Filters
from sandbox.amocrm.records import JsonDict

routes = web.RouteTableDef()

NOTE_TYPES = (
    "common",
    "service_message",
    "extended_service_message",
    "call_in",
    "call_out",
    "sms_in",
    "sms_out",
    "geolocation",
    "attachment",
)
# The params each type must carry (other types are stored as sent).
_REQUIRED_PARAMS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"common": ("text",), "service_message": ("service", "text")}
)


def _item_errors(ctx: EmulatorContext, item: Any, lead_id: int | None) -> list[FieldError]:
    if not isinstance(item, dict):
        return [FieldError("InvalidType", "", "Item must be an object.")]
    errors: list[FieldError] = []
    entity_id = lead_id if lead_id is not None else item.get("entity_id")
    lead = ctx.state.leads.get(entity_id) if isinstance(entity_id, int) else None
    if lead is None or lead.is_deleted:
        errors.append(FieldError("NotSupportedChoice", "entity_id", "Entity not found."))
    note_type = item.get("note_type")
    if note_type not in NOTE_TYPES:
        errors.append(
            FieldError(
                "NotSupportedChoice", "note_type", "The value you selected is not a valid choice."
            )
        )
    params = item.get("params")
    if not isinstance(params, dict):
        errors.append(FieldError("InvalidType", "params", "This value should be object."))
        return errors
    for name in _REQUIRED_PARAMS.get(str(note_type), ()):
        if not isinstance(params.get(name), str) or not params[name]:
            errors.append(
                FieldError("NotBlank", f"params.{name}", "This value should not be blank.")
            )
    for name in ("created_by", "responsible_user_id"):
        value = item.get(name)
        if value is not None and (not isinstance(value, int) or value not in ctx.state.users):
            errors.append(FieldError("NotSupportedChoice", name, "Unknown user."))
    return errors


async def _create(request: web.Request, lead_id: int | None) -> web.StreamResponse:
    ctx = context_of(request)
    body = await json_body(request)
    if not isinstance(body, list) or not body:
        problem = FieldError("InvalidType", "", "Request body must be a non-empty array.")
        return validation_failed([("0", [problem])])
    failures = [
        (_request_id(item, index), errors)
        for index, item in enumerate(body)
        if (errors := _item_errors(ctx, item, lead_id))
    ]
    if failures:
        return validation_failed(failures)
    created: list[JsonDict] = []
    for index, item in enumerate(body):
        note = ctx.actions.add_note(
            lead_id if lead_id is not None else item["entity_id"],
            item["note_type"],
            item["params"],
            by_user=item.get("created_by") or user_of(request),
            responsible_user_id=item.get("responsible_user_id"),
        )
        created.append(
            {
                "id": note.id,
                "entity_id": note.entity_id,
                "request_id": _request_id(item, index),
                "_links": ctx.wire.links(f"/api/v4/leads/{note.entity_id}/notes/{note.id}"),
            }
        )
    path = f"/api/v4/leads/{lead_id}/notes" if lead_id is not None else "/api/v4/leads/notes"
    return hal({"_links": ctx.wire.links(path), "_embedded": {"notes": created}})


def _request_id(item: Any, index: int) -> str:
    value = item.get("request_id") if isinstance(item, dict) else None
    return str(index) if value is None else str(value)


@routes.post(r"/api/v4/leads/{id:\d+}/notes")
@answers_query_errors
async def create_for_lead(request: web.Request) -> web.StreamResponse:
    return await _create(request, int(request.match_info["id"]))


@routes.post("/api/v4/leads/notes")
@answers_query_errors
async def create_for_leads(request: web.Request) -> web.StreamResponse:
    return await _create(request, None)


@routes.get("/api/v4/leads/notes")
@routes.get(r"/api/v4/leads/{id:\d+}/notes")
@answers_query_errors
async def list_notes(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    query = query_of(request)
    filters = Filters.of(query)
    lead_ids = (
        [int(request.match_info["id"])]
        if "id" in request.match_info
        else filters.ints("entity_id")
    )
    types = filters.strs("note_type")
    notes = [
        ctx.wire.note(note)
        for note in ctx.state.notes.values()
        if (lead_ids is None or note.entity_id in lead_ids)
        and (not types or note.note_type in types)
    ]
    return paged(request, "notes", notes, max_limit=250)


@routes.get(r"/api/v4/leads/{id:\d+}/notes/{note_id:\d+}")
async def get_note(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    note = ctx.state.notes.get(int(request.match_info["note_id"]))
    if note is None or note.entity_id != int(request.match_info["id"]):
        return no_content()
    return hal(ctx.wire.note(note))
