"""GET /api/v4/events and /api/v4/events/{id}: the polling fallback (reference §5)."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from sandbox.amocrm.api.common import answers_query_errors, paged, query_of
from sandbox.amocrm.context import context_of
from sandbox.amocrm.problems import hal, no_content
from sandbox.amocrm.query import Filters, QueryError, order, with_set
from sandbox.amocrm.records import Event

routes = web.RouteTableDef()

EventTest = Callable[[Event], bool]


def _value_tests(side: str, spec: Filters) -> list[EventTest]:
    """`filter[value_after|value_before][leads_statuses|responsible_user_id]`."""
    tests: list[EventTest] = []
    statuses = spec.statuses("leads_statuses")
    if statuses is not None:

        def status_test(event: Event) -> bool:
            values = [v["lead_status"] for v in getattr(event, side) if "lead_status" in v]
            return any(statuses.match(v["pipeline_id"], v["id"]) for v in values)

        tests.append(status_test)
    wanted = spec.ints("responsible_user_id")
    if wanted is not None:

        def responsible_test(event: Event) -> bool:
            values = [
                v["responsible_user"] for v in getattr(event, side) if "responsible_user" in v
            ]
            return any(v["id"] in wanted for v in values)

        tests.append(responsible_test)
    return tests


def _tests(filters: Filters) -> list[EventTest]:
    tests: list[EventTest] = []
    ids = filters.strs("id")
    if ids:
        tests.append(lambda e: e.id in ids)
    created = filters.times("created_at")
    if created is not None:
        tests.append(lambda e: e.created_at in created)
    created_by = filters.ints("created_by")
    if created_by is not None:
        tests.append(lambda e: e.created_by in created_by)
    types = filters.strs("type")
    if types:
        tests.append(lambda e: e.type in types)
    entities = filters.strs("entity")
    if entities:
        tests.append(lambda e: e.entity_type in entities)
    entity_ids = filters.ints("entity_id")
    if entity_ids is not None:
        if len(entities) != 1:
            raise QueryError("filter[entity_id] needs exactly one filter[entity]")
        if len(entity_ids) > 10:
            raise QueryError("filter[entity_id] takes at most 10 ids")
        tests.append(lambda e: e.entity_id in entity_ids)
    for side in ("value_after", "value_before"):
        tests += _value_tests(side, filters.within(side))
    return tests


@routes.get("/api/v4/events")
@answers_query_errors
async def list_events(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    query = query_of(request)
    tests = _tests(Filters.of(query))
    events = [e for e in ctx.state.events if all(test(e) for test in tests)]
    # Newest first unless asked otherwise, like the account's event feed.
    sort = order(query, ("created_at", "id"))
    descending = True if sort is None else sort[1]
    events.sort(key=lambda e: (e.created_at, e.seq), reverse=descending)
    with_ = with_set(query)
    body = [ctx.wire.event(e, with_=with_) for e in events]
    return paged(request, "events", body, max_limit=100)


@routes.get("/api/v4/events/{id}")
async def get_event(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    event_id = request.match_info["id"]
    event = next((e for e in ctx.state.events if e.id == event_id), None)
    if event is None:
        return no_content()
    return hal(ctx.wire.event(event, with_=with_set(query_of(request))))
