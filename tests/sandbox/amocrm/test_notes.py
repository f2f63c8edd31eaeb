"""Lead notes over the wire."""

from __future__ import annotations

import httpx

from tests.sandbox.amocrm.helpers import Amo


async def test_it_adds_notes_to_a_lead(amo: Amo, api: httpx.AsyncClient) -> None:
    lead = amo.ids.leads[1]
    answer = await api.post(
        f"/api/v4/leads/{lead}/notes",
        json=[
            {
                "note_type": "common",
                "params": {"text": "Completed from Telegram by Ivan"},
                "request_id": "n1",
            },
            {
                "note_type": "service_message",
                "params": {"service": "amobridge", "text": "Snoozed"},
            },
        ],
    )
    assert answer.status_code == 200, answer.text
    created = answer.json()["_embedded"]["notes"]
    assert [(n["entity_id"], n["request_id"]) for n in created] == [(lead, "n1"), (lead, "1")]
    assert all(set(n) == {"id", "entity_id", "request_id", "_links"} for n in created)
    notes = amo.emu.notes(lead)
    assert [n["params"]["text"] for n in notes] == ["Completed from Telegram by Ivan", "Snoozed"]
    assert notes[0]["note_type"] == "common"
    assert notes[0]["created_by"] == amo.ids.admin
    listed = (await api.get(f"/api/v4/leads/{lead}/notes")).json()["_embedded"]["notes"]
    assert [n["id"] for n in listed] == [n["id"] for n in created]


async def test_it_adds_notes_by_entity_id(amo: Amo, api: httpx.AsyncClient) -> None:
    first, second = amo.ids.leads[0], amo.ids.leads[2]
    answer = await api.post(
        "/api/v4/leads/notes",
        json=[
            {"entity_id": first, "note_type": "common", "params": {"text": "a"}},
            {"entity_id": second, "note_type": "common", "params": {"text": "b"}},
        ],
    )
    assert [n["entity_id"] for n in answer.json()["_embedded"]["notes"]] == [first, second]
    assert [n["params"]["text"] for n in amo.emu.notes(second)] == ["b"]


async def test_it_validates_notes(amo: Amo, api: httpx.AsyncClient) -> None:
    lead = amo.ids.leads[0]
    not_array = await api.post(
        f"/api/v4/leads/{lead}/notes", json={"note_type": "common", "params": {"text": "x"}}
    )
    assert not_array.status_code == 400
    bad = await api.post(
        f"/api/v4/leads/{lead}/notes",
        json=[
            {"note_type": "common", "params": {}},
            {"note_type": "telepathy", "params": {"text": "x"}},
        ],
    )
    assert bad.status_code == 400
    failures = bad.json()["validation-errors"]
    assert [f["request_id"] for f in failures] == ["0", "1"]
    assert failures[0]["errors"][0]["path"] == "params.text"
    assert failures[1]["errors"][0]["path"] == "note_type"
    unknown_lead = await api.post(
        "/api/v4/leads/1/notes", json=[{"note_type": "common", "params": {"text": "x"}}]
    )
    assert unknown_lead.status_code == 400
    assert amo.emu.notes(lead) == []
    assert (await api.get(f"/api/v4/leads/{lead}/notes")).status_code == 204
