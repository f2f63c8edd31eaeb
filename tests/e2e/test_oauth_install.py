"""Installing amobridge in amoCRM by OAuth, as an admin does it: ``amobridge authorize`` prints a
link, amoCRM's consent page redirects to ``/amocrm/oauth``, the page says what happens next."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.app.authorize import authorization_url
from bot.app.settings import HttpSettings, Settings, TelegramSettings
from bot.app.setup import register_amocrm_webhook
from bot.app.wiring import Service, running_service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import FakeClock, free_port, link, reminder_scheduled, says, settled, synced
from tests.e2e.oauth import consent, oauth_env, oauth_settings
from tests.e2e.processes import forked
from tests.e2e.test_cli import amobridge


@pytest.fixture
def settings(amo: AmoEmulator, store_url: str, redis_prefix: str) -> Settings:
    return oauth_settings(amo, store_url, redis_prefix)


@pytest.fixture
async def service(settings: Settings, demo: DemoIds, clock: FakeClock) -> AsyncIterator[Service]:
    async with running_service(settings, clock=clock) as running:
        yield running


def _exchanges(amo: AmoEmulator) -> int:
    return sum(
        1
        for r in amo.request_log
        if r.path == "/oauth2/access_token" and "authorization_code" in r.body
    )


def _with_query(location: str, **changes: str) -> str:
    url = httpx.URL(location)
    return str(url.copy_merge_params(changes))


async def test_an_admin_installs_with_the_printed_link_and_the_service_starts_working(
    service: Service, settings: Settings, amo: AmoEmulator, tmp_path: Path
) -> None:
    env = oauth_env(settings)
    proc = await forked("authorize", env=env, cwd=tmp_path)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()
    [url] = [line for line in out.decode().splitlines() if line.startswith("http")]
    assert url.startswith(amo.base_url + "/oauth?client_id=" + amo.oauth_client_id)
    assert amo.oauth_client_secret not in out.decode()

    async with httpx.AsyncClient() as browser:
        location = await consent(browser, url)
        assert location.startswith(service.base_url + "/amocrm/oauth?code=")
        page = await browser.get(location, headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert page.status_code == 200
        assert "amobridge is connected to amoCRM" in page.text
        assert "within a minute amobridge loads tasks and deals" in page.text.lower()
        assert page.headers["Cache-Control"] == "no-store"
        # The service now reads the account: its first sync completes.
        await synced(service)
        assert _exchanges(amo) == 1

        # A reload of the page does not spend the code again.
        again = await browser.get(location, headers={"Accept-Language": "ru"})
        assert again.status_code == 400
        assert "Эта ссылка устарела, уже использована" in again.text
        assert _exchanges(amo) == 1


async def test_a_wrong_or_missing_state_exchanges_nothing(
    service: Service, settings: Settings, amo: AmoEmulator
) -> None:
    url = await authorization_url(settings)
    async with httpx.AsyncClient() as browser:
        location = await consent(browser, url)
        forged = await browser.get(
            _with_query(location, state="forged-state"), headers={"Accept-Language": "en"}
        )
        assert forged.status_code == 400
        assert "was not issued by this server" in forged.text
        huge = await browser.get(_with_query(location, state="x" * 4000))
        assert huge.status_code == 400
        bare = httpx.URL(location).copy_remove_param("state")
        missing = await browser.get(str(bare), headers={"Accept-Language": "en"})
        assert missing.status_code == 400
        other = await browser.get(
            _with_query(location, referer="evil.amocrm.ru"), headers={"Accept-Language": "en"}
        )
        assert other.status_code == 400
        assert "another amoCRM account" in other.text
        assert _exchanges(amo) == 0
        denied = await browser.get(
            f"{service.base_url}/amocrm/oauth?error=access_denied&state=x",
            headers={"Accept-Language": "en"},
        )
        assert denied.status_code == 400
        assert "Access was not allowed" in denied.text
        # The untouched code with its own state still installs.
        ok = await browser.get(location)
        assert ok.status_code == 200
    assert _exchanges(amo) == 1


async def test_a_code_reaching_two_replicas_at_once_is_exchanged_once(
    settings: Settings, demo: DemoIds, amo: AmoEmulator, clock: FakeClock
) -> None:
    second = settings.model_copy(update={"http": HttpSettings(host="127.0.0.1", port=free_port())})
    async with (
        running_service(settings, clock=clock, run_jobs=False) as one,
        running_service(second, clock=clock, run_jobs=False) as two,
    ):
        url = await authorization_url(settings)
        async with httpx.AsyncClient() as browser:
            location = await consent(browser, url)
            query = httpx.URL(location).query.decode()
            pages = await asyncio.gather(
                *(
                    browser.get(f"{replica.base_url}/amocrm/oauth?{query}")
                    for replica in (one, two, one, two)
                )
            )
        statuses = sorted(p.status_code for p in pages)
        assert statuses[0] == 200
        assert statuses.count(200) == 1, statuses
        assert all(s in (400, 409) for s in statuses[1:])
        assert _exchanges(amo) == 1
        assert await one.store.load_tokens("amocrm") is not None


async def test_a_pasted_code_installs_once(
    service: Service, settings: Settings, amo: AmoEmulator, tmp_path: Path
) -> None:
    url = await authorization_url(settings)
    async with httpx.AsyncClient() as browser:
        location = await consent(browser, url)
    # The admin copies the whole address from the browser, whose page could not load, and
    # pastes it at the server's console.
    env = oauth_env(settings)
    code, out, err = await amobridge("authorize", "--code", location, env=env, cwd=tmp_path)
    assert code == 0, err
    account = httpx.URL(amo.base_url).netloc.decode()
    assert f"amoCRM account {account} is connected; tokens are stored." in out
    await synced(service)
    code, out, err = await amobridge("authorize", "--code", location, env=env, cwd=tmp_path)
    assert code != 0
    assert "this code was already used: run amobridge authorize again" in err
    assert _exchanges(amo) == 1


async def test_tokens_are_encrypted_at_rest_when_a_secret_key_is_set(
    settings: Settings, demo: DemoIds, amo: AmoEmulator, clock: FakeClock
) -> None:
    keyed = settings.model_copy(update={"secret_key": SecretStr(Fernet.generate_key().decode())})
    async with running_service(keyed, clock=clock) as service:
        url = await authorization_url(keyed)
        async with httpx.AsyncClient() as browser:
            page = await browser.get(await consent(browser, url))
        assert page.status_code == 200
        await synced(service)
        stored = await service.store.load_tokens("amocrm")
        assert stored is not None
        assert stored.refresh_token.startswith("fernet:")
        assert stored.access_token.startswith("fernet:")
    # Without the key the service cannot use them, and amobridge check says why.
    code, out, _ = await _check(settings)
    assert code == 1
    assert "encrypted: set AMOBRIDGE_SECRET_KEY" in out


async def _check(settings: Settings) -> tuple[int, str, str]:
    return await amobridge("check", env=oauth_env(settings, client_secret="x"), cwd=Path.cwd())


async def test_a_revoked_authorisation_tells_the_admin_once_and_the_poll_catches_up(
    settings: Settings, demo: DemoIds, amo: AmoEmulator, clock: FakeClock, tg: TelegramEmulator
) -> None:
    telegram = TelegramSettings(token=tg.token, api_base=tg.base_url)
    with_tg = settings.model_copy(update={"telegram": telegram})
    async with running_service(with_tg, clock=clock) as service, httpx.AsyncClient() as browser:
        page = await browser.get(await consent(browser, await authorization_url(with_tg)))
        assert page.status_code == 200
        await synced(service)
        anna = await link(service, tg, demo.admin, "Anna")

        amo.revoke_tokens()  # an amoCRM admin disconnected the integration
        lost = await says(tg, anna, "amoCRM access is lost")
        assert "run amobridge authorize on the server" in lost.text
        ready = await browser.get(service.base_url + "/readyz")
        assert ready.status_code == 503
        assert ready.json()["amocrm"] == "access lost: amoCRM rejects the token"
        # Meanwhile a task is set in amoCRM; and the admin is told once, not at every tick.
        scheduled = await service.store.count_due("reminders")
        deadline = int(clock.now()) + 2 * 3600
        amo.add_task("Call during the outage", responsible_user_id=demo.admin,
                     complete_till=deadline, entity_id=demo.leads[0])  # fmt: skip
        await asyncio.sleep(5 * settings.amocrm.poll_interval_s)
        assert sum("access is lost" in m.text for m in tg.transcript(anna)) == 1
        ivan = tg.add_user(first_name="Ivan", language_code="en")
        await tg.send_command(ivan, "start")
        await says(tg, ivan, "Send me the e-mail")
        # Linking writes a task in amoCRM: the answer says why it cannot, not "something broke".
        await tg.send_text(ivan, "ivan@demo.example")
        await says(tg, ivan, "amoCRM access is lost, so this cannot be done now")

        page = await browser.get(await consent(browser, await authorization_url(with_tg)))
        assert page.status_code == 200
        await says(tg, anna, "amoCRM access is back")
        await reminder_scheduled(service, scheduled + 1)
        ready = await browser.get(service.base_url + "/readyz")
        assert ready.json()["amocrm"] == "ok"


async def test_a_webhook_while_access_is_lost_waits_and_is_delivered_once_re_authorised(
    settings: Settings,
    demo: DemoIds,
    amo: AmoEmulator,
    clock: FakeClock,
    tg: TelegramEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    telegram = TelegramSettings(token=tg.token, api_base=tg.base_url)
    hooks = settings.amocrm.model_copy(update={"webhook_secret": SecretStr("oauth-hook-secret")})
    with_tg = settings.model_copy(update={"telegram": telegram, "amocrm": hooks})
    async with running_service(with_tg, clock=clock) as service, httpx.AsyncClient() as browser:
        page = await browser.get(await consent(browser, await authorization_url(with_tg)))
        assert page.status_code == 200
        await register_amocrm_webhook(with_tg.model_copy(update={"public_url": service.base_url}))
        await synced(service)
        anna = await link(service, tg, demo.admin, "Anna")
        assert service.crm is not None
        inbox = service.crm.inbox

        amo.revoke_tokens()
        caplog.clear()
        # Meanwhile Maria gives Anna a task: amoCRM's webhook is taken (200) and waits.
        due = int(clock.now()) + 6 * 3600
        amo.add_task("Call Acme back", responsible_user_id=demo.admin, by_user=demo.maria,
                     complete_till=due, entity_id=demo.leads[0])  # fmt: skip
        await amo.drain_webhooks()
        assert {d.status for d in amo.webhook_deliveries} == {200}
        await says(tg, anna, "amoCRM access is lost")
        await asyncio.sleep(10 * settings.amocrm.poll_interval_s)  # the inbox worker's turns
        assert await inbox.depth() == 1
        assert not any("Call Acme back" in m.text for m in tg.transcript(anna))
        tracebacks = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.exc_info]
        assert tracebacks == []

        page = await browser.get(await consent(browser, await authorization_url(with_tg)))
        assert page.status_code == 200
        await says(tg, anna, "amoCRM access is back")
        card = await says(tg, anna, "New task from Maria Ivanova")
        assert "Call Acme back" in card.text
        await settled(service, amo)  # the waiting hint is applied (once: no second card)
        assert sum("Call Acme back" in m.text for m in tg.transcript(anna)) == 1


async def test_disabling_the_integration_in_amocrm_tells_the_admin_at_once(
    settings: Settings, demo: DemoIds, amo: AmoEmulator, clock: FakeClock, tg: TelegramEmulator
) -> None:
    quiet = settings.amocrm.model_copy(update={"poll_interval_s": 3600.0})
    telegram = TelegramSettings(token=tg.token, api_base=tg.base_url)
    with_tg = settings.model_copy(update={"telegram": telegram, "amocrm": quiet})
    async with running_service(with_tg, clock=clock) as service, httpx.AsyncClient() as browser:
        page = await browser.get(await consent(browser, await authorization_url(with_tg)))
        assert page.status_code == 200
        anna = await link(service, tg, demo.admin, "Anna")
        hook = service.base_url + "/amocrm/disconnect"
        forged = await browser.get(hook, params={"account_id": str(amo.account_id),
                                                 "client_uuid": amo.oauth_client_id,
                                                 "signature": "0" * 64})  # fmt: skip
        assert forged.status_code == 401
        assert (await browser.get(service.base_url + "/readyz")).json()["amocrm"] == "ok"

        # No poll comes for an hour: the hook alone tells amobridge.
        assert await amo.disable_integration(hook) == 200
        lost = await says(tg, anna, "amoCRM access is lost")
        assert "run amobridge authorize" in lost.text
        ready = await browser.get(service.base_url + "/readyz")
        assert ready.json()["amocrm"] == "access lost: amoCRM rejects the token"
        assert sum("access is lost" in m.text for m in tg.transcript(anna)) == 1
