"""Faults on cue: each kind, its count, its path scope, and the request log."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.sandbox.amocrm.helpers import Amo


@pytest.mark.parametrize("kind", ["429", "500", "503"])
async def test_it_answers_an_error_fault_as_problem_json(
    amo: Amo, api: httpx.AsyncClient, kind: str
) -> None:
    amo.emu.faults.add(kind)
    faulted = await api.get("/api/v4/account")
    assert faulted.status_code == int(kind)
    assert faulted.headers["content-type"] == "application/problem+json"
    assert faulted.json()["status"] == int(kind)
    assert "retry-after" not in faulted.headers
    assert (await api.get("/api/v4/account")).status_code == 200


async def test_it_can_answer_a_fault_without_json(amo: Amo, api: httpx.AsyncClient) -> None:
    amo.emu.faults.add("429", non_json=True)
    answer = await api.get("/api/v4/tasks")
    assert answer.status_code == 429
    assert answer.headers["content-type"].startswith("text/html")
    with pytest.raises(ValueError, match="Expecting value"):
        answer.json()


async def test_it_serves_the_next_count_requests_with_the_fault(
    amo: Amo, api: httpx.AsyncClient
) -> None:
    amo.emu.faults.add("503", count=2)
    statuses = [(await api.get("/api/v4/account")).status_code for _ in range(3)]
    assert statuses == [503, 503, 200]


@pytest.mark.parametrize(
    ("kind", "delay_s", "status"),
    [
        pytest.param("slow", 0.3, 200, id="slow-then-served"),
        pytest.param("timeout", 0.2, 504, id="timeout-504"),
    ],
)
async def test_it_holds_the_call_then_answers(
    amo: Amo, api: httpx.AsyncClient, kind: str, delay_s: float, status: int
) -> None:
    amo.emu.faults.add(kind, delay_s=delay_s)
    started = time.monotonic()
    answer = await api.get("/api/v4/account")
    assert time.monotonic() - started >= delay_s
    assert answer.status_code == status
    if status == 200:
        assert answer.json()["subdomain"] == "demo"


async def test_it_lets_a_client_time_out(amo: Amo) -> None:
    amo.emu.faults.add("timeout", delay_s=2.0)
    async with httpx.AsyncClient(
        base_url=amo.base_url,
        timeout=0.2,
        headers={"Authorization": f"Bearer {amo.emu.long_lived_token}"},
    ) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            await impatient.get("/api/v4/account")


async def test_it_serves_an_nginx_403_page(amo: Amo, api: httpx.AsyncClient) -> None:
    amo.emu.faults.add("html403")
    answer = await api.get("/api/v4/leads")
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "<center>nginx</center>" in answer.text


async def test_it_scopes_faults_by_path_prefix(amo: Amo, api: httpx.AsyncClient) -> None:
    amo.emu.faults.add("500", path_prefix="/api/v4/tasks")
    assert (await api.get("/api/v4/account")).status_code == 200
    assert (await api.get("/api/v4/tasks")).status_code == 500
    amo.emu.faults.add("500", path_prefix="/oauth2/")
    async with httpx.AsyncClient(base_url=amo.base_url) as raw:
        assert (await raw.post("/oauth2/access_token", json={})).status_code == 500


def test_it_rejects_unknown_fault_kinds(amo: Amo) -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        amo.emu.faults.add("418")
    with pytest.raises(ValueError, match="count"):
        amo.emu.faults.add("500", count=0)


async def test_it_logs_api_and_oauth_requests_only(amo: Amo, api: httpx.AsyncClient) -> None:
    amo.emu.faults.add("500")
    await api.get("/api/v4/tasks", params={"filter[is_completed]": "0"})
    await api.patch(f"/api/v4/tasks/{amo.ids.task_due_15m}", json={"text": "logged"})
    await api.get("/_control/state")
    async with httpx.AsyncClient(base_url=amo.base_url) as raw:
        await raw.post("/oauth2/access_token", json={"grant_type": "refresh_token"})
    log = amo.emu.request_log
    assert [(r.method, r.path, r.status) for r in log] == [
        ("GET", "/api/v4/tasks", 500),
        ("PATCH", f"/api/v4/tasks/{amo.ids.task_due_15m}", 200),
        ("POST", "/oauth2/access_token", 401),
    ]
    assert log[0].query == "filter%5Bis_completed%5D=0"
    assert log[1].body == '{"text":"logged"}'
    assert all(isinstance(r.at, float) for r in log)
