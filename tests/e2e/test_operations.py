"""What an operator watches: /healthz, /readyz, /metrics, and the logs of ``amobridge run``."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest

from bot.app.settings import Settings
from bot.app.wiring import Service, running_service
from bot.core import TextMessage
from bot.delivery import OutboxItem
from integrations.amocrm import AmoAuthError
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import FakeClock, eventually, link, reminder_scheduled
from tests.e2e.processes import forked
from tests.e2e.test_cli import env_for

BURST = 5


@pytest.fixture
def messengers() -> tuple[str, ...]:
    return ("telegram",)


def sample(text: str, name: str, **labels: str) -> float:
    """One sample of the Prometheus exposition text (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        metric, _, value = line.rpartition(" ")
        head, _, rest = metric.partition("{")
        got = ",".join(sorted(rest.rstrip("}").split(","))) if rest else ""
        if head == name and got == wanted:
            return float(value)
    return 0.0


async def scrape(service: Service) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(service.base_url + "/metrics")).text


async def test_a_burst_of_reminders_moves_the_outbox_and_lateness_series(
    service: Service, tg: TelegramEmulator, amo: AmoEmulator, demo: DemoIds, clock: FakeClock
) -> None:
    user = await link(service, tg, demo.ivan, "Ivan")
    scheduled = await service.store.count_due("reminders")
    deadline = int(clock.now()) + 3600 + 60  # the 1-hour reminders are due in a minute
    for n in range(BURST):
        amo.add_task(f"Call {n}", responsible_user_id=demo.ivan, complete_till=deadline,
                     entity_id=demo.leads[0])  # fmt: skip
    await reminder_scheduled(service, scheduled + BURST)
    before = await scrape(service)
    # Telegram floods back the first sends: they wait in the outbox and are retried.
    tg.faults.add("429", count=2, method="sendMessage", retry_after=3)
    clock.advance(60 + 120)  # the reminders fire two minutes late

    async def rate_limited() -> bool:
        return sample(await scrape(service), "amobridge_outbox_sends_total",
                      channel="telegram", outcome="rate_limited") >= 2  # fmt: skip

    await eventually(rate_limited, what="the 429s to be counted")
    during = await scrape(service)
    assert sample(during, "amobridge_outbox_depth", channel="telegram") >= 1

    async def all_sent() -> bool:
        return sum("Due in 1 h" in m.text for m in tg.transcript(user)) >= BURST

    await eventually(all_sent, what="every reminder to arrive")

    async def outbox_empty() -> bool:
        return sample(await scrape(service), "amobridge_outbox_depth", channel="telegram") == 0

    await eventually(outbox_empty, what="the outbox to empty")
    after = await scrape(service)
    fired = sample(after, "amobridge_reminders_fired_total") - sample(
        before, "amobridge_reminders_fired_total"
    )
    assert fired == BURST
    assert sample(after, "amobridge_reminder_lateness_seconds_count") >= BURST
    assert sample(after, "amobridge_reminder_lateness_seconds_sum") >= BURST * 100
    # None of them on time: the 60-second bucket holds none of the burst.
    assert sample(after, "amobridge_reminder_lateness_seconds_bucket", le="60.0") == sample(
        before, "amobridge_reminder_lateness_seconds_bucket", le="60.0"
    )
    ok = sample(after, "amobridge_outbox_sends_total", channel="telegram", outcome="ok")
    assert ok >= BURST
    assert sample(after, "amobridge_outbox_depth", channel="telegram") == 0
    assert sample(after, "amobridge_outbox_oldest_age_seconds", channel="telegram") == 0


async def test_readyz_reports_a_stuck_outbox_and_healthz_stays_alive(
    amo: AmoEmulator, clock: FakeClock, service_settings: Settings
) -> None:
    # No drain loops: nothing sends, as when the sender is dead.
    async with running_service(service_settings, clock=clock, run_jobs=False) as service, \
            httpx.AsyncClient(base_url=service.base_url) as http:  # fmt: skip
        ready = await http.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json() == {"status": "ready", "store": "ok", "amocrm": "ok",
                                "outbox_telegram": "ok"}  # fmt: skip
        assert service.services is not None
        card = TextMessage(text="hello")
        await service.services.outbox.enqueue(
            [OutboxItem(channel="telegram", chat_id="1", card=card)]
        )
        clock.advance(700)
        metrics = (await http.get("/metrics")).text
        assert sample(metrics, "amobridge_outbox_depth", channel="telegram") == 1
        assert sample(metrics, "amobridge_outbox_oldest_age_seconds", channel="telegram") >= 700
        assert sample(metrics, "amobridge_amocrm_token_expires_at_seconds") > clock.now()
        ready = await http.get("/readyz")
        assert ready.status_code == 503
        assert re.fullmatch(r"stuck for \d+s", ready.json()["outbox_telegram"])
        live = await http.get("/healthz")
        assert live.status_code == 200
        assert live.json() == {"status": "ok"}

        # amoCRM's 429s are counted (the read is retried and succeeds).
        assert service.crm is not None
        amo.faults.add("429", count=2)
        await service.crm.client.account()
        metrics = (await http.get("/metrics")).text
        assert sample(metrics, "amobridge_amocrm_rate_limited_total") == 2

        amo.revoke_tokens()
        with pytest.raises(AmoAuthError):
            await service.crm.client.account()
        ready = await http.get("/readyz")
        assert ready.json()["amocrm"] == "access lost: amoCRM rejects the token"


async def test_json_logs_are_one_object_per_line_with_start_and_stop(
    amo: AmoEmulator, demo: DemoIds, tmp_path: Path
) -> None:
    env = env_for(amo, tmp_path, AMOBRIDGE_HTTP__HOST="127.0.0.1", AMOBRIDGE_HTTP__PORT="0",
                  AMOBRIDGE_LOG_FORMAT="json")  # fmt: skip
    proc = await forked("run", env=env, cwd=tmp_path)
    assert proc.stdout is not None
    assert proc.stderr is not None
    first = json.loads(await asyncio.wait_for(proc.stderr.readline(), timeout=30))
    assert first["level"] == "INFO"
    assert first["message"].startswith("amobridge started, listening on port ")
    proc.send_signal(signal.SIGTERM)
    rest = (await asyncio.wait_for(proc.stderr.read(), timeout=30)).decode()
    assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    lines = [json.loads(line) for line in rest.splitlines()]
    assert {"time", "level", "logger", "message"} <= set(lines[-1])
    messages = [entry["message"] for entry in lines]
    assert messages.index("amobridge stopping") < messages.index("amobridge stopped"), rest
    # A stop right after the start cancels the first job ticks: that is no error.
    assert not [entry for entry in lines if entry["level"] == "ERROR"], rest
    assert amo.long_lived_token not in rest


async def test_the_docker_health_check_asks_the_configured_port(service: Service) -> None:
    dockerfile = (Path(__file__).parents[2] / "Dockerfile").read_text()
    command = re.search(r'CMD python -c "(.+)"', dockerfile)
    assert command is not None
    env = {**os.environ, "AMOBRIDGE_HTTP__PORT": str(service.port)}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-c", command.group(1), env=env)
    assert await asyncio.wait_for(proc.wait(), timeout=30) == 0
    env["AMOBRIDGE_HTTP__PORT"] = "1"  # nothing listens there: unhealthy
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", command.group(1), env=env, stderr=asyncio.subprocess.DEVNULL
    )
    assert await asyncio.wait_for(proc.wait(), timeout=30) != 0
    compose = (Path(__file__).parents[2] / "docker-compose.yml").read_text()
    assert '"${AMOBRIDGE_HTTP__PORT:-8080}:${AMOBRIDGE_HTTP__PORT:-8080}"' in compose
