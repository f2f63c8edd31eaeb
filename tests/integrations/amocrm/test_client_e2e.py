"""The real client against the amoCRM emulator served on loopback: real HTTP, real stores."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from bot.core.clock import SystemClock
from bot.core.domain import OAuthTokens, Right
from bot.store.protocol import Store
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from integrations.amocrm import (
    AmoClient,
    AmoForbidden,
    AmoOAuthError,
    AmoServerError,
    AmoTransportError,
    LongLivedTokenAuth,
    NewTask,
    OAuthTokenManager,
    StorePacer,
    TaskPatch,
)
from sandbox.amocrm import AmoEmulator, DemoIds, seed_demo_account

StoreFactory = Callable[[], Awaitable[Store]]


@pytest.fixture
def seeded() -> tuple[AmoEmulator, DemoIds]:
    emulator = AmoEmulator(subdomain="demo", rate_limit_per_s=7.0)
    return emulator, seed_demo_account(emulator)


@pytest.fixture
def emu(seeded: tuple[AmoEmulator, DemoIds]) -> AmoEmulator:
    return seeded[0]


@pytest.fixture
def demo(seeded: tuple[AmoEmulator, DemoIds]) -> DemoIds:
    return seeded[1]


@pytest.fixture
async def base_url(emu: AmoEmulator) -> AsyncIterator[str]:
    async with emu.serve(host="127.0.0.1", port=0) as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(5, connect=2), trust_env=False) as c:
        yield c


def _client(
    base_url: str, store: Store, http: httpx.AsyncClient, token: str, *, max_attempts: int = 5
) -> AmoClient:
    return AmoClient(
        base_url,
        auth=LongLivedTokenAuth(token),
        pacer=StorePacer(store),
        http=http,
        max_read_attempts=max_attempts,
        backoff_base_s=0.05,
        backoff_max_s=0.5,
    )


@pytest.fixture
async def amo(
    emu: AmoEmulator, base_url: str, store: SqliteStore, http: httpx.AsyncClient
) -> AmoClient:
    return _client(base_url, store, http, emu.long_lived_token)


# --- reads ------------------------------------------------------------------------------------


async def test_every_read_returns_the_seeded_account(
    amo: AmoClient, emu: AmoEmulator, demo: DemoIds
) -> None:
    account = await amo.account()
    assert (account.id, account.subdomain, account.name) == (emu.account_id, "demo", "Demo Sales")
    assert account.timezone == "Europe/Moscow"
    assert account.current_user_id == demo.admin
    assert {t.code for t in account.task_types} >= {"FOLLOW_UP", "MEETING"}
    assert {g.id for g in account.groups} >= {0, demo.group_a, demo.group_b}

    users = {u.id: u for u in await amo.users()}
    assert set(users) == set(demo.users)
    assert users[demo.admin].rights.is_admin
    ivan = users[demo.ivan]
    assert (ivan.name, ivan.email, ivan.group_id) == (
        "Ivan Petrov",
        "ivan@demo.example",
        demo.group_a,
    )
    assert (ivan.rights.leads_view, ivan.rights.tasks_edit) == (Right.OWN, Right.OWN)
    assert users[demo.supervisor].rights.leads_view is Right.GROUP
    assert users[demo.oleg].rights.tasks_edit is Right.DENIED
    assert not users[demo.former].is_active
    assert await amo.user(demo.ivan) == ivan
    assert await amo.user(1) is None

    (pipeline,) = await amo.pipelines()
    assert pipeline.id == demo.pipeline
    assert pipeline.is_main
    assert {s.id for s in pipeline.statuses} >= set(demo.statuses)

    deals = {d.id: d for d in await amo.leads()}
    assert set(deals) == set(demo.leads)
    acme = deals[demo.leads[0]]
    assert (acme.price, acme.status_id, acme.responsible_user_id) == (
        120_000,
        demo.incoming,
        demo.ivan,
    )
    assert await amo.lead(acme.id) == acme
    assert await amo.lead(1) is None
    ivans = await amo.leads(responsible_user_ids=[demo.ivan])
    assert {d.id for d in ivans} == set(demo.leads[:2])
    assert [d.id for d in await amo.leads(ids=[acme.id])] == [acme.id]

    tasks = {t.id: t for t in await amo.tasks()}
    assert set(tasks) == set(demo.tasks)
    done = tasks[demo.task_completed]
    assert done.is_completed
    assert done.result_text == "Proposal sent"
    assert tasks[demo.task_due_15m].deal_id == acme.id
    assert tasks[demo.task_due_60m].type_id == 2
    assert await amo.task(demo.task_overdue) == tasks[demo.task_overdue]
    assert await amo.task(1) is None
    open_ids = {t.id for t in await amo.tasks(is_completed=False)}
    assert open_ids == set(demo.tasks) - {demo.task_completed}
    overdue = await amo.tasks(is_completed=False, complete_till_to=int(time.time()))
    assert [t.id for t in overdue] == [demo.task_overdue]
    mine = await amo.tasks(responsible_user_ids=[demo.maria])
    assert {t.id for t in mine} == {demo.task_due_60m, demo.task_completed}
    later = max(t.updated_at for t in tasks.values()) + 1
    assert await amo.tasks(updated_since=later) == []

    events = await amo.events(created_since=int(time.time()) - 600)
    assert any(e.type == "task_completed" and e.entity_id == done.id for e in events)
    assert len({e.id for e in events}) == len(events)

    assert all(r.status != 429 for r in emu.request_log)


async def test_paging_walks_every_page_and_keeps_the_filter(
    amo: AmoClient, emu: AmoEmulator, demo: DemoIds
) -> None:
    due = int(time.time()) + 86400
    for n in range(260):  # more than one page of 250
        emu.add_task(f"bulk {n}", responsible_user_id=demo.ivan, complete_till=due)
    tasks = await amo.tasks(responsible_user_ids=[demo.ivan])
    assert len({t.id for t in tasks}) == len(tasks) == 262
    assert {t.responsible_user_id for t in tasks} == {demo.ivan}
    pages = [r for r in emu.request_log if r.method == "GET" and r.path == "/api/v4/tasks"]
    assert len(pages) == 2
    assert "page=2" in pages[1].query
    assert "responsible_user_id" in unquote(pages[1].query)


async def test_events_follow_changes(amo: AmoClient, demo: DemoIds) -> None:
    since = int(time.time()) - 1
    await amo.update_task(TaskPatch(id=demo.task_due_3h, is_completed=True, result_text="ok"))
    events = await amo.events(created_since=since, types=["task_completed"], entities=["task"])
    assert demo.task_due_3h in {e.entity_id for e in events}
    assert {(e.type, e.entity_type) for e in events} == {("task_completed", "task")}


async def test_loss_reasons_and_a_lost_deals_reason(
    amo: AmoClient, emu: AmoEmulator, demo: DemoIds
) -> None:
    reasons = await amo.loss_reasons()
    assert [r.name for r in reasons] == ["Too expensive", "Chose a competitor",
                                         "No budget this year"]  # fmt: skip
    emu.move_lead(demo.leads[1], demo.lost, loss_reason_id=reasons[1].id, by_user=demo.ivan)

    lost = await amo.lead(demo.leads[1])

    assert lost is not None
    assert lost.loss_reason_id == reasons[1].id
    assert lost.closed_at is not None
    with pytest.raises(KeyError):
        emu.move_lead(demo.leads[2], demo.lost, loss_reason_id=999, by_user=demo.ivan)


async def test_leads_by_stage_and_by_close_date(
    amo: AmoClient, emu: AmoEmulator, demo: DemoIds
) -> None:
    now = int(time.time())
    soon = emu.add_lead("Closes soon", status_id=demo.negotiation, pipeline_id=demo.pipeline,
                        responsible_user_id=demo.ivan, closed_at=now + 2 * 86400)  # fmt: skip
    emu.add_lead("Closes later", status_id=demo.negotiation, pipeline_id=demo.pipeline,
                 responsible_user_id=demo.ivan, closed_at=now + 30 * 86400)  # fmt: skip

    in_negotiation = await amo.leads(statuses=[(demo.pipeline, demo.negotiation)])
    closing = await amo.leads(closed_between=(now, now + 3 * 86400))

    assert {d.status_id for d in in_negotiation} == {demo.negotiation}
    assert {d.name for d in in_negotiation} >= {"Globex renewal", "Closes soon", "Closes later"}
    assert [d.id for d in closing if d.status_id not in (demo.won, demo.lost)] == [soon]
    assert all(now <= (d.closed_at or 0) <= now + 3 * 86400 for d in closing)
    query = unquote(next(r.query for r in emu.request_log if "statuses" in unquote(r.query)))
    assert f"filter[statuses][0][status_id]={demo.negotiation}" in query
    assert await amo.leads(statuses=[]) == []


async def test_events_of_25_deals_take_three_requests(
    amo: AmoClient, emu: AmoEmulator, demo: DemoIds
) -> None:
    since = int(time.time()) - 1
    deals = [emu.add_lead(f"Deal {n}", status_id=demo.incoming, pipeline_id=demo.pipeline,
                          responsible_user_id=demo.ivan) for n in range(25)]  # fmt: skip
    for deal in deals[::2]:
        emu.move_lead(deal, demo.qualified, by_user=demo.ivan)
    before = len(emu.request_log)

    events = await amo.events(created_since=since, types=["lead_status_changed"],
                              entities=["lead"], entity_ids=deals)  # fmt: skip

    assert sorted(e.entity_id for e in events) == sorted(deals[::2])
    asked = [r for r in emu.request_log[before:] if r.path == "/api/v4/events"]
    assert len(asked) == 3
    with pytest.raises(ValueError, match="exactly one entity"):
        await amo.events(created_since=since, entity_ids=deals)


async def test_tasks_and_deals_by_id_take_one_request_each(
    amo: AmoClient, emu: AmoEmulator, demo: DemoIds
) -> None:
    tasks = [demo.task_due_15m, demo.task_overdue, demo.task_completed]
    deals = list(demo.leads[:3])
    emu.delete_task(demo.task_due_60m)
    before = len(emu.request_log)

    got_tasks = await amo.tasks(ids=[*tasks, demo.task_due_60m])
    got_deals = await amo.leads(ids=deals)

    assert sorted(t.id for t in got_tasks) == sorted(tasks)  # the deleted one is not there
    assert sorted(d.id for d in got_deals) == sorted(deals)
    asked = emu.request_log[before:]
    assert [(r.method, r.path) for r in asked] == [
        ("GET", "/api/v4/tasks"),
        ("GET", "/api/v4/leads"),
    ]
    assert all("filter[id]" in unquote(r.query) for r in asked)


# --- writes -----------------------------------------------------------------------------------


async def test_complete_snooze_and_reassign_change_the_task(
    amo: AmoClient, emu: AmoEmulator
) -> None:
    users = await amo.users()
    first, second, third = (await amo.tasks(is_completed=False))[:3]
    other = next(u.id for u in users if u.id != third.responsible_user_id and u.is_active)

    updated = await amo.update_task(
        TaskPatch(id=first.id, is_completed=True, result_text="Reached the client")
    )
    assert updated >= first.updated_at
    wire = emu.task(first.id)
    assert wire["is_completed"] is True
    assert wire["result"] == {"text": "Reached the client"}

    new_deadline = second.complete_till + 3600
    await amo.update_task(TaskPatch(id=second.id, complete_till=new_deadline))
    assert emu.task(second.id)["complete_till"] == new_deadline

    await amo.update_task(TaskPatch(id=third.id, responsible_user_id=other))
    assert emu.task(third.id)["responsible_user_id"] == other

    again = await amo.task(first.id)
    assert again is not None
    assert again.is_completed
    assert again.result_text == "Reached the client"


async def test_batch_create_note_and_webhooks(amo: AmoClient, emu: AmoEmulator) -> None:
    deal = (await amo.leads())[0]
    created = await amo.create_task(
        NewTask(
            text="Check in",
            complete_till=2_000_000_000,
            entity_type="leads",
            entity_id=deal.id,
            task_type_id=1,
        )
    )
    assert emu.task(created)["entity_id"] == deal.id
    open_ids = [t.id for t in await amo.tasks(is_completed=False)][:3]
    stamps = await amo.update_tasks([TaskPatch(id=i, text=f"renamed {i}") for i in open_ids])
    assert len(stamps) == len(open_ids)
    assert all(emu.task(i)["text"] == f"renamed {i}" for i in open_ids)

    note_id = await amo.add_lead_note(deal.id, "Completed from Telegram by Ivan")
    assert note_id > 0

    hook = await amo.register_webhook("https://bot.example/amocrm/webhook/s3", ["update_task"])
    assert hook.settings == ("update_task",)
    assert [h.id for h in await amo.list_webhooks("https://bot.example/amocrm/webhook/s3")] == [
        hook.id
    ]
    assert await amo.delete_webhook("https://bot.example/amocrm/webhook/s3") is True
    assert await amo.delete_webhook("https://bot.example/amocrm/webhook/s3") is False
    assert await amo.list_webhooks("https://bot.example/amocrm/webhook/s3") == []


# --- faults -----------------------------------------------------------------------------------


async def test_a_429_storm_slows_but_loses_and_doubles_nothing(
    emu: AmoEmulator, base_url: str, store: SqliteStore, http: httpx.AsyncClient
) -> None:
    amo = _client(base_url, store, http, emu.long_lived_token, max_attempts=20)
    tasks = (await amo.tasks(is_completed=False))[:4]
    emu.faults.add("429", 15)
    reads = [amo.task(t.id) for t in tasks] + [amo.users(), amo.account(), amo.pipelines()]
    writes = [
        amo.update_task(TaskPatch(id=t.id, complete_till=t.complete_till + 600)) for t in tasks
    ]
    results = await asyncio.gather(*reads, *writes)
    assert all(r is not None for r in results)
    assert sum(r.status == 429 for r in emu.request_log) >= 15
    for t in tasks:
        applied = [
            r
            for r in emu.request_log
            if r.method == "PATCH" and r.path == f"/api/v4/tasks/{t.id}" and r.status < 300
        ]
        assert len(applied) == 1
        assert emu.task(t.id)["complete_till"] == t.complete_till + 600


async def test_a_write_is_not_retried_on_500_or_timeout(
    emu: AmoEmulator, base_url: str, store: SqliteStore
) -> None:
    async with httpx.AsyncClient(timeout=httpx.Timeout(0.5, connect=2), trust_env=False) as h:
        amo = _client(base_url, store, h, emu.long_lived_token)
        first, second = (await amo.tasks(is_completed=False))[:2]
        emu.faults.add("500", path_prefix=f"/api/v4/tasks/{first.id}")
        with pytest.raises(AmoServerError):
            await amo.update_task(TaskPatch(id=first.id, is_completed=True))
        emu.faults.add("timeout", delay_s=1.0, path_prefix=f"/api/v4/tasks/{second.id}")
        with pytest.raises(AmoTransportError) as caught:
            await amo.update_task(TaskPatch(id=second.id, is_completed=True))
        assert caught.value.maybe_applied
        await asyncio.sleep(0.7)  # let the emulator finish the abandoned request
    for t in (first, second):
        patches = [r for r in emu.request_log if r.method == "PATCH" and str(t.id) in r.path]
        assert len(patches) <= 1
        assert emu.task(t.id)["is_completed"] is False


async def test_reads_retry_through_5xx(amo: AmoClient, emu: AmoEmulator) -> None:
    emu.faults.add("500", 2)
    emu.faults.add("503", 1, non_json=True)
    assert (await amo.account()).subdomain == "demo"


async def test_an_html_403_is_a_flood_block(amo: AmoClient, emu: AmoEmulator) -> None:
    emu.faults.add("html403")
    with pytest.raises(AmoForbidden) as caught:
        await amo.users()
    assert caught.value.blocked


async def test_fifty_callers_keep_the_pace(amo: AmoClient, emu: AmoEmulator) -> None:
    ids = [t.id for t in await amo.tasks()]
    await asyncio.sleep(1.1)  # an empty window to start from
    start = len(emu.request_log)
    got = await asyncio.gather(*(amo.task(ids[n % len(ids)]) for n in range(50)))
    assert all(t is not None for t in got)
    log = emu.request_log[start:]
    assert len(log) == 50
    assert all(r.status == 200 for r in log)
    arrivals = sorted(r.at for r in log)
    busiest = max(sum(1 for t in arrivals if first <= t < first + 1.0) for first in arrivals)
    assert busiest <= 7


# --- OAuth across processes -------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
async def store_factory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[StoreFactory]:
    """Opens stores that share one backing (one file, or one server and prefix), as the
    processes of one deployment do; all are closed after the test."""
    async with contextlib.AsyncExitStack() as opened:

        async def open_one() -> Store:
            if request.param == "sqlite":
                s: Store = await SqliteStore.open(str(tmp_path / "shared.db"))
            else:
                url = request.getfixturevalue("redis_server_url")
                prefix = request.getfixturevalue("redis_prefix")
                s = await RedisStore.open(url, key_prefix=prefix)
            opened.push_async_callback(s.close)
            return s

        yield open_one


def _oauth(
    emu: AmoEmulator, base_url: str, store: Store, http: httpx.AsyncClient, owner: str
) -> tuple[OAuthTokenManager, AmoClient]:
    manager = OAuthTokenManager(
        store,
        base_url=base_url,
        client_id=emu.oauth_client_id,
        client_secret=emu.oauth_client_secret,
        redirect_uri=emu.oauth_redirect_uri,
        http=http,
        clock=SystemClock(),
        owner=owner,
    )
    client = AmoClient(base_url, auth=manager, pacer=StorePacer(store), http=http)
    return manager, client


def _refreshes(emu: AmoEmulator) -> int:
    return sum(
        1
        for r in emu.request_log
        if r.path == "/oauth2/access_token"
        and '"refresh_token"' in r.body
        and json.loads(r.body).get("grant_type") == "refresh_token"
    )


async def test_two_replicas_refresh_once(
    emu: AmoEmulator, base_url: str, http: httpx.AsyncClient, store_factory: StoreFactory
) -> None:
    store_a, store_b = await store_factory(), await store_factory()
    installer, _ = _oauth(emu, base_url, store_a, http, "install-callback")
    pair = await installer.exchange_code(emu.issue_auth_code())
    # Two replicas start and find the stored pair expired at the same moment.
    await store_a.save_tokens("amocrm", pair.model_copy(update={"expires_at": 0}))
    manager_a, amo_a = _oauth(emu, base_url, store_a, http, "replica-a")
    manager_b, amo_b = _oauth(emu, base_url, store_b, http, "replica-b")

    results = await asyncio.gather(
        amo_a.account(), amo_b.account(), amo_a.users(), amo_b.pipelines(), amo_b.account()
    )
    assert all(results)
    assert _refreshes(emu) == 1
    final = await store_b.load_tokens("amocrm")
    assert isinstance(final, OAuthTokens)
    assert final.access_token != pair.access_token
    assert await manager_a.access_token() == await manager_b.access_token() == final.access_token
    # The saved pair is the live one: both keep working.
    assert (await amo_a.account()).subdomain == (await amo_b.account()).subdomain == "demo"
    assert _refreshes(emu) == 1


async def test_a_revoked_pair_asks_for_reauthorization(
    emu: AmoEmulator, base_url: str, http: httpx.AsyncClient, store_factory: StoreFactory
) -> None:
    manager, amo = _oauth(emu, base_url, await store_factory(), http, "replica")
    await manager.exchange_code(emu.issue_auth_code())
    assert (await amo.account()).subdomain == "demo"
    emu.revoke_tokens()
    with pytest.raises(AmoOAuthError) as caught:
        await amo.account()
    assert caught.value.hint == "Token has been revoked"
