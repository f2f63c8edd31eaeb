"""Pipelines, statuses and leads: GET /api/v4/leads/pipelines…, /api/v4/leads[/{id}]."""

from __future__ import annotations

from aiohttp import web

from sandbox.amocrm.api.common import allows, answers_query_errors, json_body, paged, query_of
from sandbox.amocrm.context import context_of, user_of
from sandbox.amocrm.problems import FieldError, hal, no_content, problem, validation_failed
from sandbox.amocrm.query import (
    int_list,
    order,
    paging,
    section,
    status_pairs,
    str_list,
    time_range,
    value_range,
    with_set,
)
from sandbox.amocrm.records import JsonDict, Lead

routes = web.RouteTableDef()

_PIPELINE_NOT_FOUND = "Pipeline not found"


@routes.get("/api/v4/leads/pipelines")
async def list_pipelines(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    pipelines = [ctx.wire.pipeline(p) for p in ctx.state.pipelines.values()]
    if not pipelines:
        return no_content()
    return hal(
        {
            "_total_items": len(pipelines),
            "_links": ctx.wire.links("/api/v4/leads/pipelines"),
            "_embedded": {"pipelines": pipelines},
        }
    )


def _pipeline_id(request: web.Request) -> int | None:
    pipeline_id = int(request.match_info["id"])
    return pipeline_id if pipeline_id in context_of(request).state.pipelines else None


@routes.get(r"/api/v4/leads/pipelines/{id:\d+}")
async def get_pipeline(request: web.Request) -> web.StreamResponse:
    pipeline_id = _pipeline_id(request)
    if pipeline_id is None:
        return problem(404, _PIPELINE_NOT_FOUND)
    ctx = context_of(request)
    return hal(ctx.wire.pipeline(ctx.state.pipelines[pipeline_id]))


@routes.get(r"/api/v4/leads/pipelines/{id:\d+}/statuses")
async def list_statuses(request: web.Request) -> web.StreamResponse:
    pipeline_id = _pipeline_id(request)
    if pipeline_id is None:
        return problem(404, _PIPELINE_NOT_FOUND)
    ctx = context_of(request)
    statuses = [ctx.wire.status(s) for s in ctx.state.pipeline_statuses(pipeline_id)]
    return hal(
        {
            "_total_items": len(statuses),
            "_links": ctx.wire.links(f"/api/v4/leads/pipelines/{pipeline_id}/statuses"),
            "_embedded": {"statuses": statuses},
        }
    )


def _matches(lead: Lead, filters: JsonDict, closest_task_at: int | None) -> bool:
    for name in ("id", "pipeline_id", "responsible_user_id", "created_by", "updated_by"):
        wanted = int_list(filters.get(name), f"filter[{name}]")
        if wanted is not None and getattr(lead, name) not in wanted:
            return False
    names = str_list(filters.get("name"))
    if names and lead.name not in names:
        return False
    price = value_range(filters.get("price"), "filter[price]")
    if price is not None and lead.price not in price:
        return False
    for name in ("created_at", "updated_at", "closed_at"):
        bounds = time_range(filters.get(name), f"filter[{name}]")
        if bounds is not None and getattr(lead, name) not in bounds:
            return False
    closest = time_range(filters.get("closest_task_at"), "filter[closest_task_at]")
    if closest is not None and closest_task_at not in closest:
        return False
    if "statuses" in filters:
        pairs = status_pairs(filters["statuses"], "filter[statuses]")
        if not any(lead.pipeline_id == p and (s is None or lead.status_id == s) for p, s in pairs):
            return False
    return True


@routes.get("/api/v4/leads")
@answers_query_errors
async def list_leads(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    state, actor = ctx.state, user_of(request)
    query = query_of(request)
    page, limit = paging(query, max_limit=250)
    with_ = with_set(query)
    filters = section(query, "filter")
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
    return paged(request, "leads", body, page=page, limit=limit)


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
