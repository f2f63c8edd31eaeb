"""CRM changes in, end to end: the real service against the amoCRM emulator over loopback HTTP.

A deal moved and a task completed in amoCRM reach the cache by webhook, and, with webhooks off,
by the events poll; each change is applied once however often and however it arrives.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from bot.app.settings import Settings
from bot.app.setup import register_amocrm_webhook
from bot.app.wiring import Service, running_service
from bot.core.domain import CrmEvent, CrmEventKind, EntityHint, HintSource
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.amocrm.actions import LeadEdit
from tests.e2e.conftest import WEBHOOK_SECRET
from tests.e2e.helpers import eventually, settled

pytestmark = pytest.mark.parametrize("store_url", ["sqlite", "redis"], indirect=True)


async def register_hook(service: Service) -> None:
    settings = service.settings.model_copy(update={"public_url": service.base_url})
    await register_amocrm_webhook(settings)


async def events_of(service: Service, kind: CrmEventKind, entity_id: int) -> list[CrmEvent]:
    return [
        e
        for e in await service.store.recent_events()
        if e.kind is kind and e.entity_id == entity_id
    ]


async def wait_for_event(service: Service, kind: CrmEventKind, entity_id: int) -> None:
    async def seen() -> bool:
        return bool(await events_of(service, kind, entity_id))

    await eventually(seen, what=f"{kind.value} of {entity_id}")


async def cached_after(
    service: Service, amo: AmoEmulator, lead: int, status_id: int, task_id: int
) -> None:
    """The move of ``lead`` (to ``status_id``) and the completion of ``task_id`` are journalled
    and applied: the cache has the deal in its new stage."""
    await wait_for_event(service, CrmEventKind.DEAL_STATUS_CHANGED, lead)
    await wait_for_event(service, CrmEventKind.TASK_COMPLETED, task_id)
    await settled(service, amo)
    deal = await service.store.get_deal(lead)
    assert deal is not None
    assert deal.value.status_id == status_id


async def first_poll(service: Service) -> None:
    """The first poll only marks where the service started; changes after it are polled."""

    async def started() -> bool:
        return await service.store.get_cursor("amocrm:events") is not None

    await eventually(started, what="the first events poll")


async def test_a_deal_move_and_a_task_completion_reach_the_cache_by_webhook(
    amo: AmoEmulator, demo: DemoIds, make_settings: Callable[..., Settings]
) -> None:
    # A poll that never comes round: only the webhook can deliver these changes.
    async with running_service(make_settings(poll_interval_s=3600)) as service:
        await register_hook(service)
        lead = demo.leads[0]
        amo.move_lead(lead, demo.negotiation, by_user=demo.ivan)
        amo.complete_task(demo.task_due_60m, "Client agreed", by_user=demo.maria)

        await cached_after(service, amo, lead, demo.negotiation, demo.task_due_60m)

        task = await service.store.get_task(demo.task_due_60m)
        assert task is not None
        assert task.value.is_completed
        assert task.value.result_text == "Client agreed"
        assert demo.task_due_60m not in [t.id for t in await service.store.list_open_tasks()]
        [moved] = await events_of(service, CrmEventKind.DEAL_STATUS_CHANGED, lead)
        assert moved.previous_deal is not None
        assert moved.previous_deal.status_id != demo.negotiation
        assert {d.status for d in amo.webhook_deliveries} == {200}


async def test_with_webhooks_off_the_events_poll_brings_the_same_changes(
    amo: AmoEmulator, demo: DemoIds, make_settings: Callable[..., Settings]
) -> None:
    amo.webhooks_enabled = False
    async with running_service(make_settings(poll_interval_s=0.2)) as service:
        await register_hook(service)
        await first_poll(service)
        lead = demo.leads[1]
        amo.move_lead(lead, demo.won, by_user=demo.ivan)
        amo.complete_task(demo.task_due_3h, by_user=demo.oleg)

        await cached_after(service, amo, lead, demo.won, demo.task_due_3h)

        [moved] = await events_of(service, CrmEventKind.DEAL_STATUS_CHANGED, lead)
        # The poll's event said where the deal came from, though it was never cached before.
        assert moved.previous_deal is not None
        assert moved.previous_deal.status_id == amo_status_before(amo, lead)
        # A new budget is a sale_field_changed event: the poll brings it too.
        other = demo.leads[2]
        amo.edit_lead(other, LeadEdit(price=777_777), by_user=demo.ivan)

        async def priced() -> bool:
            deal = await service.store.get_deal(other)
            return deal is not None and deal.value.price == 777_777

        await eventually(priced, what="the new budget to be polled")
        assert amo.webhook_deliveries == []


def amo_status_before(amo: AmoEmulator, lead: int) -> int:
    [event] = [
        e for e in amo.events() if e["type"] == "lead_status_changed" and e["entity_id"] == lead
    ]
    return int(event["value_before"][0]["lead_status"]["id"])


async def test_each_change_is_applied_once_by_webhook_twice_and_by_the_poll(
    amo: AmoEmulator, demo: DemoIds, make_settings: Callable[..., Settings]
) -> None:
    async with running_service(make_settings(poll_interval_s=0.2)) as service:
        await register_hook(service)
        await first_poll(service)
        lead = demo.leads[2]
        amo.move_lead(lead, demo.contract, by_user=demo.maria)
        amo.complete_task(demo.task_due_15m, "Sent", by_user=demo.ivan)
        await amo.drain_webhooks()
        # amoCRM retries a hook it thinks failed: the same body arrives a second time.
        async with httpx.AsyncClient() as http:
            for delivery in amo.webhook_deliveries:
                response = await http.post(
                    delivery.destination,
                    content=delivery.body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                assert response.status_code == 200

        # Wait until the poll has read past both changes, so all three paths have run.
        newest = max(e["created_at"] for e in amo.events())

        async def polled_past_changes() -> bool:
            cursor = await service.store.get_cursor("amocrm:events")
            return cursor is not None and int(cursor) >= newest

        await eventually(polled_past_changes, what="the events poll to pass the changes")
        await settled(service, amo)

        assert len(await events_of(service, CrmEventKind.DEAL_STATUS_CHANGED, lead)) == 1
        assert len(await events_of(service, CrmEventKind.TASK_COMPLETED, demo.task_due_15m)) == 1
        journal = await service.store.recent_events()
        assert len({e.key for e in journal}) == len(journal)
        task_reads = [
            r
            for r in amo.request_log
            if r.method == "GET" and r.path == f"/api/v4/tasks/{demo.task_due_15m}"
        ]
        # The original hook, its repeat and the polled event each re-read the task at most once.
        assert 1 <= len(task_reads) <= 3


async def test_a_webhooks_change_does_not_wait_behind_what_the_poll_found(
    amo: AmoEmulator, demo: DemoIds, make_settings: Callable[..., Settings]
) -> None:
    async with running_service(make_settings()) as service:
        await register_hook(service)
        await first_poll(service)
        assert service.crm is not None
        # What a poll may find after an outage: 300 changed deals, 15 batches of re-reads, at
        # most 5 of amoCRM's 7 requests a second (deals amobridge never cached; gone since).
        found = [
            EntityHint(kind="deal", id=90_000_000 + n, source=HintSource.POLL) for n in range(300)
        ]
        await service.crm.catch_up.accept(found)
        lead = demo.leads[1]
        amo.move_lead(lead, demo.won, by_user=demo.ivan)  # amoCRM sends its webhook

        await wait_for_event(service, CrmEventKind.DEAL_STATUS_CHANGED, lead)
        # The move was applied while the poll's finds were still being read.
        assert await service.crm.catch_up.depth() > 0
        await settled(service, amo)  # and those are read too
        reads = [r for r in amo.request_log if r.path == "/api/v4/leads" and r.method == "GET"]
        assert len(reads) >= 15


async def test_two_replicas_sharing_a_store_apply_a_change_once(
    amo: AmoEmulator, demo: DemoIds, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(poll_interval_s=0.2)
    async with running_service(settings) as first, running_service(settings) as second:
        await register_hook(first)
        second_settings = second.settings.model_copy(update={"public_url": second.base_url})
        await register_amocrm_webhook(second_settings)  # both replicas receive every hook
        lead = demo.leads[3]
        amo.move_lead(lead, demo.qualified, by_user=demo.ivan)
        await wait_for_event(first, CrmEventKind.DEAL_STATUS_CHANGED, lead)
        await settled(first, amo)
        await settled(second, amo)
        assert len(await events_of(first, CrmEventKind.DEAL_STATUS_CHANGED, lead)) == 1
        assert len({d.destination for d in amo.webhook_deliveries}) == 2


async def test_a_wrong_secret_or_a_malformed_body_is_refused_and_nothing_is_stored(
    amo: AmoEmulator, demo: DemoIds, make_settings: Callable[..., Settings]
) -> None:
    async with running_service(make_settings(poll_interval_s=3600), run_jobs=False) as service:
        assert service.crm is not None
        valid = (
            f"account[id]={amo.account_id}&account[subdomain]=demo"
            f"&leads[status][0][id]={demo.leads[0]}"
        )
        async with httpx.AsyncClient(base_url=service.base_url) as http:
            form = {"Content-Type": "application/x-www-form-urlencoded"}
            wrong = await http.post("/amocrm/webhook/not-the-secret", content=valid, headers=form)
            assert wrong.status_code == 404
            for body in ('{"leads": []}', "account[id]=1&leads[add][0][name]=x", ""):
                bad = await http.post(
                    f"/amocrm/webhook/{WEBHOOK_SECRET}", content=body, headers=form
                )
                assert bad.status_code == 400
                assert "malformed webhook" in bad.json()["error"]
            assert await service.crm.inbox.depth() == 0
            ok = await http.post(f"/amocrm/webhook/{WEBHOOK_SECRET}", content=valid, headers=form)
            assert ok.status_code == 200
            assert await service.crm.inbox.depth() == 1
            metrics = (await http.get("/metrics")).text
            assert 'amobridge_amocrm_webhooks_total{outcome="malformed"} 3.0' in metrics
            assert 'amobridge_amocrm_webhooks_total{outcome="wrong_secret"} 1.0' in metrics


async def test_the_sync_repairs_drift_that_no_webhook_or_event_reported(
    amo: AmoEmulator, demo: DemoIds, make_settings: Callable[..., Settings]
) -> None:
    async with running_service(make_settings(), run_jobs=False) as service:
        assert service.crm is not None
        assert await service.crm.sync.sync_once() == 0  # first sync: loads, reports nothing
        cached = await service.store.get_task(demo.task_overdue)
        assert cached is not None
        assert not cached.value.is_completed
        amo.webhooks_enabled = False
        amo.complete_task(demo.task_overdue, "Done at last", by_user=demo.ivan)

        # The completion, and the deal's next-task date that amoCRM moved with it.
        assert await service.crm.sync.sync_once() >= 1
        assert len(await events_of(service, CrmEventKind.TASK_COMPLETED, demo.task_overdue)) == 1
        assert await service.crm.sync.sync_once() == 0  # and nothing twice
