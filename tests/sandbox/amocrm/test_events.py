"""The events feed: what UI-like changes log, and every filter encoding."""

from __future__ import annotations

import re
from typing import Any

import httpx

from sandbox.amocrm import AmoEmulator, seed_demo_account
from tests.sandbox.amocrm.helpers import Amo, FakeClock

EVENT_FIELDS = {
    "id",
    "type",
    "entity_id",
    "entity_type",
    "created_by",
    "created_at",
    "value_after",
    "value_before",
    "account_id",
    "_links",
    "_embedded",
}


async def _events(api: httpx.AsyncClient, query: str) -> list[dict[str, Any]]:
    answer = await api.get("/api/v4/events?" + query)
    if answer.status_code == 204:
        return []
    assert answer.status_code == 200, answer.text
    events = answer.json()["_embedded"]["events"]
    assert isinstance(events, list)
    return events


def test_it_logs_each_ui_change_with_its_value_shapes() -> None:
    clock = FakeClock()
    emu = AmoEmulator(clock=clock)
    ids = seed_demo_account(emu)
    start = len(emu.events())
    lead = ids.leads[0]
    task = ids.task_due_15m
    emu.move_lead(lead, ids.qualified, by_user=ids.ivan)
    emu.set_lead_responsible(lead, ids.maria)
    emu.update_task(
        task, complete_till=1_800_000_000, text="Call Acme today", responsible_user_id=ids.maria
    )
    emu.complete_task(task, "Reached them")
    emu.delete_task(ids.task_due_3h)
    emu.delete_lead(ids.leads[5])
    new = emu.events()[start:]
    assert [(e["type"], e["entity_type"]) for e in new] == [
        ("lead_status_changed", "lead"),
        ("entity_responsible_changed", "lead"),
        ("entity_responsible_changed", "task"),
        ("task_deadline_changed", "task"),
        ("task_text_changed", "task"),
        ("task_completed", "task"),
        ("task_result_added", "task"),
        ("task_deleted", "task"),
        ("lead_deleted", "lead"),
    ]
    status, responsible, task_resp, deadline, text, completed, result, deleted, _ = new
    assert status["value_after"] == [
        {"lead_status": {"id": ids.qualified, "pipeline_id": ids.pipeline}}
    ]
    assert status["value_before"] == [
        {"lead_status": {"id": ids.incoming, "pipeline_id": ids.pipeline}}
    ]
    assert status["created_by"] == ids.ivan
    assert status["created_at"] == int(clock.now)
    assert responsible["value_after"] == [{"responsible_user": {"id": ids.maria}}]
    assert responsible["value_before"] == [{"responsible_user": {"id": ids.ivan}}]
    assert task_resp["entity_id"] == task
    assert deadline["value_after"] == [{"task_deadline": {"timestamp": 1_800_000_000}}]
    assert text["value_after"] == [{"task": {"text": "Call Acme today"}}]
    assert completed["value_after"] == completed["value_before"] == []
    assert list(result["value_after"][0]) == ["note"]
    assert deleted["value_after"] == []
    assert all(set(e) == EVENT_FIELDS for e in new)
    assert all(re.fullmatch(r"[0-9a-z]{26}", e["id"]) for e in emu.events())
    assert len({e["id"] for e in emu.events()}) == len(emu.events())


def test_it_logs_lead_added_with_a_note_value() -> None:
    emu = AmoEmulator()
    seed_demo_account(emu)
    added = [e for e in emu.events() if e["type"] == "lead_added"]
    assert len(added) == 6
    assert all(list(e["value_after"][0]["note"]) == ["id"] for e in added)
    assert sum(e["type"] == "task_added" for e in emu.events()) == 5


async def test_it_serves_events_newest_first_with_links(amo: Amo, api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/v4/events", params={"limit": 5})).json()
    events = body["_embedded"]["events"]
    assert len(events) == 5
    assert [e["id"] for e in events] == [e["id"] for e in amo.emu.events()[::-1][:5]]
    first = events[0]
    assert first["_links"]["self"]["href"].endswith(f"/api/v4/events/{first['id']}")
    entity = first["_embedded"]["entity"]
    assert entity["id"] == first["entity_id"]
    assert entity["_links"]["self"]["href"].endswith(f"/api/v4/tasks/{first['entity_id']}")
    ascending = await _events(api, "order[created_at]=asc&limit=2")
    assert [e["id"] for e in ascending] == [e["id"] for e in amo.emu.events()[:2]]
    one = await api.get(f"/api/v4/events/{first['id']}")
    assert one.json()["id"] == first["id"]


async def test_it_walks_every_page_then_204(amo: Amo, api: httpx.AsyncClient) -> None:
    seen: list[str] = []
    href: str | None = "/api/v4/events?limit=4"
    while href:
        body = (await api.get(href)).json()
        seen += [e["id"] for e in body["_embedded"]["events"]]
        href = body["_links"].get("next", {}).get("href")
    assert sorted(seen) == sorted(e["id"] for e in amo.emu.events())
    pages = -(-len(seen) // 4)
    answer = await api.get("/api/v4/events", params={"limit": 4, "page": pages + 1})
    assert answer.status_code == 204


async def test_it_caps_events_at_100_per_page(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/v4/events", params={"limit": 500})).json()
    assert "limit=100" in body["_links"]["self"]["href"]


async def test_it_filters_events_by_type_in_every_encoding(
    amo: Amo, api: httpx.AsyncClient
) -> None:
    expected = {"task_completed", "task_result_added"}
    for query in (
        "filter[type]=task_completed,task_result_added",
        "filter[type][]=task_completed&filter[type][]=task_result_added",
        "filter[type][0]=task_completed&filter[type][1]=task_result_added",
    ):
        events = await _events(api, query)
        assert {e["type"] for e in events} == expected, query
        assert len(events) == 2


async def test_it_filters_events_by_entity_and_entity_id(amo: Amo, api: httpx.AsyncClient) -> None:
    lead_events = await _events(api, "filter[entity][]=lead")
    assert {e["entity_type"] for e in lead_events} == {"lead"}
    assert len(lead_events) == 6
    lead = amo.ids.leads[2]
    one = await _events(api, f"filter[entity]=lead&filter[entity_id][]={lead}")
    assert [(e["type"], e["entity_id"]) for e in one] == [("lead_added", lead)]
    bad = await api.get(
        f"/api/v4/events?filter[entity][]=lead&filter[entity][]=task&filter[entity_id][]={lead}"
    )
    assert bad.status_code == 400


async def test_it_filters_events_by_created_at_in_every_form(
    amo: Amo, api: httpx.AsyncClient
) -> None:
    mark = max(e["created_at"] for e in amo.emu.events()) + 10
    assert await _events(api, f"filter[created_at]={mark}") == []
    assert await _events(api, f"filter[created_at][from]={mark}") == []
    everything = len(amo.emu.events())
    assert len(await _events(api, f"filter[created_at][to]={mark}&limit=100")) == everything
    assert len(await _events(api, f"filter[created_at]=0,{mark}&limit=100")) == everything
    assert len(await _events(api, "filter[created_at]=0&limit=100")) == everything


async def test_it_filters_events_by_id_and_value(amo: Amo, api: httpx.AsyncClient) -> None:
    amo.emu.move_lead(amo.ids.leads[0], amo.ids.contract)
    wanted = amo.emu.events()[-1]
    by_id = await _events(api, f"filter[id][]={wanted['id']}")
    assert [e["id"] for e in by_id] == [wanted["id"]]
    query = (
        f"filter[value_after][leads_statuses][0][pipeline_id]={amo.ids.pipeline}"
        f"&filter[value_after][leads_statuses][0][status_id]={amo.ids.contract}"
    )
    assert [e["id"] for e in await _events(api, query)] == [wanted["id"]]


async def test_it_answers_204_when_nothing_matches(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v4/events", params={"filter[type]": "incoming_call"})
    assert answer.status_code == 204
    assert answer.content == b""
