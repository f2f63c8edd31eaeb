"""The /_control/ API: a round trip through every endpoint, and its errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.sandbox.amocrm.helpers import Amo, Receiver, register


@pytest.fixture
async def control(amo: Amo) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"{amo.base_url}/_control") as client:
        yield client


async def test_it_shows_the_state(amo: Amo, control: httpx.AsyncClient) -> None:
    state = (await control.get("/state")).json()
    assert [u["id"] for u in state["users"]] == list(amo.ids.users)
    assert [lead["id"] for lead in state["leads"]] == list(amo.ids.leads)
    assert [t["id"] for t in state["tasks"]] == list(amo.ids.tasks)
    assert state["tasks"][0] == amo.emu.task(amo.ids.task_due_15m)


async def test_it_changes_the_account_like_the_ui(
    amo: Amo, api: httpx.AsyncClient, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    ids = amo.ids
    await register(api, receiver.url, ["status_lead", "add_task", "update_task"])
    moved = await control.post(
        f"/leads/{ids.leads[0]}/move", json={"status_id": ids.negotiation, "by_user": ids.ivan}
    )
    assert moved.status_code == 200
    assert moved.json()["status_id"] == ids.negotiation
    created = await control.post(
        "/tasks",
        json={
            "text": "From control",
            "responsible_user_id": ids.maria,
            "complete_till": 1_800_000_000,
            "entity_id": ids.leads[2],
        },
    )
    assert created.status_code == 201
    task_id = created.json()["id"]
    patched = await control.patch(f"/tasks/{task_id}", json={"complete_till": 1_800_000_600})
    assert patched.json()["complete_till"] == 1_800_000_600
    done = await control.post(f"/tasks/{task_id}/complete", json={"result_text": "Done"})
    assert done.json()["result"] == {"text": "Done"}
    await amo.emu.drain_webhooks()
    kinds = [list(r.form)[1] for r in receiver.received]
    assert kinds == ["leads", "task", "task", "task"]
    types = [e["type"] for e in amo.emu.events()[-5:]]
    assert types == [
        "lead_status_changed",
        "task_added",
        "task_deadline_changed",
        "task_completed",
        "task_result_added",
    ]
    assert amo.emu.events()[-5]["created_by"] == ids.ivan


async def test_a_person_creates_a_deal_and_changes_its_budget_and_close_date(
    amo: Amo, api: httpx.AsyncClient, control: httpx.AsyncClient, receiver: Receiver
) -> None:
    ids = amo.ids
    await register(api, receiver.url, ["add_lead", "update_lead"])
    created = await control.post(
        "/leads", json={"name": "Big one", "responsible_user_id": ids.ivan, "price": 1000}
    )
    assert created.status_code == 201
    lead = created.json()
    assert (lead["price"], lead["responsible_user_id"], lead["closed_at"]) == (
        1000,
        ids.ivan,
        None,
    )
    assert lead["pipeline_id"] == ids.pipeline  # the main pipeline, its first stage
    patched = await control.patch(
        f"/leads/{lead['id']}",
        json={"price": 2_000_000, "closed_at": 1_800_000_000, "by_user": ids.maria},
    )
    assert (patched.json()["price"], patched.json()["closed_at"]) == (2_000_000, 1_800_000_000)
    read = (await api.get(f"/api/v4/leads/{lead['id']}")).json()
    assert (read["price"], read["closed_at"], read["updated_by"]) == (
        2_000_000, 1_800_000_000, ids.maria,
    )  # fmt: skip
    await amo.emu.drain_webhooks()
    assert [list(r.form)[1] for r in receiver.received] == ["leads", "leads"]
    assert receiver.received[1].form["leads"]["update"][0]["price"] == "2000000"
    changed = amo.emu.events()[-1]
    assert changed["type"] == "sale_field_changed"
    assert changed["value_after"] == [{"sale_field_value": {"sale": 2_000_000}}]
    unknown = await control.patch("/leads/1", json={"price": 5})
    negative = await control.patch(f"/leads/{lead['id']}", json={"price": -5})
    assert (unknown.status_code, negative.status_code) == (404, 400)


async def test_it_injects_faults_and_revokes_tokens(
    amo: Amo, api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    added = await control.post("/faults", json={"kind": "503", "count": 2})
    assert added.json() == {"pending": 2}
    assert (await api.get("/api/v4/account")).status_code == 503
    assert (await api.get("/api/v4/account")).status_code == 503
    assert (await control.post("/tokens/revoke")).status_code == 200
    assert (await api.get("/api/v4/account")).status_code == 401
    code = (await control.post("/oauth/code", json={"user_id": amo.ids.oleg})).json()["code"]
    pair = await amo.exchange(code)
    async with amo.client(pair.json()["access_token"]) as oleg:
        me = (await oleg.get("/api/v4/account")).json()
    assert me["current_user_id"] == amo.ids.oleg


async def test_it_switches_webhooks_and_lists_requests(
    amo: Amo, api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    off = await control.post("/webhooks", json={"enabled": False})
    assert off.json() == {"enabled": False}
    assert amo.emu.webhooks_enabled is False
    await api.get("/api/v4/leads")
    requests = (await control.get("/requests")).json()
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("GET", "/api/v4/leads", 200)
    ]
    assert set(requests[0]) == {"method", "path", "query", "status", "at", "body"}


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/leads/1/move", {"status_id": 1}, 404),
        ("POST", "/leads/{lead}/move", {"status_id": "x"}, 400),
        ("POST", "/leads/{lead}/move", {"status_id": 999}, 404),
        ("POST", "/tasks", {"text": "no due date"}, 400),
        ("POST", "/tasks/1/complete", {}, 404),
        ("PATCH", "/tasks/1", {"text": "x"}, 404),
        ("POST", "/faults", {"kind": "teapot", "count": 1}, 400),
        ("POST", "/oauth/code", {"user_id": 1}, 404),
        ("POST", "/webhooks", {"enabled": "yes"}, 400),
        ("GET", "/nothing", None, 404),
    ],
)
async def test_it_answers_json_errors(
    amo: Amo,
    control: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, object] | None,
    status: int,
) -> None:
    answer = await control.request(method, path.format(lead=amo.ids.leads[0]), json=body)
    assert answer.status_code == status
    assert answer.json()["error"]


async def test_it_is_neither_paced_nor_logged(amo: Amo, control: httpx.AsyncClient) -> None:
    amo.emu.rate_limit_per_s = 1.0
    statuses = [(await control.get("/state")).status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert amo.emu.request_log == []


async def test_it_lists_loss_reasons_and_embeds_a_lost_deals_reason(
    amo: Amo, api: httpx.AsyncClient, control: httpx.AsyncClient
) -> None:
    listed = (await api.get("/api/v4/leads/loss_reasons")).json()
    reasons = listed["_embedded"]["loss_reasons"]
    assert listed["_total_items"] == 3
    assert set(reasons[0]) == {"id", "name", "sort", "created_at", "updated_at", "_links"}
    first = reasons[0]["id"]
    assert (await api.get(f"/api/v4/leads/loss_reasons/{first}")).json()["name"] == "Too expensive"
    assert (await api.get("/api/v4/leads/loss_reasons/1")).status_code == 404
    lead = amo.ids.leads[1]
    refused = await control.post(
        f"/leads/{lead}/move", json={"status_id": amo.ids.won, "loss_reason_id": first}
    )
    assert refused.status_code == 400  # a reason goes with "lost" only

    moved = await control.post(
        f"/leads/{lead}/move", json={"status_id": amo.ids.lost, "loss_reason_id": first}
    )

    assert moved.json()["loss_reason_id"] == first
    rich = (await api.get(f"/api/v4/leads/{lead}", params={"with": "loss_reason"})).json()
    assert [r["name"] for r in rich["_embedded"]["loss_reason"]] == ["Too expensive"]
    account = (await api.get("/api/v4/account")).json()
    assert account["is_loss_reason_enabled"] is True
