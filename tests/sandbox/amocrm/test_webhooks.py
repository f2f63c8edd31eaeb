"""Webhook registration over the API and delivery in amoCRM's form-encoded format."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

from sandbox.amocrm import AmoEmulator, seed_demo_account
from tests.sandbox.amocrm.helpers import ALL_HOOKS, Amo, Receiver, register

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def test_it_registers_updates_lists_and_deletes_hooks(
    amo: Amo, api: httpx.AsyncClient
) -> None:
    created = await api.post(
        "/api/v4/webhooks",
        json={"destination": "https://example.test/a", "settings": ["add_task"], "sort": 5},
    )
    assert created.status_code == 200
    hook = created.json()
    assert set(hook) == {
        "id",
        "destination",
        "created_at",
        "updated_at",
        "account_id",
        "created_by",
        "sort",
        "disabled",
        "settings",
    }
    assert hook["settings"] == ["add_task"]
    assert hook["created_by"] == amo.ids.admin
    updated = (
        await api.post(
            "/api/v4/webhooks",
            json={"destination": "https://example.test/a", "settings": ["update_task"]},
        )
    ).json()
    assert updated["id"] == hook["id"]
    assert updated["settings"] == ["update_task"]
    await register(api, "https://example.test/b", ["add_lead"])
    listed = (await api.get("/api/v4/webhooks")).json()
    assert listed["_total_items"] == 2
    only = await api.get(
        "/api/v4/webhooks", params={"filter[destination]": "https://example.test/b"}
    )
    assert [h["destination"] for h in only.json()["_embedded"]["webhooks"]] == [
        "https://example.test/b"
    ]
    gone = await api.request(
        "DELETE", "/api/v4/webhooks", json={"destination": "https://example.test/a"}
    )
    assert gone.status_code == 204
    again = await api.request(
        "DELETE", "/api/v4/webhooks", json={"destination": "https://example.test/a"}
    )
    assert again.status_code == 404
    await api.request("DELETE", "/api/v4/webhooks", json={"destination": "https://example.test/b"})
    assert (await api.get("/api/v4/webhooks")).status_code == 204


async def test_it_validates_hook_registration(amo: Amo, api: httpx.AsyncClient) -> None:
    answer = await api.post(
        "/api/v4/webhooks", json={"destination": "ftp://x", "settings": ["complete_task"]}
    )
    assert answer.status_code == 400
    paths = {e["path"] for e in answer.json()["validation-errors"][0]["errors"]}
    assert paths == {"destination", "settings"}
    token = await amo.token_for(amo.ids.ivan)
    async with amo.client(token) as ivan:
        denied = await ivan.post(
            "/api/v4/webhooks", json={"destination": "https://x.test", "settings": ["add_lead"]}
        )
    assert denied.status_code == 403


async def test_it_delivers_a_patch_completion_as_task_update(
    amo: Amo, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(api, receiver.url, ALL_HOOKS)
    task_id = amo.ids.task_due_15m
    answer = await api.patch(
        f"/api/v4/tasks/{task_id}", json={"is_completed": True, "result": {"text": "Called"}}
    )
    assert answer.status_code == 200
    await amo.emu.drain_webhooks()
    types = [e["type"] for e in amo.emu.events()[-2:]]
    assert types == ["task_completed", "task_result_added"]
    [hit] = receiver.received
    assert hit.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert hit.headers["User-Agent"] == "amoCRM-Webhooks/3.0"
    assert UUID.fullmatch(hit.headers["X-Amocrm-Requestid"])
    form = hit.form
    assert form["account"] == {
        "subdomain": "demo",
        "id": str(amo.emu.account_id),
        "_links": {"self": amo.base_url},
    }
    [item] = form["task"]["update"]
    task = amo.emu.task(task_id)
    assert item["id"] == str(task_id)
    assert item["status"] == "1"
    assert item["action_close"] == "1"
    assert item["result"]["text"] == "Called"
    assert item["element_id"] == str(amo.ids.leads[0])
    assert item["element_type"] == "2"
    assert item["task_type"] == "1"
    assert item["text"] == task["text"]
    assert item["responsible_user_id"] == str(amo.ids.ivan)
    assert item["created_user_id"] == str(task["created_by"])
    assert item["date_create"] == str(task["created_at"])
    assert item["last_modified"] == str(task["updated_at"])
    assert item["complete_till"] == str(task["complete_till"])
    assert item["account_id"] == str(amo.emu.account_id)
    assert all(isinstance(v, str) for v in item if not isinstance(v, dict))
    [delivery] = amo.emu.webhook_deliveries
    assert delivery.status == 200
    assert delivery.attempt == 1
    assert delivery.destination == receiver.url
    assert delivery.body == hit.body


async def test_it_delivers_lead_changes_with_old_values(
    amo: Amo, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(
        api, receiver.url, ["status_lead", "responsible_lead", "add_lead", "delete_lead"]
    )
    ids = amo.ids
    lead = ids.leads[0]
    amo.emu.move_lead(lead, ids.contract)
    amo.emu.set_lead_responsible(lead, ids.maria)
    new_lead = amo.emu.add_lead(
        "Fresh",
        status_id=ids.incoming,
        pipeline_id=ids.pipeline,
        responsible_user_id=ids.oleg,
        price=10,
    )
    amo.emu.delete_lead(new_lead)
    await amo.emu.drain_webhooks()
    status, responsible, added, deleted = (r.form for r in receiver.received)
    moved = status["leads"]["status"][0]
    assert "update" not in status["leads"]  # not subscribed to update_lead
    assert moved["status_id"] == str(ids.contract)
    assert moved["old_status_id"] == str(ids.incoming)
    assert moved["pipeline_id"] == moved["old_pipeline_id"] == str(ids.pipeline)
    assert moved["price"] == "120000"
    assert responsible["leads"]["responsible"][0]["old_responsible_user_id"] == str(ids.ivan)
    assert responsible["leads"]["responsible"][0]["responsible_user_id"] == str(ids.maria)
    assert added["leads"]["add"][0]["name"] == "Fresh"
    assert deleted["leads"]["delete"][0] == {"id": str(new_lead)}


async def test_it_sends_only_what_a_hook_subscribes_to(
    amo: Amo, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(api, receiver.url, ["update_lead", "add_task"])
    amo.emu.move_lead(amo.ids.leads[0], amo.ids.qualified)
    amo.emu.complete_task(amo.ids.task_due_60m)
    amo.emu.add_task("New", responsible_user_id=amo.ids.ivan, complete_till=1)
    await amo.emu.drain_webhooks()
    forms = [r.form for r in receiver.received]
    assert [list(f)[1] for f in forms] == ["leads", "task"]
    assert list(forms[0]["leads"]) == ["update"]
    assert list(forms[1]["task"]) == ["add"]
    assert "element_id" not in forms[1]["task"]["add"][0]


async def test_it_retries_after_a_server_error(
    amo: Amo, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(api, receiver.url, ["update_task"])
    receiver.statuses = [500, 503]
    amo.emu.update_task(amo.ids.task_due_3h, text="Retry me")
    await amo.emu.drain_webhooks()
    attempts = [(d.attempt, d.status) for d in amo.emu.webhook_deliveries]
    assert attempts == [(1, 500), (2, 503), (3, 200)]
    assert len({r.body for r in receiver.received}) == 1
    request_ids = {r.headers["X-Amocrm-Requestid"] for r in receiver.received}
    assert len(request_ids) == 3


@pytest.mark.parametrize(
    ("status", "attempts"),
    [
        pytest.param(404, [1, 2, 3], id="a client error stops after the third attempt"),
        pytest.param(500, [1, 2, 3, 4, 5], id="a server error after the last retry"),
    ],
)
async def test_it_gives_up_on_a_failing_receiver(
    amo: Amo, api: httpx.AsyncClient, receiver: Receiver, status: int, attempts: list[int]
) -> None:
    await register(api, receiver.url, ["update_task"])
    receiver.statuses = [status] * 10
    amo.emu.update_task(amo.ids.task_due_3h, text="Nobody home")
    await amo.emu.drain_webhooks()
    assert [d.attempt for d in amo.emu.webhook_deliveries] == attempts


async def test_it_sends_nothing_while_webhooks_are_disabled(
    amo: Amo, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(api, receiver.url, ALL_HOOKS)
    amo.emu.webhooks_enabled = False
    await api.patch(f"/api/v4/tasks/{amo.ids.task_due_15m}", json={"is_completed": True})
    amo.emu.move_lead(amo.ids.leads[0], amo.ids.contract)
    await amo.emu.drain_webhooks()
    assert receiver.received == []
    assert amo.emu.webhook_deliveries == []
    assert (await api.get("/api/v4/webhooks")).json()["_total_items"] == 1
    amo.emu.webhooks_enabled = True
    amo.emu.move_lead(amo.ids.leads[0], amo.ids.incoming)
    await amo.emu.drain_webhooks()
    assert len(receiver.received) == 1


async def test_it_answers_the_api_before_the_hook_is_delivered(
    amo: Amo, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(api, receiver.url, ["update_task"])
    receiver.gate = asyncio.Event()
    answer = await api.patch(f"/api/v4/tasks/{amo.ids.task_due_15m}", json={"text": "Quick"})
    assert answer.status_code == 200
    assert amo.emu.webhook_deliveries == []  # the receiver still holds its answer
    receiver.gate.set()
    await amo.emu.drain_webhooks()
    assert [d.status for d in amo.emu.webhook_deliveries] == [200]


async def test_it_times_out_a_slow_receiver_and_retries(
    amo: Amo, api: httpx.AsyncClient, receiver: Receiver
) -> None:
    await register(api, receiver.url, ["update_task"])
    amo.emu.webhook_retry_delays_s = (0.01,)
    receiver.gate = asyncio.Event()
    amo.emu.webhook_timeout_s = 0.2  # amoCRM waits 2 s; shorter keeps the test fast
    amo.emu.update_task(amo.ids.task_due_15m, text="Slow receiver")
    started = time.monotonic()
    await amo.emu.drain_webhooks()
    assert time.monotonic() - started >= 0.4
    assert [(d.attempt, d.status) for d in amo.emu.webhook_deliveries] == [(1, None), (2, None)]


async def test_it_delivers_changes_made_while_not_serving(receiver: Receiver) -> None:
    emu = AmoEmulator(rate_limit_per_s=None)
    ids = seed_demo_account(emu)
    async with (
        emu.serve() as base_url,
        httpx.AsyncClient(
            base_url=base_url, headers={"Authorization": f"Bearer {emu.long_lived_token}"}
        ) as api,
    ):
        await register(api, receiver.url, ["update_task"])
    emu.update_task(ids.task_due_15m, text="made while stopped")
    assert emu.webhook_deliveries == []
    async with emu.serve():
        await emu.drain_webhooks()
    assert [d.status for d in emu.webhook_deliveries] == [200]
    assert receiver.received[0].form["task"]["update"][0]["text"] == "made while stopped"
