from __future__ import annotations

import httpx
import pytest

from integrations.amocrm import (
    AmoAuthError,
    AmoBadResponse,
    AmoClient,
    AmoForbidden,
    AmoNotFound,
    AmoPaymentRequired,
    AmoRateLimited,
    AmoServerError,
    AmoTransportError,
    AmoValidationError,
    NewTask,
    TaskPatch,
)
from tests.integrations.amocrm.fakes import (
    BASE_URL,
    FakeAmo,
    invalid,
    no_content,
    ok,
    page,
    problem,
    text,
    wire_lead,
    wire_task,
)

REQ = httpx.Request("GET", BASE_URL)


# --- reads --------------------------------------------------------------------------------


async def test_it_reads_the_account_with_its_embedded_settings(
    fake: FakeAmo, client: AmoClient
) -> None:
    fake.on(
        "GET",
        "/api/v4/account",
        ok(
            {
                "id": 1,
                "name": "Demo",
                "subdomain": "demo",
                "current_user_id": 5,
                "_embedded": {
                    "datetime_settings": {"timezone": "Asia/Yekaterinburg"},
                    "users_groups": [{"id": 0, "name": "Main"}],
                    "task_types": [],
                },
            }
        ),
    )
    account = await client.account()
    assert account.timezone == "Asia/Yekaterinburg"
    assert account.current_user_id == 5
    assert fake.seen[0].params["with"] == "users_groups,task_types,datetime_settings"
    assert fake.seen[0].authorization == "Bearer long-lived"


async def test_it_follows_next_links_on_a_foreign_host(fake: FakeAmo, client: AmoClient) -> None:
    fake.on(
        "GET",
        "/api/v4/tasks",
        page(
            "tasks",
            [wire_task(1), wire_task(2)],
            next_href="https://demo.kommo.com/api/v4/tasks?page=2&limit=250",
        ),
        page("tasks", [wire_task(3)]),
    )
    tasks = await client.tasks()
    assert [t.id for t in tasks] == [1, 2, 3]
    first, second = fake.calls("GET", "/api/v4/tasks")
    assert first.params == {"limit": "250"}
    assert second.params == {"page": "2", "limit": "250"}


async def test_it_ends_a_walk_on_204(fake: FakeAmo, client: AmoClient) -> None:
    fake.on(
        "GET",
        "/api/v4/leads",
        page("leads", [wire_lead(1)], next_href=f"{BASE_URL}/api/v4/leads?page=2&limit=250"),
        no_content(),
    )
    assert [d.id for d in await client.leads()] == [1]
    assert len(fake.calls("GET", "/api/v4/leads")) == 2


async def test_it_reads_204_as_an_empty_list(fake: FakeAmo, client: AmoClient) -> None:
    fake.on("GET", "/api/v4/events", no_content())
    assert await client.events(created_since=1) == []


async def test_it_stops_on_a_link_loop(fake: FakeAmo, client: AmoClient) -> None:
    fake.on(
        "GET",
        "/api/v4/users",
        page("users", [{"id": 1, "name": "A"}], next_href=f"{BASE_URL}/api/v4/users?page=2"),
        page("users", [{"id": 2, "name": "B"}], next_href=f"{BASE_URL}/api/v4/users?page=2"),
    )
    assert [u.id for u in await client.users()] == [1, 2]
    assert len(fake.calls("GET", "/api/v4/users")) == 2


@pytest.mark.parametrize("missing", [no_content(), problem(404, "Not Found", "Task not found")])
async def test_it_reads_an_unknown_task_as_none(
    fake: FakeAmo, client: AmoClient, missing: httpx.Response
) -> None:
    fake.on("GET", "/api/v4/tasks/9", missing)
    assert await client.task(9) is None


async def test_it_reads_single_entities(fake: FakeAmo, client: AmoClient) -> None:
    fake.on("GET", "/api/v4/tasks/7", ok(wire_task(7, result={"text": "done"})))
    fake.on("GET", "/api/v4/leads/8", ok(wire_lead(8)))
    fake.on("GET", "/api/v4/users/9", ok({"id": 9, "name": "Ann", "rights": {"is_admin": True}}))
    fake.on("GET", "/api/v4/users/10", no_content())
    task = await client.task(7)
    assert task is not None
    assert task.result_text == "done"
    deal = await client.lead(8)
    assert deal is not None
    assert deal.pipeline_id == 437642
    user = await client.user(9)
    assert user is not None
    assert user.rights.is_admin
    assert await client.user(10) is None


async def test_it_sends_task_filters_in_php_brackets(fake: FakeAmo, client: AmoClient) -> None:
    fake.on("GET", "/api/v4/tasks", page("tasks", [wire_task(5, complete_till=100)]))
    await client.tasks(
        ids=[5, 6],
        updated_since=1700000000,
        responsible_user_ids=[123123],
        is_completed=False,
        complete_till_to=200,
    )
    assert fake.seen[0].query == (
        ("limit", "250"),
        ("filter[id][0]", "5"),
        ("filter[id][1]", "6"),
        ("filter[updated_at][from]", "1700000000"),
        ("filter[responsible_user_id][0]", "123123"),
        ("filter[is_completed]", "0"),
        ("filter[complete_till][to]", "200"),
    )


async def test_it_checks_filters_amocrm_may_ignore(fake: FakeAmo, client: AmoClient) -> None:
    fake.on(
        "GET",
        "/api/v4/tasks",
        page(
            "tasks",
            [
                wire_task(1, complete_till=100),
                wire_task(2, complete_till=300),
                wire_task(3, complete_till=50, is_completed=True),
            ],
        ),
    )
    tasks = await client.tasks(is_completed=False, complete_till_to=200)
    assert [t.id for t in tasks] == [1]


async def test_it_sends_event_filters(fake: FakeAmo, client: AmoClient) -> None:
    event = {
        "id": "e1",
        "type": "task_added",
        "entity_id": 1,
        "entity_type": "task",
        "created_at": 1700000001,
        "value_after": [],
        "value_before": [],
    }
    fake.on("GET", "/api/v4/events", page("events", [event]))
    events = await client.events(
        created_since=1700000000, types=["task_added", "task_completed"], entities=["task"]
    )
    assert [e.id for e in events] == ["e1"]
    assert fake.seen[0].params == {
        "limit": "100",
        "filter[created_at][from]": "1700000000",
        "filter[type][0]": "task_added",
        "filter[type][1]": "task_completed",
        "filter[entity][0]": "task",
    }


async def test_it_asks_nothing_for_an_empty_id_list(fake: FakeAmo, client: AmoClient) -> None:
    assert await client.tasks(ids=[]) == []
    assert await client.leads(responsible_user_ids=[]) == []
    assert fake.seen == []


async def test_it_chunks_long_id_lists(fake: FakeAmo, client: AmoClient) -> None:
    fake.on("GET", "/api/v4/leads", no_content())
    await client.leads(ids=list(range(1, 251)))
    calls = fake.calls("GET", "/api/v4/leads")
    assert [sum(k.startswith("filter[id]") for k, _ in c.query) for c in calls] == [100, 100, 50]


async def test_it_raises_bad_response_on_a_wrong_shape(fake: FakeAmo, client: AmoClient) -> None:
    fake.on("GET", "/api/v4/tasks/1", ok({"id": "not-a-number"}))
    with pytest.raises(AmoBadResponse):
        await client.task(1)


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (problem(402, "Payment Required", "Account is not paid"), AmoPaymentRequired),
        (
            text(403, "<html><body>nginx</body></html>", **{"content-type": "text/html"}),
            AmoForbidden,
        ),
        (problem(404, "Not Found", "Pipeline not found"), AmoNotFound),
    ],
)
async def test_it_raises_typed_errors_at_once(
    fake: FakeAmo, client: AmoClient, reply: httpx.Response, kind: type[Exception]
) -> None:
    fake.on("GET", "/api/v4/leads/pipelines", reply)
    with pytest.raises(kind):
        await client.pipelines()
    assert len(fake.seen) == 1


async def test_it_reports_a_flood_block(fake: FakeAmo, client: AmoClient) -> None:
    fake.on("GET", "/api/v4/users", text(403, "<html>403 Forbidden</html>"))
    with pytest.raises(AmoForbidden) as caught:
        await client.users()
    assert caught.value.blocked


async def test_it_raises_validation_issues_on_a_write(fake: FakeAmo, client: AmoClient) -> None:
    bad_type = {"code": "NotSupportedChoice", "path": "task_type_id", "detail": "bad"}
    fake.on("POST", "/api/v4/tasks", invalid({"request_id": "0", "errors": [bad_type]}))
    with pytest.raises(AmoValidationError) as caught:
        await client.create_task(NewTask(text="x", complete_till=1, task_type_id=99))
    assert caught.value.issues[0].path == "task_type_id"


# --- retry policy -------------------------------------------------------------------------


async def test_it_retries_a_read_through_429s_and_5xx(
    fake: FakeAmo, client: AmoClient, metrics: list[tuple[str, str, int]]
) -> None:
    fake.on(
        "GET",
        "/api/v4/tasks/1",
        text(429, "Too Many Requests"),
        problem(500, "Internal Server Error", "oops"),
        text(503, "<html>maintenance</html>"),
        text(429, "", **{"retry-after": "0.01"}),
        ok(wire_task(1)),
    )
    task = await client.task(1)
    assert task is not None
    assert [s for _, _, s in metrics] == [429, 500, 503, 429, 200]
    assert {p for _, p, _ in metrics} == {"/api/v4/tasks/{id}"}


async def test_it_retries_a_read_through_transport_errors(
    fake: FakeAmo, client: AmoClient, metrics: list[tuple[str, str, int]]
) -> None:
    fake.on(
        "GET",
        "/api/v4/tasks/1",
        httpx.ReadTimeout("slow", request=REQ),
        httpx.ConnectError("refused", request=REQ),
        ok(wire_task(1)),
    )
    assert await client.task(1) is not None
    assert [s for _, _, s in metrics] == [0, 0, 200]


async def test_it_gives_up_on_a_read_after_max_attempts(fake: FakeAmo, client: AmoClient) -> None:
    fake.on("GET", "/api/v4/tasks/1", problem(502, "Bad Gateway", "upstream"))
    with pytest.raises(AmoServerError):
        await client.task(1)
    assert len(fake.seen) == 5


async def test_it_does_not_wait_out_a_huge_retry_after(fake: FakeAmo, client: AmoClient) -> None:
    fake.on("GET", "/api/v4/tasks/1", text(429, "", **{"retry-after": "3600"}))
    with pytest.raises(AmoRateLimited) as caught:
        await client.task(1)
    assert caught.value.retry_after == 3600
    assert len(fake.seen) == 1


@pytest.mark.parametrize(
    "failure",
    [problem(500, "Internal Server Error", "oops"), text(504, "gateway timeout")],
)
async def test_it_never_retries_a_write_on_5xx(
    fake: FakeAmo, client: AmoClient, failure: httpx.Response
) -> None:
    fake.on("PATCH", "/api/v4/tasks/1", failure, ok({"id": 1, "updated_at": 5}))
    with pytest.raises(AmoServerError):
        await client.update_task(TaskPatch(id=1, is_completed=True))
    assert len(fake.seen) == 1


async def test_it_never_retries_a_write_after_a_read_timeout(
    fake: FakeAmo, client: AmoClient
) -> None:
    fake.on(
        "POST",
        "/api/v4/tasks",
        httpx.ReadTimeout("slow", request=REQ),
        ok({"_embedded": {"tasks": [{"id": 9}]}}),
    )
    with pytest.raises(AmoTransportError) as caught:
        await client.create_task(NewTask(text="x", complete_till=1))
    assert caught.value.maybe_applied
    assert len(fake.seen) == 1


async def test_it_retries_a_write_on_429_and_on_a_failed_connect(
    fake: FakeAmo, client: AmoClient
) -> None:
    fake.on(
        "PATCH",
        "/api/v4/tasks/1",
        text(429, "Too Many Requests"),
        httpx.ConnectError("refused", request=REQ),
        ok({"id": 1, "updated_at": 77}),
    )
    assert await client.update_task(TaskPatch(id=1, complete_till=500)) == 77
    assert len(fake.seen) == 3


# --- 401 ----------------------------------------------------------------------------------


class _RotatingAuth:
    def __init__(self) -> None:
        self.token = "old"
        self.rejected: list[str] = []

    async def access_token(self) -> str:
        return self.token

    async def on_unauthorized(self, rejected: str) -> str | None:
        self.rejected.append(rejected)
        self.token = "new"
        return self.token


async def test_it_refreshes_once_and_retries_once_on_401(
    fake: FakeAmo, http: httpx.AsyncClient
) -> None:
    auth = _RotatingAuth()
    fake.on(
        "PATCH",
        "/api/v4/tasks/1",
        problem(401, "Unauthorized", "Неверный логин или пароль"),
        ok({"id": 1, "updated_at": 5}),
    )
    async with AmoClient(BASE_URL, auth=auth, pacer=_NoPace(), http=http) as amo:
        assert await amo.update_task(TaskPatch(id=1, is_completed=True)) == 5
    assert auth.rejected == ["old"]
    assert [s.authorization for s in fake.seen] == ["Bearer old", "Bearer new"]


async def test_it_raises_on_a_second_401(fake: FakeAmo, http: httpx.AsyncClient) -> None:
    auth = _RotatingAuth()
    fake.on("GET", "/api/v4/tasks/1", problem(401, "Unauthorized", "no"))
    async with AmoClient(BASE_URL, auth=auth, pacer=_NoPace(), http=http) as amo:
        with pytest.raises(AmoAuthError):
            await amo.task(1)
    assert auth.rejected == ["old"]
    assert len(fake.seen) == 2


async def test_a_long_lived_token_gets_no_second_try(fake: FakeAmo, client: AmoClient) -> None:
    fake.on("GET", "/api/v4/tasks/1", problem(401, "Unauthorized", "no"))
    with pytest.raises(AmoAuthError):
        await client.task(1)
    assert len(fake.seen) == 1


class _NoPace:
    def __init__(self) -> None:
        self.turns = 0

    async def wait_turn(self) -> None:
        self.turns += 1


async def test_every_attempt_waits_its_turn(fake: FakeAmo, http: httpx.AsyncClient) -> None:
    pacer = _NoPace()
    fake.on("GET", "/api/v4/tasks/1", text(429, ""), text(500, ""), ok(wire_task(1)))
    async with AmoClient(
        BASE_URL, auth=_RotatingAuth(), pacer=pacer, http=http, backoff_base_s=0.001
    ) as amo:
        await amo.task(1)
    assert pacer.turns == 3


# --- writes -------------------------------------------------------------------------------


async def test_it_sends_only_the_set_fields_of_a_patch(fake: FakeAmo, client: AmoClient) -> None:
    fake.on(
        "PATCH",
        "/api/v4/tasks/56981",
        ok({"id": 56981, "updated_at": 1588760725, "request_id": "0", "_links": {}}),
    )
    updated = await client.update_task(
        TaskPatch(id=56981, is_completed=True, result_text="Reached the client")
    )
    assert updated == 1588760725
    assert fake.seen[0].body == {"is_completed": True, "result": {"text": "Reached the client"}}


async def test_it_refuses_an_empty_patch(client: AmoClient) -> None:
    with pytest.raises(ValueError, match="sets no field"):
        await client.update_task(TaskPatch(id=1))


async def test_it_patches_tasks_in_batches_of_50(fake: FakeAmo, client: AmoClient) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        import json

        items = json.loads(request.content)
        return ok(
            {
                "_embedded": {
                    "tasks": [
                        {"id": i["id"], "updated_at": 1000 + i["id"], "request_id": "0"}
                        for i in items
                    ]
                }
            }
        )

    fake.on("PATCH", "/api/v4/tasks", answer)
    patches = [TaskPatch(id=i, responsible_user_id=7) for i in range(1, 121)]
    updated = await client.update_tasks(patches)
    assert updated == [1000 + i for i in range(1, 121)]
    bodies = [c.body for c in fake.calls("PATCH", "/api/v4/tasks")]
    assert [len(b) for b in bodies if isinstance(b, list)] == [50, 50, 20]
    assert bodies[0][0] == {"id": 1, "responsible_user_id": 7}  # type: ignore[index]


async def test_it_creates_a_task_as_an_array(fake: FakeAmo, client: AmoClient) -> None:
    fake.on(
        "POST",
        "/api/v4/tasks",
        ok({"_embedded": {"tasks": [{"id": 4745251, "request_id": "r1", "_links": {}}]}}),
    )
    new = NewTask(
        text="Code 1234",
        complete_till=1700000000,
        responsible_user_id=5,
        entity_type="leads",
        entity_id=9,
        request_id="r1",
    )
    assert await client.create_task(new) == 4745251
    assert fake.seen[0].body == [
        {
            "text": "Code 1234",
            "complete_till": 1700000000,
            "responsible_user_id": 5,
            "entity_type": "leads",
            "entity_id": 9,
            "request_id": "r1",
        }
    ]


async def test_it_adds_a_note_to_a_lead(fake: FakeAmo, client: AmoClient) -> None:
    fake.on(
        "POST",
        "/api/v4/leads/9/notes",
        ok({"_embedded": {"notes": [{"id": 42, "entity_id": 9, "request_id": "0"}]}}),
    )
    assert await client.add_lead_note(9, "Completed from Telegram by Ivan") == 42
    assert fake.seen[0].body == [
        {"note_type": "common", "params": {"text": "Completed from Telegram by Ivan"}}
    ]


async def test_it_manages_webhooks(fake: FakeAmo, client: AmoClient) -> None:
    hook = {
        "id": 3,
        "destination": "https://bot/h/s",
        "created_at": 1,
        "updated_at": 1,
        "account_id": 1,
        "created_by": 2,
        "sort": 10,
        "disabled": False,
        "settings": ["add_task", "update_task"],
    }
    fake.on("POST", "/api/v4/webhooks", ok(hook, status=201))
    fake.on("GET", "/api/v4/webhooks", ok({"_total_items": 1, "_embedded": {"webhooks": [hook]}}))
    fake.on("DELETE", "/api/v4/webhooks", no_content(), problem(404, "Not Found", "no hook"))
    registered = await client.register_webhook("https://bot/h/s", ["add_task", "update_task"])
    assert registered.id == 3
    assert fake.seen[0].body == {
        "destination": "https://bot/h/s",
        "settings": ["add_task", "update_task"],
        "sort": 10,
    }
    listed = await client.list_webhooks("https://bot/h/s")
    assert [h.destination for h in listed] == ["https://bot/h/s"]
    assert fake.seen[1].params == {"filter[destination]": "https://bot/h/s"}
    assert await client.delete_webhook("https://bot/h/s") is True
    assert fake.seen[2].body == {"destination": "https://bot/h/s"}
    assert await client.delete_webhook("https://bot/h/s") is False


async def test_it_closes_only_an_http_client_it_made(http: httpx.AsyncClient) -> None:
    async with AmoClient(BASE_URL, auth=_RotatingAuth(), pacer=_NoPace(), http=http):
        pass
    assert not http.is_closed
    own = AmoClient(BASE_URL, auth=_RotatingAuth(), pacer=_NoPace())
    await own.close()
