"""The HTTP control API under /_control/: drive the account as a person would, inject faults,
look inside. No auth, no pace, not logged (the gate middleware skips it)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from sandbox.amocrm.actions import TaskEdit
from sandbox.amocrm.context import EmulatorContext, context_of

_Model = TypeVar("_Model", bound=BaseModel)
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class MoveLead(_Body):
    status_id: int
    pipeline_id: int | None = None
    loss_reason_id: int | None = None
    by_user: int | None = None


class NewTask(_Body):
    text: str
    responsible_user_id: int
    complete_till: int
    entity_id: int | None = None
    entity_type: str = "leads"
    task_type_id: int = 1
    by_user: int | None = None


class CompleteTask(_Body):
    result_text: str | None = None
    by_user: int | None = None


class EditTask(_Body):
    complete_till: int | None = None
    responsible_user_id: int | None = None
    text: str | None = None
    by_user: int | None = None


class AddFault(_Body):
    kind: str
    count: int = 1
    delay_s: float = 0.0
    path_prefix: str = "/api/v4/"
    non_json: bool = False
    method: str | None = None


class IssueCode(_Body):
    user_id: int | None = None


class SwitchWebhooks(_Body):
    enabled: bool


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _read(request: web.Request, model: type[_Model]) -> _Model:
    text = await request.text()
    return model.model_validate_json(text or "{}")


def _answers_errors(handler: _Handler) -> _Handler:
    @wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ValidationError as exc:
            return _error(
                400,
                "; ".join(
                    f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors()
                ),
            )
        except KeyError as exc:
            return _error(404, f"not found: {exc.args[0] if exc.args else ''}")
        except ValueError as exc:
            return _error(400, str(exc))

    return wrapped


def _ctx(request: web.Request) -> EmulatorContext:
    return context_of(request)


async def get_state(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    state, wire = ctx.state, ctx.wire
    return web.json_response(
        {
            "account": {"id": state.account_id, "subdomain": state.subdomain, "name": state.name},
            "users": [wire.user(u) for u in state.users.values()],
            "leads": [wire.lead(lead) for lead in state.leads.values() if not lead.is_deleted],
            "tasks": [wire.task(t) for t in state.tasks.values()],
        }
    )


@_answers_errors
async def move_lead(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await _read(request, MoveLead)
    lead_id = int(request.match_info["id"])
    ctx.actions.move_lead(lead_id, body.status_id, pipeline_id=body.pipeline_id,
                          loss_reason_id=body.loss_reason_id, by_user=body.by_user)  # fmt: skip
    return web.json_response(ctx.wire.lead(ctx.state.leads[lead_id]))


@_answers_errors
async def add_task(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await _read(request, NewTask)
    task_id = ctx.actions.add_task(
        body.text,
        responsible_user_id=body.responsible_user_id,
        complete_till=body.complete_till,
        entity_type=body.entity_type,
        entity_id=body.entity_id,
        task_type_id=body.task_type_id,
        by_user=body.by_user,
    )
    return web.json_response(ctx.wire.task(ctx.state.tasks[task_id]), status=201)


@_answers_errors
async def complete_task(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await _read(request, CompleteTask)
    edit = TaskEdit(is_completed=True, result_text=body.result_text)
    task = ctx.actions.edit_task(int(request.match_info["id"]), edit, by_user=body.by_user)
    return web.json_response(ctx.wire.task(task))


@_answers_errors
async def edit_task(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await _read(request, EditTask)
    edit = TaskEdit(
        complete_till=body.complete_till,
        responsible_user_id=body.responsible_user_id,
        text=body.text,
    )
    task = ctx.actions.edit_task(int(request.match_info["id"]), edit, by_user=body.by_user)
    return web.json_response(ctx.wire.task(task))


@_answers_errors
async def add_fault(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await _read(request, AddFault)
    ctx.faults.add(
        body.kind,
        body.count,
        delay_s=body.delay_s,
        path_prefix=body.path_prefix,
        non_json=body.non_json,
        method=body.method,
    )
    return web.json_response({"pending": ctx.faults.pending})


async def revoke_tokens(request: web.Request) -> web.StreamResponse:
    _ctx(request).tokens.revoke_all()
    return web.json_response({"revoked": True})


@_answers_errors
async def issue_code(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await _read(request, IssueCode)
    user_id = ctx.state.admin_user_id if body.user_id is None else body.user_id
    ctx.state.user(user_id)
    return web.json_response({"code": ctx.tokens.issue_code(user_id)})


@_answers_errors
async def switch_webhooks(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await _read(request, SwitchWebhooks)
    ctx.hooks.enabled = body.enabled
    return web.json_response({"enabled": ctx.hooks.enabled})


def _records(items: list[Any]) -> web.Response:
    return web.json_response([dataclasses.asdict(item) for item in items])


async def get_requests(request: web.Request) -> web.StreamResponse:
    return _records(list(_ctx(request).request_log))


async def get_deliveries(request: web.Request) -> web.StreamResponse:
    return _records(list(_ctx(request).hooks.deliveries))


def control_routes() -> list[web.RouteDef]:
    return [
        web.get("/_control/state", get_state),
        web.post(r"/_control/leads/{id:\d+}/move", move_lead),
        web.post("/_control/tasks", add_task),
        web.post(r"/_control/tasks/{id:\d+}/complete", complete_task),
        web.patch(r"/_control/tasks/{id:\d+}", edit_task),
        web.post("/_control/faults", add_fault),
        web.post("/_control/tokens/revoke", revoke_tokens),
        web.post("/_control/oauth/code", issue_code),
        web.post("/_control/webhooks", switch_webhooks),
        web.get("/_control/requests", get_requests),
        web.get("/_control/webhooks/deliveries", get_deliveries),
    ]
