"""GET/POST/PATCH /api/v4/tasks and GET/PATCH /api/v4/tasks/{id}."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

from sandbox.amocrm.api.common import allows, answers_query_errors, json_body, paged, query_of
from sandbox.amocrm.api.task_input import TaskInput, parse_batch, parse_item
from sandbox.amocrm.context import EmulatorContext, context_of, user_of
from sandbox.amocrm.problems import hal, no_content, problem, validation_failed
from sandbox.amocrm.query import Filters, QueryError, order
from sandbox.amocrm.records import JsonDict, Task
from sandbox.amocrm.task_actions import TaskEdit

routes = web.RouteTableDef()


def _filter(ctx: EmulatorContext, filters: Filters) -> list[Task]:
    state = ctx.state
    ids = filters.ints("id")
    responsible = filters.ints("responsible_user_id")
    created_by = filters.ints("created_by")
    done = filters.flag("is_completed")
    # The docs say task_type; amoCRM's own SDK sends task_type_id.
    types = filters.ints("task_type", alias="task_type_id")
    entity_types = filters.strs("entity_type")
    entity_ids = filters.ints("entity_id")
    if entity_ids is not None and not entity_types:
        raise QueryError("filter[entity_id] needs filter[entity_type]")
    updated = filters.times("updated_at")
    due = filters.times("complete_till")
    lead_statuses = filters.statuses("lead_statuses")

    def keep(task: Task) -> bool:
        if lead_statuses is not None:
            lead = state.leads.get(task.entity_id or 0) if task.entity_type == "leads" else None
            if lead is None or not lead_statuses.match(lead.pipeline_id, lead.status_id):
                return False
        return (
            (ids is None or task.id in ids)
            and (responsible is None or task.responsible_user_id in responsible)
            and (created_by is None or task.created_by in created_by)
            and (done is None or task.is_completed == done)
            and (types is None or task.task_type_id in types)
            and (not entity_types or task.entity_type in entity_types)
            and (entity_ids is None or task.entity_id in entity_ids)
            and (updated is None or task.updated_at in updated)
            and (due is None or task.complete_till in due)
        )

    return [task for task in state.tasks.values() if keep(task)]


@routes.get("/api/v4/tasks")
@answers_query_errors
async def list_tasks(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    query = query_of(request)
    tasks = _filter(ctx, Filters.of(query))
    sort = order(query, ("created_at", "updated_at", "complete_till", "id"))
    field, descending = sort if sort is not None else ("id", False)
    tasks.sort(key=lambda task: (getattr(task, field), task.id), reverse=descending)
    return paged(request, "tasks", [ctx.wire.task(t) for t in tasks], max_limit=250)


@routes.get(r"/api/v4/tasks/{id:\d+}")
async def get_task(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    task = ctx.state.tasks.get(int(request.match_info["id"]))
    # An unknown id answers 204, as clients expect (reference §2, [?] emulator default).
    return no_content() if task is None else hal(ctx.wire.task(task))


_NO_EDIT_RIGHT = "Access denied: no right to edit this task"
# One task of a batch carried out by the actor, as the batch's answer shows it.
CarryOut = Callable[[EmulatorContext, int, TaskInput], JsonDict]


async def _batch(request: web.Request, carry_out: CarryOut, *, creating: bool) -> web.Response:
    """A batch POST or PATCH: refused whole if any task is not valid (or, for a change, not
    the actor's to edit), else every task carried out."""
    ctx, actor = context_of(request), user_of(request)
    inputs, errors = parse_batch(await json_body(request), creating=creating, state=ctx.state)
    if errors:
        return validation_failed(errors)
    if not creating and _forbidden(ctx, actor, inputs):
        return problem(403, _NO_EDIT_RIGHT)
    tasks = [carry_out(ctx, actor, item) for item in inputs]
    return hal({"_links": ctx.wire.links("/api/v4/tasks"), "_embedded": {"tasks": tasks}})


def _answered(ctx: EmulatorContext, item: TaskInput, task_id: int, **extra: int) -> JsonDict:
    """A batch's answer for one task: its id (and ``extra``), the caller's request_id, a link."""
    links = ctx.wire.links(f"/api/v4/tasks/{task_id}")
    return {"id": task_id, **extra, "request_id": item.request_id, "_links": links}


def _create(ctx: EmulatorContext, actor: int, item: TaskInput) -> JsonDict:
    edit = item.edit
    assert edit.text is not None
    assert edit.complete_till is not None
    entity_type, entity_id = edit.entity if edit.entity else (None, None)
    task_id = ctx.actions.add_task(
        edit.text,
        responsible_user_id=edit.responsible_user_id or actor,
        complete_till=edit.complete_till,
        entity_type=entity_type,
        entity_id=entity_id,
        task_type_id=edit.task_type_id or 1,
        duration=edit.duration or 0,
        by_user=actor,
    )
    if edit.is_completed or edit.result_text is not None:
        ctx.actions.edit_task(task_id, _completion_only(item), by_user=actor)
    return _answered(ctx, item, task_id)


@routes.post("/api/v4/tasks")
@answers_query_errors
async def create_tasks(request: web.Request) -> web.StreamResponse:
    return await _batch(request, _create, creating=True)


def _completion_only(item: TaskInput) -> TaskEdit:
    return TaskEdit(is_completed=item.edit.is_completed, result_text=item.edit.result_text)


def _forbidden(ctx: EmulatorContext, actor: int, inputs: list[TaskInput]) -> bool:
    right = ctx.state.users[actor].tasks_edit
    return any(
        not allows(ctx.state, actor, right, ctx.state.tasks[item.id].responsible_user_id)
        for item in inputs
        if item.id is not None
    )


def _apply(ctx: EmulatorContext, actor: int, item: TaskInput) -> JsonDict:
    assert item.id is not None  # parse_item requires it for updates
    task = ctx.actions.edit_task(item.id, item.edit, by_user=actor)
    return _answered(ctx, item, task.id, updated_at=task.updated_at)


@routes.patch("/api/v4/tasks")
@answers_query_errors
async def update_tasks(request: web.Request) -> web.StreamResponse:
    return await _batch(request, _apply, creating=False)


@routes.patch(r"/api/v4/tasks/{id:\d+}")
@answers_query_errors
async def update_task(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    actor = user_of(request)
    task_id = int(request.match_info["id"])
    if task_id not in ctx.state.tasks:
        return problem(404, "Task not found")
    body = await json_body(request)
    if isinstance(body, dict):
        body = {**body, "id": task_id}
    parsed = parse_item(
        body, default_request_id="0", creating=False, with_id=True, state=ctx.state
    )
    if not isinstance(parsed, TaskInput):
        return validation_failed([parsed])
    if _forbidden(ctx, actor, [parsed]):
        return problem(403, _NO_EDIT_RIGHT)
    return hal(_apply(ctx, actor, parsed))
