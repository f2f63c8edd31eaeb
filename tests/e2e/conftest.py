"""End-to-end fixtures: the amoCRM emulator on loopback, and the real service wired against it."""

from __future__ import annotations

import gc
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import time as dt_time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.app.settings import (
    AmoCrmSettings,
    HttpSettings,
    Settings,
    SlackSettings,
    TelegramSettings,
)
from bot.app.setup import register_amocrm_webhook
from bot.app.wiring import Service, running_service
from sandbox.amocrm import AmoEmulator, DemoIds, seed_demo_account
from sandbox.demo import seconds_until
from sandbox.slack import SlackEmulator
from sandbox.telegram import TelegramEmulator
from tests.e2e.helpers import FakeClock, free_port, synced


@pytest.fixture(autouse=True)
def _leaks_named() -> Iterator[None]:
    """Whatever an end-to-end test left open (a client's socket) is freed in its own teardown,
    so the ResourceWarning names that test, not the one the collector next ran in."""
    yield
    gc.collect()


WEBHOOK_SECRET = "e2e-webhook-secret"


@pytest.fixture
def clock() -> FakeClock:
    """Real time plus an offset a test can advance: amobridge and both emulators share it.

    It starts at the next 10:00 in the seeded account's timezone, so that "today's tasks" and
    working hours do not depend on when the suite runs.
    """
    fake = FakeClock()
    fake.advance(seconds_until(time.time(), dt_time(10, 0), "Europe/Moscow"))
    return fake


@pytest.fixture
async def amo(clock: FakeClock) -> AsyncIterator[AmoEmulator]:
    emulator = AmoEmulator(subdomain="demo", clock=clock.now, rate_limit_per_s=7.0)
    emulator.webhook_retry_delays_s = (0.05, 0.05)
    async with emulator.serve(host="127.0.0.1", port=0):
        yield emulator


@pytest.fixture
def demo(amo: AmoEmulator) -> DemoIds:
    return seed_demo_account(amo)


@pytest.fixture
async def tg(clock: FakeClock) -> AsyncIterator[TelegramEmulator]:
    emulator = TelegramEmulator(token="123456:TEST-TOKEN", clock=clock.now)
    async with emulator.serve(host="127.0.0.1", port=0):
        yield emulator


@pytest.fixture
def manifest_scopes() -> list[str]:
    """The bot scopes ``slack-manifest.yml`` asks for: the Slack emulator grants exactly these,
    so every Slack test also checks that the manifest asks for enough."""
    manifest = yaml.safe_load((Path(__file__).parents[2] / "slack-manifest.yml").read_text())
    return list(manifest["oauth_config"]["scopes"]["bot"])


@pytest.fixture
async def slack(clock: FakeClock, manifest_scopes: list[str]) -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator(
        bot_token="xoxb-test-token", signing_secret="test-signing-secret", clock=clock.now,
        scopes=manifest_scopes,
    )  # fmt: skip
    async with emulator.serve(host="127.0.0.1", port=0):
        yield emulator


@pytest.fixture
def store_url(request: pytest.FixtureRequest, tmp_path: Path, redis_server_url: str) -> str:
    """SQLite unless a test asks for Redis (``indirect`` parametrization; a module that runs
    every test on both stores says so in its ``pytestmark``)."""
    backend = getattr(request, "param", "sqlite")
    return redis_server_url if backend == "redis" else f"sqlite:///{tmp_path}/amobridge.db"


@pytest.fixture
def poll_interval_s() -> float:
    """How often the service polls amoCRM events; a test parametrizes it to keep it away."""
    return 0.3


@pytest.fixture
def messengers() -> tuple[str, ...]:
    """The messengers the ``service`` is wired to: a Telegram-only module overrides this."""
    return ("telegram", "slack")


@pytest.fixture
def make_settings(amo: AmoEmulator, store_url: str, redis_prefix: str) -> Callable[..., Settings]:
    def make(
        *,
        telegram: TelegramEmulator | None = None,
        slack: SlackEmulator | None = None,
        **amocrm: Any,
    ) -> Settings:
        return Settings(
            _env_file=None,
            amocrm=AmoCrmSettings(
                base_url=amo.base_url,
                long_lived_token=amo.long_lived_token,
                webhook_secret=WEBHOOK_SECRET,
                **{"poll_interval_s": 0.3, "sync_interval_s": 3600.0, **amocrm},
            ),
            telegram=(
                TelegramSettings(token=telegram.token, api_base=telegram.base_url)
                if telegram is not None
                else TelegramSettings()
            ),
            slack=(
                SlackSettings(
                    bot_token=slack.bot_token,
                    signing_secret=slack.signing_secret,
                    api_base=slack.api_base,
                )
                if slack is not None
                else SlackSettings()
            ),
            http=HttpSettings(host="127.0.0.1", port=0),
            store_url=store_url,
            redis_key_prefix=redis_prefix,
        )

    return make


def webhook_mode(settings: Settings, tg: TelegramEmulator, secret: str) -> Settings:
    """``settings`` with Telegram updates coming by webhook: on a fixed free port, as the
    webhook's public URL must be known before the service listens."""
    port = free_port()
    return Settings(
        _env_file=None,
        **{
            **settings.model_dump(),
            "telegram": TelegramSettings(
                token=tg.token, api_base=tg.base_url, webhook_secret=secret
            ),
            "http": HttpSettings(host="127.0.0.1", port=port),
            "public_url": f"http://127.0.0.1:{port}",
        },
    )


@asynccontextmanager
async def serving(
    settings: Settings,
    clock: FakeClock,
    *,
    slack: SlackEmulator | None = None,
    run_jobs: bool = True,
) -> AsyncIterator[Service]:
    """One instance of the service, with amoCRM's webhook (and ``slack``'s events) pointed at
    it."""
    async with running_service(settings, clock=clock, run_jobs=run_jobs) as running:
        if slack is not None:
            slack.request_url = running.base_url + "/slack/events"
        hook = running.settings.model_copy(update={"public_url": running.base_url})
        await register_amocrm_webhook(hook)
        yield running


@pytest.fixture
def service_settings(
    demo: DemoIds,
    tg: TelegramEmulator,
    slack: SlackEmulator,
    make_settings: Callable[..., Settings],
    poll_interval_s: float,
    messengers: tuple[str, ...],
) -> Settings:
    """What ``service`` runs with (in the seeded ``demo`` account, whose admin owns the token): a
    module that needs other settings overrides this."""
    chat = slack if "slack" in messengers else None
    return make_settings(telegram=tg, slack=chat, poll_interval_s=poll_interval_s)


@pytest.fixture
async def service(
    service_settings: Settings, slack: SlackEmulator, clock: FakeClock
) -> AsyncIterator[Service]:
    """The service with its ``service_settings``, its amoCRM webhook registered and its cache
    synced (a module that needs another set-up starts its own with ``serving``)."""
    chat = slack if service_settings.slack.configured else None
    async with serving(service_settings, clock, slack=chat) as running:
        await synced(running)
        yield running
