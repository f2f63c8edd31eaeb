"""Pipelines, statuses and leads: GET /api/v4/leads/pipelines…, /api/v4/leads[/{id}]."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from sandbox.amocrm.api.common import allows, answers_query_errors, json_body, paged, query_of
from sandbox.amocrm.context import EmulatorContext, context_of, user_of
from sandbox.amocrm.problems import FieldError, hal, no_content, problem, validation_failed
from sandbox.amocrm.query import Filters, order, with_set
from sandbox.amocrm.records import JsonDict, Lead

routes = web.RouteTableDef()


def _listing(ctx: EmulatorContext, path: str, key: str, items: list[JsonDict]) -> JsonDict:
    """A whole list of an account's settings (not paged), as amoCRM answers it."""
    return {"_total_items": len(items), "_links": ctx.wire.links(path),
            "_embedded": {key: items}}  # fmt: skip


@routes.get("/api/v4/leads/pipelines")
async def list_pipelines(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    pipelines = [ctx.wire.pipeline(p) for p in ctx.state.pipelines.values()]
    if not pipelines:
        return no_content()
    return hal(_listing(ctx, "/api/v4/leads/pipelines", "pipelines", pipelines))


async def _of_pipeline(
    request: web.Request, answer: Callable[[EmulatorContext, int], JsonDict]
) -> web.StreamResponse:
    """``answer`` about the pipeline the path names, or 404 for an unknown one."""
    ctx, pipeline_id = context_of(request), int(request.match_info["id"])
    if pipeline_id not in ctx.state.pipelines:
        return problem(404, "Pipeline not found")
    return hal(answer(ctx, pipeline_id))


@routes.get(r"/api/v4/leads/pipelines/{id:\d+}")
async def get_pipeline(request: web.Request) -> web.StreamResponse:
    return await _of_pipeline(
        request, lambda ctx, id_: ctx.wire.pipeline(ctx.state.pipelines[id_])
    )


def _statuses(ctx: EmulatorContext, pipeline_id: int) -> JsonDict:
    statuses = [ctx.wire.status(s) for s in ctx.state.pipeline_statuses(pipeline_id)]
    return _listing(ctx, f"/api/v4/leads/pipelines/{pipeline_id}/statuses", "statuses", statuses)


@routes.get(r"/api/v4/leads/pipelines/{id:\d+}/statuses")
async def list_statuses(request: web.Request) -> web.StreamResponse:
    return await _of_pipeline(request, _statuses)


def _matches(lead: Lead, filters: Filters, closest_task_at: int | None) -> bool:
    for name in ("id", "pipeline_id", "responsible_user_id", "created_by", "updated_by"):
        wanted = filters.ints(name)
        if wanted is not None and getattr(lead, name) not in wanted:
            return False
    names = filters.strs("name")
    if names and lead.name not in names:
        return False
    price = filters.amounts("price")
    if price is not None and lead.price not in price:
        return False
    for name in ("created_at", "updated_at", "closed_at"):
        bounds = filters.times(name)
        if bounds is not None and getattr(lead, name) not in bounds:
            return False
    closest = filters.times("closest_task_at")
    if closest is not None and closest_task_at not in closest:
        return False
    statuses = filters.statuses("statuses")
    return statuses is None or statuses.match(lead.pipeline_id, lead.status_id)


@routes.get("/api/v4/leads")
@answers_query_errors
async def list_leads(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    state, actor = ctx.state, user_of(request)
    query = query_of(request)
    with_ = with_set(query)
    filters = Filters.of(query)
    text = str(query.get("query") or "").strip().lower()
    only_deleted = "only_deleted" in with_
    leads = [
        lead
        for lead in state.leads.values()
        if lead.is_deleted == only_deleted
        and allows(state, actor, state.users[actor].leads_view, lead.responsible_user_id)
        and _matches(lead, filters, state.closest_task_at(lead.id))
        and (not text or text in lead.name.lower() or text == str(lead.id))
    ]
    sort = order(query, ("created_at", "updated_at", "id"))
    field, descending = sort if sort is not None else ("id", False)
    leads.sort(key=lambda lead: (getattr(lead, field), lead.id), reverse=descending)
    body = [ctx.wire.lead(lead, with_=with_) for lead in leads]
    return paged(request, "leads", body, max_limit=250)


@routes.get(r"/api/v4/leads/{id:\d+}")
async def get_lead(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    state, actor = ctx.state, user_of(request)
    lead = state.leads.get(int(request.match_info["id"]))
    if lead is None or lead.is_deleted:
        return no_content()
    if not allows(state, actor, state.users[actor].leads_view, lead.responsible_user_id):
        return problem(403, "Access denied")
    return hal(ctx.wire.lead(lead, with_=with_set(query_of(request))))


@routes.patch(r"/api/v4/leads/{id:\d+}")
@answers_query_errors
async def update_lead(request: web.Request) -> web.StreamResponse:
    """PATCH /api/v4/leads/{id}: the responsible (what amobridge writes), as amoCRM takes it."""
    ctx = context_of(request)
    state, actor = ctx.state, user_of(request)
    lead = state.leads.get(int(request.match_info["id"]))
    if lead is None or lead.is_deleted:
        return problem(404, "Lead not found")
    body = await json_body(request)
    if not isinstance(body, dict):
        return validation_failed([("0", [FieldError("InvalidType", "", "object expected")])])
    responsible = body.get("responsible_user_id")
    if type(responsible) is not int or responsible not in state.users:
        error = FieldError("NotSupportedChoice", "responsible_user_id", "no such user")
        return validation_failed([("0", [error])])
    if not allows(state, actor, state.users[actor].leads_edit, lead.responsible_user_id):
        return problem(403, "Access denied: no right to edit this lead")
    ctx.actions.set_lead_responsible(lead.id, responsible, by_user=actor)
    updated = state.leads[lead.id]
    return hal({"id": updated.id, "updated_at": updated.updated_at,
                "_links": ctx.wire.links(f"/api/v4/leads/{updated.id}")})  # fmt: skip


@routes.get("/api/v4/leads/loss_reasons")
async def list_loss_reasons(request: web.Request) -> web.StreamResponse:
    """GET /api/v4/leads/loss_reasons: every reason, no paging (an account has a handful)."""
    ctx = context_of(request)
    reasons = sorted(ctx.state.loss_reasons.values(), key=lambda r: (r.sort, r.id))
    return hal({
        "_total_items": len(reasons),
        "_links": ctx.wire.links("/api/v4/leads/loss_reasons"),
        "_embedded": {"loss_reasons": [ctx.wire.loss_reason(r) for r in reasons]},
    })  # fmt: skip


@routes.get(r"/api/v4/leads/loss_reasons/{id:\d+}")
async def get_loss_reason(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    reason = ctx.state.loss_reasons.get(int(request.match_info["id"]))
    if reason is None:
        return problem(404, "Loss reason not found")
    return hal(ctx.wire.loss_reason(reason))
