"""amoCRM access lost mid-run, the way it happens to an external integration: the refresh token
stops working (revoked or rotated away), and nobody notices until the access token's day ends."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.app.settings import TelegramSettings
from bot.app.wiring import running_service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import FakeClock, eventually, link, says, shows, synced, task_given
from tests.e2e.oauth import authorise, oauth_settings

ACCESS_TOKEN_DAY_S = 86_400


async def test_a_refresh_token_that_stops_working_pauses_tells_once_and_resumes_losing_nothing(
    amo: AmoEmulator,
    demo: DemoIds,
    clock: FakeClock,
    tg: TelegramEmulator,
    store_url: str,
    redis_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = oauth_settings(amo, store_url, redis_prefix).model_copy(
        update={"telegram": TelegramSettings(token=tg.token, api_base=tg.base_url)}
    )
    async with running_service(settings, clock=clock) as service, httpx.AsyncClient() as browser:
        await authorise(browser, settings)
        await synced(service)
        anna = await link(service, tg, demo.admin, "Anna")
        # Anna has a task whose reminders fall due while access is lost.
        await task_given(service, amo, "Send the contract to Acme", to=demo.admin,
                         due=int(clock.now()) + 3 * 3600, by=demo.admin,
                         entity_id=demo.leads[0])  # fmt: skip
        reminders_before = await service.store.count_due("reminders")

        amo.revoke_refresh_tokens()
        # The access token still has its day: nothing is wrong yet.
        assert (await browser.get(service.base_url + "/readyz")).json()["amocrm"] == "ok"
        caplog.clear()
        # Its day ends; the refresh the service tries is refused.
        clock.advance(ACCESS_TOKEN_DAY_S)
        lost = await says(tg, anna, "amoCRM access is lost")
        assert "run amobridge authorize on the server" in lost.text
        ready = await browser.get(service.base_url + "/readyz")
        assert ready.status_code == 503
        assert ready.json()["amocrm"].startswith("access lost")
        # A command says why it cannot answer, in Anna's language.
        await tg.send_command(anna, "tasks")
        await says(tg, anna, "amoCRM access is lost, so this cannot be done now")
        # Meanwhile Maria gives Anna a task in amoCRM (no webhook: the poll must catch up).
        amo.add_task("Call Acme during the outage", responsible_user_id=demo.admin,
                     by_user=demo.maria, complete_till=int(clock.now()) + 6 * 3600,
                     entity_id=demo.leads[0])  # fmt: skip
        # Several ticks of every loop pass while access is lost: each asks amoCRM for a new
        # token, and the reminders' claims run out and are tried again.
        for _ in range(3):
            clock.advance(70)
            await _refused_again(amo, times=3)
        assert sum("access is lost" in m.text for m in tg.transcript(anna)) == 2  # notice+answer
        assert not any("Call Acme during the outage" in m.text for m in tg.transcript(anna))
        # Nothing queued was dropped: the reminders wait in the index.
        assert await service.store.count_due("reminders") >= reminders_before
        outage_logs = list(caplog.records)

        await authorise(browser, settings)
        await says(tg, anna, "amoCRM access is back")
        clock.advance(70)  # a reminder claimed by a failed try comes back
        # Both, in whichever order: the reminder that waited, and the change made meanwhile.
        await shows(tg, anna, "Send the contract to Acme")
        await shows(tg, anna, "Call Acme during the outage")
        assert (await browser.get(service.base_url + "/readyz")).json()["amocrm"] == "ok"

    # The outage was logged as lines, never as a traceback, and each loop said it once.
    tracebacks = [f"{r.name}: {r.getMessage()}" for r in outage_logs if r.exc_info]
    assert tracebacks == []
    held_up = [r.getMessage().split(":")[0] for r in outage_logs if "held up by" in r.getMessage()]
    assert len(held_up) == len(set(held_up)), held_up
    assert sum("amoCRM access is lost" in r.getMessage() for r in outage_logs) == 1


def _refused_refreshes(amo: AmoEmulator) -> int:
    return sum(
        1
        for r in amo.request_log
        if r.path == "/oauth2/access_token" and "refresh_token" in r.body and r.status != 200
    )


async def _refused_again(amo: AmoEmulator, *, times: int) -> None:
    """The service has asked for a new token ``times`` more times (and been refused)."""
    start = _refused_refreshes(amo)

    async def asked() -> bool:
        return _refused_refreshes(amo) >= start + times

    await eventually(asked, what=f"{times} more refused refreshes")
