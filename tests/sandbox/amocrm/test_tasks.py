"""Tasks over the wire: list filters, reads, creates, updates and their validation."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.sandbox.amocrm.helpers import RESPONSIBLE_FILTERS, Amo

TASK_FIELDS = {
    "id",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
    "responsible_user_id",
    "group_id",
    "entity_id",
    "entity_type",
    "duration",
    "is_completed",
    "task_type_id",
    "text",
    "result",
    "complete_till",
    "account_id",
    "_links",
}


async def _task_ids(api: httpx.AsyncClient, query: str) -> list[int]:
    answer = await api.get("/api/v4/tasks?" + query)
    if answer.status_code == 204:
        return []
    assert answer.status_code == 200, answer.text
    return [task["id"] for task in answer.json()["_embedded"]["tasks"]]


async def test_it_serves_tasks_in_the_wire_shape(amo: Amo, api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/v4/tasks")).json()
    tasks = {t["id"]: t for t in body["_embedded"]["tasks"]}
    assert list(tasks) == list(amo.ids.tasks)
    open_task = tasks[amo.ids.task_due_15m]
    assert set(open_task) == TASK_FIELDS
    assert open_task["result"] == []  # PHP's empty object
    assert open_task["entity_type"] == "leads"
    assert open_task["entity_id"] == amo.ids.leads[0]
    assert open_task["_links"]["self"]["href"].endswith(f"/api/v4/tasks/{amo.ids.task_due_15m}")
    done = tasks[amo.ids.task_completed]
    assert done["is_completed"] is True
    assert done["result"] == {"text": "Proposal sent"}


async def test_it_times_seeded_tasks_relative_to_now(amo: Amo) -> None:
    now = time.time()
    due = {t: amo.emu.task(t)["complete_till"] - now for t in amo.ids.tasks}
    assert 14 * 60 <= due[amo.ids.task_due_15m] <= 15 * 60 + 1
    assert 59 * 60 <= due[amo.ids.task_due_60m] <= 60 * 60 + 1
    assert 3 * 3600 - 60 <= due[amo.ids.task_due_3h] <= 3 * 3600 + 1
    assert -2 * 3600 - 60 <= due[amo.ids.task_overdue] <= -2 * 3600 + 1


@pytest.mark.parametrize("query", RESPONSIBLE_FILTERS)
async def test_it_filters_tasks_by_responsible_in_every_encoding(
    amo: Amo, api: httpx.AsyncClient, query: str
) -> None:
    ids = await _task_ids(api, query.format(ivan=amo.ids.ivan))
    assert ids == [amo.ids.task_due_15m, amo.ids.task_overdue]


async def test_it_filters_tasks_by_several_responsibles(amo: Amo, api: httpx.AsyncClient) -> None:
    ids = amo.ids
    query = f"filter[responsible_user_id][0]={ids.maria}&filter[responsible_user_id][1]={ids.oleg}"
    assert await _task_ids(api, query) == [ids.task_due_60m, ids.task_due_3h, ids.task_completed]


async def test_it_filters_tasks_by_completion_type_entity_and_id(
    amo: Amo, api: httpx.AsyncClient
) -> None:
    ids = amo.ids
    assert await _task_ids(api, "filter[is_completed]=1") == [ids.task_completed]
    assert len(await _task_ids(api, "filter[is_completed]=0")) == 4
    assert await _task_ids(api, "filter[task_type]=2") == [ids.task_due_60m]
    assert await _task_ids(api, "filter[task_type][]=2") == [ids.task_due_60m]
    assert await _task_ids(api, "filter[task_type_id][0]=2") == [ids.task_due_60m]
    lead = ids.leads[0]
    query = f"filter[entity_type]=leads&filter[entity_id][]={lead}"
    assert await _task_ids(api, query) == [ids.task_due_15m]
    assert await _task_ids(api, "filter[entity_type]=contacts") == []
    query = f"filter[id][]={ids.task_due_3h}&filter[id][]={ids.task_overdue}"
    assert await _task_ids(api, query) == [ids.task_due_3h, ids.task_overdue]


async def test_it_needs_an_entity_type_with_entity_id(amo: Amo, api: httpx.AsyncClient) -> None:
    answer = await api.get(f"/api/v4/tasks?filter[entity_id]={amo.ids.leads[0]}")
    assert answer.status_code == 400


async def test_it_filters_tasks_by_updated_at_and_complete_till(
    amo: Amo, api: httpx.AsyncClient
) -> None:
    ids = amo.ids
    amo.emu.update_task(ids.task_due_3h, text="Send the final contract to Stark")
    changed_at = amo.emu.task(ids.task_due_3h)["updated_at"]
    after = await _task_ids(api, f"filter[updated_at]={changed_at}")
    assert ids.task_due_3h in after
    ranged = await _task_ids(
        api, f"filter[updated_at][from]={changed_at}&filter[updated_at][to]={changed_at + 60}"
    )
    assert ids.task_due_3h in ranged
    assert await _task_ids(api, f"filter[updated_at]={changed_at + 60}") == []
    now = int(time.time())
    soon = await _task_ids(
        api, f"filter[complete_till][from]={now}&filter[complete_till][to]={now + 3600 + 5}"
    )
    assert soon == [ids.task_due_15m, ids.task_due_60m]


async def test_it_orders_tasks(amo: Amo, api: httpx.AsyncClient) -> None:
    ids = amo.ids
    by_due = await _task_ids(api, "order[complete_till]=asc")
    assert by_due[0] == ids.task_overdue
    assert by_due[-1] == ids.task_due_3h
    assert await _task_ids(api, "order[id]=desc") == list(ids.tasks)[::-1]
    assert (await api.get("/api/v4/tasks?order[text]=asc")).status_code == 400


async def test_it_pages_tasks_to_204(amo: Amo, api: httpx.AsyncClient) -> None:
    first = (await api.get("/api/v4/tasks", params={"limit": 2})).json()
    assert len(first["_embedded"]["tasks"]) == 2
    third = (await api.get("/api/v4/tasks", params={"limit": 2, "page": 3})).json()
    assert "next" not in third["_links"]
    assert (await api.get("/api/v4/tasks", params={"limit": 2, "page": 4})).status_code == 204


async def test_it_answers_204_for_an_unknown_task(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v4/tasks/123")
    assert answer.status_code == 204


async def test_it_creates_tasks_and_echoes_request_ids(amo: Amo, api: httpx.AsyncClient) -> None:
    due = int(time.time()) + 7200
    answer = await api.post(
        "/api/v4/tasks",
        json=[
            {
                "text": "Call back",
                "complete_till": due,
                "entity_id": amo.ids.leads[1],
                "entity_type": "leads",
                "responsible_user_id": amo.ids.maria,
                "request_id": "mine",
            },
            {"text": "Unlinked", "complete_till": due, "task_type_id": 2},
        ],
    )
    assert answer.status_code == 200, answer.text
    created = answer.json()["_embedded"]["tasks"]
    assert [c["request_id"] for c in created] == ["mine", "1"]
    first, second = (amo.emu.task(c["id"]) for c in created)
    assert first["responsible_user_id"] == amo.ids.maria
    assert first["entity_id"] == amo.ids.leads[1]
    assert second["responsible_user_id"] == amo.ids.admin  # the token's user
    assert second["entity_id"] is None
    assert second["task_type_id"] == 2
    assert first["created_by"] == amo.ids.admin


async def test_it_rejects_a_task_without_required_fields(amo: Amo, api: httpx.AsyncClient) -> None:
    before = len(amo.emu.events())
    answer = await api.post(
        "/api/v4/tasks",
        json=[
            {"text": "fine", "complete_till": 1},
            {"complete_till": "soon", "request_id": "r2"},
        ],
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
    body = answer.json()
    assert body["title"] == "Bad Request"
    assert body["type"] == "https://httpstatus.es/400"
    assert body["status"] == 400
    assert body["detail"] == "Request validation failed"
    [failure] = body["validation-errors"]
    assert failure["request_id"] == "r2"
    paths = {e["path"]: e["code"] for e in failure["errors"]}
    assert paths == {"text": "NotBlank", "complete_till": "InvalidType"}
    assert all(set(e) == {"code", "path", "detail"} for e in failure["errors"])
    assert len(amo.emu.events()) == before  # nothing of the batch was applied


async def test_it_updates_tasks_in_a_batch(amo: Amo, api: httpx.AsyncClient) -> None:
    ids = amo.ids
    answer = await api.patch(
        "/api/v4/tasks",
        json=[
            {"id": ids.task_due_15m, "complete_till": 1_900_000_000},
            {"id": ids.task_due_60m, "responsible_user_id": ids.ivan, "request_id": "x"},
        ],
    )
    assert answer.status_code == 200, answer.text
    updated = answer.json()["_embedded"]["tasks"]
    assert [(u["id"], u["request_id"]) for u in updated] == [
        (ids.task_due_15m, "0"),
        (ids.task_due_60m, "x"),
    ]
    assert all(isinstance(u["updated_at"], int) for u in updated)
    assert amo.emu.task(ids.task_due_15m)["complete_till"] == 1_900_000_000
    assert amo.emu.task(ids.task_due_60m)["responsible_user_id"] == ids.ivan


async def test_it_updates_one_task_by_path(amo: Amo, api: httpx.AsyncClient) -> None:
    task_id = amo.ids.task_overdue
    answer = await api.patch(
        f"/api/v4/tasks/{task_id}", json={"is_completed": True, "result": {"text": "Reached"}}
    )
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"id", "updated_at", "request_id", "_links"}
    assert body["id"] == task_id
    assert body["request_id"] == "0"
    task = amo.emu.task(task_id)
    assert task["is_completed"] is True
    assert task["result"] == {"text": "Reached"}
    assert task["updated_by"] == amo.ids.admin


async def test_it_404s_a_patch_of_an_unknown_task(api: httpx.AsyncClient) -> None:
    answer = await api.patch("/api/v4/tasks/77", json={"text": "x"})
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"
    batch = await api.patch("/api/v4/tasks", json=[{"id": 77, "text": "x"}])
    assert batch.status_code == 400
    assert batch.json()["validation-errors"][0]["errors"][0]["path"] == "id"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"complete_till": "tomorrow"}, "complete_till"),
        ({"responsible_user_id": "5"}, "responsible_user_id"),
        ({"responsible_user_id": 5}, "responsible_user_id"),
        ({"is_completed": 1}, "is_completed"),
        ({"text": 5}, "text"),
        ({"task_type_id": 99}, "task_type_id"),
        ({"result": {"text": 5}}, "result.text"),
        ({"complete_till": True}, "complete_till"),
    ],
)
async def test_it_rejects_bad_field_types(
    amo: Amo, api: httpx.AsyncClient, body: dict[str, object], path: str
) -> None:
    answer = await api.patch(f"/api/v4/tasks/{amo.ids.task_due_15m}", json=body)
    assert answer.status_code == 400
    errors = answer.json()["validation-errors"][0]["errors"]
    assert [e["path"] for e in errors] == [path]


async def test_it_enforces_task_edit_rights(amo: Amo) -> None:
    oleg_token = await amo.token_for(amo.ids.oleg)  # tasks edit D
    ivan_token = await amo.token_for(amo.ids.ivan)  # tasks edit M
    async with amo.client(oleg_token) as oleg, amo.client(ivan_token) as ivan:
        denied = await oleg.patch(f"/api/v4/tasks/{amo.ids.task_due_3h}", json={"text": "x"})
        foreign = await ivan.patch(f"/api/v4/tasks/{amo.ids.task_due_60m}", json={"text": "x"})
        own = await ivan.patch(f"/api/v4/tasks/{amo.ids.task_due_15m}", json={"text": "mine"})
    assert denied.status_code == 403
    assert foreign.status_code == 403
    assert own.status_code == 200
    assert amo.emu.task(amo.ids.task_due_15m)["updated_by"] == amo.ids.ivan


async def test_it_rejects_a_body_that_is_not_json(api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/api/v4/tasks", content=b"{nope", headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
