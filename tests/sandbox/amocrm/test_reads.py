"""Account, users, pipelines and leads as a raw HTTP client sees them."""

from __future__ import annotations

import httpx
import pytest

from tests.sandbox.amocrm.helpers import RESPONSIBLE_FILTERS, Amo

LEAD_FIELDS = {
    "id",
    "name",
    "price",
    "responsible_user_id",
    "group_id",
    "status_id",
    "pipeline_id",
    "loss_reason_id",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
    "closed_at",
    "closest_task_at",
    "is_deleted",
    "custom_fields_values",
    "score",
    "account_id",
    "labor_cost",
    "_links",
    "_embedded",
}


async def test_it_answers_hal_json_with_a_request_id(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v4/account")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/hal+json"
    assert answer.headers["x-request-id"]


async def test_it_serves_the_account_with_embedded_extras(
    amo: Amo, api: httpx.AsyncClient
) -> None:
    body = (
        await api.get(
            "/api/v4/account", params={"with": "users_groups,task_types,datetime_settings"}
        )
    ).json()
    assert body["name"] == "Demo Sales"
    assert body["subdomain"] == "demo"
    assert body["current_user_id"] == amo.ids.admin
    assert "timezone" not in body
    embedded = body["_embedded"]
    assert embedded["datetime_settings"]["timezone"] == "Europe/Moscow"
    assert embedded["datetime_settings"]["timezone_offset"] == "+03:00"
    assert [(t["id"], t["code"]) for t in embedded["task_types"]] == [
        (1, "FOLLOW_UP"),
        (2, "MEETING"),
    ]
    groups = {g["name"]: g["id"] for g in embedded["users_groups"]}
    assert groups["Sales A"] == amo.ids.group_a
    assert groups["Sales B"] == amo.ids.group_b


async def test_it_leaves_out_embedded_without_with(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/v4/account")).json()
    assert "_embedded" not in body


async def test_it_pages_users_with_totals(amo: Amo, api: httpx.AsyncClient) -> None:
    first = await api.get("/api/v4/users", params={"limit": 4})
    body = first.json()
    assert body["_total_items"] == 6
    assert body["_page_count"] == 2
    assert body["_page"] == 1
    assert len(body["_embedded"]["users"]) == 4
    next_href = body["_links"]["next"]["href"]
    second = (await api.get(next_href)).json()
    assert second["_page"] == 2
    assert "next" not in second["_links"]
    assert second["_links"]["prev"]["href"].endswith("page=1&limit=4")
    ids = [u["id"] for u in body["_embedded"]["users"] + second["_embedded"]["users"]]
    assert sorted(ids) == sorted(amo.ids.users)
    past_end = await api.get("/api/v4/users", params={"limit": 4, "page": 3})
    assert past_end.status_code == 204
    assert past_end.content == b""


async def test_it_shows_user_rights_as_letters(amo: Amo, api: httpx.AsyncClient) -> None:
    sergey = (await api.get(f"/api/v4/users/{amo.ids.supervisor}")).json()
    rights = sergey["rights"]
    assert rights["leads"]["view"] == "G"
    assert rights["tasks"] == {"edit": "G", "delete": "G"}
    assert rights["is_admin"] is False
    assert rights["group_id"] == amo.ids.group_a
    assert set(rights) >= {
        "leads",
        "contacts",
        "companies",
        "tasks",
        "mail_access",
        "catalog_access",
        "status_rights",
        "is_admin",
        "is_free",
        "is_active",
        "group_id",
        "role_id",
    }
    assert set(rights["leads"]) == {"view", "edit", "add", "delete", "export"}
    assert sergey["_embedded"]["groups"] == [{"id": amo.ids.group_a, "name": "Sales A"}]
    assert sergey["email"] == "sergey@demo.example"
    oleg = (await api.get(f"/api/v4/users/{amo.ids.oleg}")).json()
    assert oleg["rights"]["tasks"]["edit"] == "D"
    former = (await api.get(f"/api/v4/users/{amo.ids.former}")).json()
    assert former["rights"]["is_active"] is False
    admin = (await api.get(f"/api/v4/users/{amo.ids.admin}")).json()
    assert admin["rights"]["is_admin"] is True
    assert admin["rights"]["group_id"] is None  # the default group shows as null


async def test_it_refuses_the_users_list_to_a_non_admin(amo: Amo) -> None:
    token = await amo.token_for(amo.ids.ivan)
    async with amo.client(token) as ivan:
        answer = await ivan.get("/api/v4/users")
        own = await ivan.get(f"/api/v4/users/{amo.ids.ivan}")
        account = await ivan.get("/api/v4/account")
    assert answer.status_code == 403
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == 403
    assert own.status_code == 200
    assert account.json()["current_user_id"] == amo.ids.ivan


async def test_it_lists_pipelines_without_paging(amo: Amo, api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/v4/leads/pipelines")).json()
    assert body["_total_items"] == 1
    assert "_page" not in body
    pipeline = body["_embedded"]["pipelines"][0]
    assert pipeline["id"] == amo.ids.pipeline
    assert pipeline["is_main"] is True
    assert {"id", "name", "sort", "is_main", "is_unsorted_on", "is_archive", "account_id"} <= set(
        pipeline
    )
    statuses = pipeline["_embedded"]["statuses"]
    assert [s["name"] for s in statuses[:4]] == [
        "Incoming",
        "Qualified",
        "Negotiation",
        "Contract",
    ]
    assert [s["id"] for s in statuses[4:]] == [142, 143]
    assert set(statuses[0]) >= {
        "id",
        "name",
        "sort",
        "is_editable",
        "pipeline_id",
        "color",
        "type",
        "account_id",
    }


async def test_it_lists_statuses_and_404s_a_bad_pipeline(amo: Amo, api: httpx.AsyncClient) -> None:
    good = await api.get(f"/api/v4/leads/pipelines/{amo.ids.pipeline}/statuses")
    assert [s["id"] for s in good.json()["_embedded"]["statuses"]] == list(amo.ids.statuses)
    bad = await api.get("/api/v4/leads/pipelines/999/statuses")
    assert bad.status_code == 404
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json() == {
        "title": "Not Found",
        "type": "https://httpstatus.es/404",
        "status": 404,
        "detail": "Pipeline not found",
    }


async def test_it_serves_leads_with_every_field(amo: Amo, api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/v4/leads")).json()
    leads = body["_embedded"]["leads"]
    assert [lead["id"] for lead in leads] == list(amo.ids.leads)
    assert set(leads[0]) == LEAD_FIELDS
    assert leads[0]["_embedded"] == {"tags": [], "companies": []}
    hooli = leads[-1]
    assert hooli["status_id"] == 142
    assert hooli["closed_at"] is not None
    acme = leads[0]
    assert acme["closest_task_at"] == amo.emu.task(amo.ids.task_due_15m)["complete_till"]


async def test_it_adds_contacts_only_when_asked(amo: Amo, api: httpx.AsyncClient) -> None:
    lead_id = amo.ids.leads[0]
    plain = (await api.get(f"/api/v4/leads/{lead_id}")).json()
    assert "contacts" not in plain["_embedded"]
    rich = (await api.get(f"/api/v4/leads/{lead_id}", params={"with": "contacts"})).json()
    assert rich["_embedded"]["contacts"] == []
    assert rich["id"] == lead_id
    missing = await api.get("/api/v4/leads/1")
    assert missing.status_code == 204


@pytest.mark.parametrize("query", RESPONSIBLE_FILTERS)
async def test_it_filters_leads_in_every_list_encoding(
    amo: Amo, api: httpx.AsyncClient, query: str
) -> None:
    answer = await api.get("/api/v4/leads?" + query.format(ivan=amo.ids.ivan))
    names = [lead["name"] for lead in answer.json()["_embedded"]["leads"]]
    assert names == ["Acme Corp: 50 licenses", "Globex renewal"]


async def test_it_filters_leads_by_statuses_and_pipeline(amo: Amo, api: httpx.AsyncClient) -> None:
    ids = amo.ids
    query = (
        f"filter[statuses][0][pipeline_id]={ids.pipeline}"
        f"&filter[statuses][0][status_id]={ids.negotiation}"
        f"&filter[statuses][1][pipeline_id]={ids.pipeline}&filter[statuses][1][status_id]=142"
    )
    leads = (await api.get("/api/v4/leads?" + query)).json()["_embedded"]["leads"]
    assert {lead["status_id"] for lead in leads} == {ids.negotiation, 142}
    assert len(leads) == 3
    by_pipeline = await api.get(f"/api/v4/leads?filter[pipeline_id][]={ids.pipeline}")
    assert len(by_pipeline.json()["_embedded"]["leads"]) == 6
    by_ids = await api.get(f"/api/v4/leads?filter[id]={ids.leads[0]},{ids.leads[2]}")
    assert [lead["id"] for lead in by_ids.json()["_embedded"]["leads"]] == [
        ids.leads[0],
        ids.leads[2],
    ]


async def test_it_filters_leads_by_time_in_every_range_form(
    amo: Amo, api: httpx.AsyncClient
) -> None:
    created = amo.emu.lead(amo.ids.leads[0])["created_at"]
    forms = [
        {"filter[created_at]": str(created)},
        {"filter[created_at][from]": str(created), "filter[created_at][to]": str(created + 5)},
        {"filter[updated_at]": f"{created},{created + 5}"},
    ]
    for params in forms:
        answer = await api.get("/api/v4/leads", params=params)
        assert len(answer.json()["_embedded"]["leads"]) == 6, params
    future = await api.get("/api/v4/leads", params={"filter[created_at][from]": created + 999})
    assert future.status_code == 204


async def test_it_orders_and_pages_leads(amo: Amo, api: httpx.AsyncClient) -> None:
    desc = await api.get("/api/v4/leads", params={"order[id]": "desc", "limit": 4})
    body = desc.json()
    assert [lead["id"] for lead in body["_embedded"]["leads"]] == list(amo.ids.leads[::-1][:4])
    assert "page=2" in body["_links"]["next"]["href"]
    rest = (await api.get(body["_links"]["next"]["href"])).json()
    assert [lead["id"] for lead in rest["_embedded"]["leads"]] == list(amo.ids.leads[1::-1])
    assert "next" not in rest["_links"]


async def test_it_caps_the_limit_at_250(api: httpx.AsyncClient) -> None:
    body = (await api.get("/api/v4/leads", params={"limit": 1000})).json()
    assert "limit=250" in body["_links"]["self"]["href"]


async def test_it_shows_managers_only_their_own_leads(amo: Amo) -> None:
    token = await amo.token_for(amo.ids.maria)
    async with amo.client(token) as maria:
        leads = (await maria.get("/api/v4/leads")).json()["_embedded"]["leads"]
        other = await maria.get(f"/api/v4/leads/{amo.ids.leads[0]}")
    assert {lead["responsible_user_id"] for lead in leads} == {amo.ids.maria}
    assert other.status_code == 403


async def test_it_answers_400_problem_to_a_bad_filter(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v4/leads", params={"filter[id]": "abc"})
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"


async def test_it_answers_404_problem_to_an_unknown_path(api: httpx.AsyncClient) -> None:
    answer = await api.get("/api/v4/nothing-here")
    assert answer.status_code == 404
    assert answer.json()["type"] == "https://httpstatus.es/404"
