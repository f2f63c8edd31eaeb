"""The HTTP control API under /_control/: drive the account as a person would, inject faults,
look inside. No auth, no pace, not logged (the gate middleware skips it)."""

from __future__ import annotations

from aiohttp import web

from sandbox.amocrm.actions import LeadEdit
from sandbox.amocrm.context import EmulatorContext, context_of
from sandbox.amocrm.task_actions import TaskEdit
from sandbox.common.control import ControlBody as _Body
from sandbox.common.control import ControlRoutes, read_body


class _Change(_Body):
    """A change a person makes in the UI: ``by_user``, who (None: the account's admin)."""

    by_user: int | None = None


class EditLead(_Change):
    price: int | None = None
    closed_at: int | None = None  # an open deal's planned close date
    name: str | None = None


class NewLead(EditLead):
    name: str
    responsible_user_id: int
    status_id: int | None = None  # None: the first stage of the pipeline
    pipeline_id: int | None = None  # None: the main pipeline


class MoveLead(_Change):
    status_id: int
    pipeline_id: int | None = None
    loss_reason_id: int | None = None


class NewTask(_Change):
    text: str
    responsible_user_id: int
    complete_till: int
    entity_id: int | None = None
    entity_type: str = "leads"
    task_type_id: int = 1


class CompleteTask(_Change):
    result_text: str | None = None


class EditTask(_Change):
    complete_till: int | None = None
    responsible_user_id: int | None = None
    text: str | None = None


class FaultOrder(_Body):
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


def _ctx(request: web.Request) -> EmulatorContext:
    return context_of(request)


CONTROL = ControlRoutes(
    _ctx,
    FaultOrder,
    not_found=lambda exc: f"not found: {exc.args[0] if exc.args else ''}",
    log="the API request log",
    faults='{"kind": "429|500|503|slow|timeout|html403", "count": 3}',
)


@CONTROL.get("/_control/state", "users, deals and tasks")
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


@CONTROL.post(
    "/_control/leads",
    '{"name", "responsible_user_id", "price"?, "closed_at"?, "status_id"?, "pipeline_id"?}',
)
async def add_lead(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await read_body(request, NewLead)
    state = ctx.state
    pipeline_id = body.pipeline_id
    if pipeline_id is None:
        pipeline_id = next(p.id for p in state.pipelines.values() if p.is_main)
    status_id = body.status_id
    if status_id is None:
        status_id = state.pipelines[pipeline_id].status_ids[0]
    lead_id = ctx.actions.add_lead(
        body.name, status_id=status_id, pipeline_id=pipeline_id,
        responsible_user_id=body.responsible_user_id, price=body.price or 0,
        closed_at=body.closed_at, by_user=body.by_user,
    )  # fmt: skip
    return web.json_response(ctx.wire.lead(state.leads[lead_id]), status=201)


@CONTROL.patch(r"/_control/leads/{id:\d+}", '{"price"?, "closed_at"?, "name"?}')
async def edit_lead(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await read_body(request, EditLead)
    lead_id = int(request.match_info["id"])
    edit = LeadEdit(price=body.price, closed_at=body.closed_at, name=body.name)
    ctx.actions.edit_lead(lead_id, edit, by_user=body.by_user)
    return web.json_response(ctx.wire.lead(ctx.state.leads[lead_id]))


@CONTROL.post(r"/_control/leads/{id:\d+}/move", '{"status_id": 142}')
async def move_lead(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await read_body(request, MoveLead)
    lead_id = int(request.match_info["id"])
    ctx.actions.move_lead(lead_id, **body.model_dump())
    return web.json_response(ctx.wire.lead(ctx.state.leads[lead_id]))


@CONTROL.post("/_control/tasks", '{"text", "responsible_user_id", "complete_till", "entity_id"?}')
async def add_task(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await read_body(request, NewTask)
    task_id = ctx.actions.add_task(**body.model_dump())
    return web.json_response(ctx.wire.task(ctx.state.tasks[task_id]), status=201)


def _edited(request: web.Request, edit: TaskEdit, by_user: int | None) -> web.Response:
    ctx = _ctx(request)
    task = ctx.actions.edit_task(int(request.match_info["id"]), edit, by_user=by_user)
    return web.json_response(ctx.wire.task(task))


@CONTROL.post(r"/_control/tasks/{id:\d+}/complete", '{"result_text"?}')
async def complete_task(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, CompleteTask)
    return _edited(request, TaskEdit(is_completed=True, result_text=body.result_text),
                   body.by_user)  # fmt: skip


@CONTROL.patch(r"/_control/tasks/{id:\d+}", '{"complete_till"?, "responsible_user_id"?, "text"?}')
async def edit_task(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, EditTask)
    return _edited(request, TaskEdit(**body.model_dump(exclude={"by_user"})), body.by_user)


@CONTROL.post("/_control/tokens/revoke", "every token stops working")
async def revoke_tokens(request: web.Request) -> web.StreamResponse:
    _ctx(request).tokens.revoke_all()
    return web.json_response({"revoked": True})


@CONTROL.post("/_control/tokens/refresh/revoke", "refresh tokens stop working; access ones last")
async def revoke_refresh_tokens(request: web.Request) -> web.StreamResponse:
    _ctx(request).tokens.revoke_refresh()
    return web.json_response({"revoked": "refresh"})


@CONTROL.post("/_control/tokens/expire", "OAuth access tokens expire now (a refresh is due)")
async def expire_access_tokens(request: web.Request) -> web.StreamResponse:
    _ctx(request).tokens.expire_access()
    return web.json_response({"expired": "access"})


@CONTROL.post("/_control/oauth/code", '{"user_id"?} -> {"code"}')
async def issue_code(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await read_body(request, IssueCode)
    user_id = ctx.state.admin_user_id if body.user_id is None else body.user_id
    ctx.state.user(user_id)
    return web.json_response({"code": ctx.tokens.issue_code(user_id)})


@CONTROL.post("/_control/webhooks", '{"enabled": false}')
async def switch_webhooks(request: web.Request) -> web.StreamResponse:
    ctx = _ctx(request)
    body = await read_body(request, SwitchWebhooks)
    ctx.hooks.enabled = body.enabled
    return web.json_response({"enabled": ctx.hooks.enabled})


CONTROL.records(
    "/_control/webhooks/deliveries",
    "every webhook delivery attempt",
    lambda request: _ctx(request).hooks.deliveries,
)
