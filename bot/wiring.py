"""The composition root: settings → store → clients → services → HTTP server and scheduler.

Nothing else in the code base builds long-lived objects; everything is passed in from here, and
torn down here in reverse order.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import httpx
from aiohttp import web

from bot.catchup import CacheSync, EventsPoller
from bot.clock import Clock, SystemClock
from bot.domain import CrmEvent
from bot.ingest import EventProcessor, HintInbox, InboxDrainer
from bot.metrics import Metrics
from bot.settings import AmoCrmSettings, Settings
from bot.store import Store, open_store
from handlers.amocrm_webhook import amocrm_webhook_routes
from handlers.http import build_http_app
from integrations.amocrm import (
    AmoAuth,
    AmoClient,
    LongLivedTokenAuth,
    OAuthTokenManager,
    StorePacer,
)
from scheduler.runner import DrainLoop, JobRunner
from scheduler.singleton import JobBody, SingletonJob

log = logging.getLogger(__name__)


@dataclass
class CrmPipeline:
    """Everything that brings amoCRM changes in."""

    client: AmoClient
    inbox: HintInbox
    processor: EventProcessor
    poller: EventsPoller
    sync: CacheSync


@dataclass
class Service:
    settings: Settings
    store: Store
    metrics: Metrics
    crm: CrmPipeline | None
    http_app: web.Application
    instance_id: str
    clock: Clock
    _exit: AsyncExitStack = field(default_factory=AsyncExitStack)
    port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def describe(self) -> list[str]:
        """One line per part: what runs, and what is missing for the parts that do not."""
        s = self.settings
        lines = [f"store: {s.store_url.split('://', 1)[0]}"]
        if self.crm is None:
            lines.append("amoCRM: not configured (set AMOBRIDGE_AMOCRM__BASE_URL and a token)")
        else:
            hooks = (
                "on" if s.amocrm.webhook_secret else "off (set AMOBRIDGE_AMOCRM__WEBHOOK_SECRET)"
            )
            lines.append(
                f"amoCRM: {s.amocrm.base_url} ({'OAuth' if s.amocrm.uses_oauth else 'long-lived'}"
                f" token), webhooks {hooks}, events poll every {s.amocrm.poll_interval_s:g}s"
            )
        for name, configured in (
            ("Telegram", s.telegram.configured),
            ("Slack", s.slack.configured),
        ):
            lines.append(
                f"{name}: "
                + (
                    "configured; delivery is not in this version yet"
                    if configured
                    else "not configured"
                )
            )
        lines.append(f"HTTP: {s.http.host}:{self.port or s.http.port}")
        return lines

    async def stop(self) -> None:
        await self._exit.aclose()


def _amo_auth(
    cfg: AmoCrmSettings, store: Store, http: httpx.AsyncClient, clock: Clock, owner: str
) -> AmoAuth:
    if cfg.long_lived_token is not None:
        return LongLivedTokenAuth(cfg.long_lived_token.get_secret_value())
    # Settings refuses OAuth without all three.
    assert cfg.client_id is not None
    assert cfg.client_secret is not None
    assert cfg.redirect_uri is not None
    return OAuthTokenManager(
        store,
        base_url=str(cfg.base_url),
        client_id=cfg.client_id,
        client_secret=cfg.client_secret.get_secret_value(),
        redirect_uri=cfg.redirect_uri,
        http=http,
        clock=clock,
        owner=owner,
    )


async def build_amo_client(
    cfg: AmoCrmSettings, store: Store, clock: Clock, *, owner: str, metrics: Metrics | None = None
) -> tuple[AmoClient, httpx.AsyncClient]:
    """The amoCRM client for these settings, and the HTTP client it owns (closed by the caller)."""
    http = httpx.AsyncClient(timeout=httpx.Timeout(20, connect=5), trust_env=False)
    client = AmoClient(
        str(cfg.base_url).rstrip("/"),
        auth=_amo_auth(cfg, store, http, clock, owner),
        pacer=StorePacer(store, rate_per_s=cfg.requests_per_second),
        http=http,
        on_request=metrics.observe_amocrm if metrics else None,
    )
    return client, http


@asynccontextmanager
async def running_service(
    settings: Settings,
    *,
    clock: Clock | None = None,
    instance_id: str | None = None,
    run_jobs: bool = True,
) -> AsyncIterator[Service]:
    """Build, start, yield, and stop the whole service.

    ``run_jobs=False`` starts the HTTP server without the scheduler and the inbox worker (tests
    and benchmarks that drive those steps themselves).
    """
    service = await _build(settings, clock or SystemClock(), instance_id or uuid.uuid4().hex)
    try:
        await _start(service, run_jobs=run_jobs)
        yield service
    finally:
        await service.stop()


async def _build(settings: Settings, clock: Clock, instance_id: str) -> Service:
    exit_stack = AsyncExitStack()
    try:
        store = await open_store(settings.store_url, key_prefix=settings.redis_key_prefix)
        exit_stack.push_async_callback(store.close)
        metrics = Metrics()
        crm: CrmPipeline | None = None
        routes: list[web.RouteDef] = []
        if settings.amocrm.configured:
            client, http = await build_amo_client(
                settings.amocrm, store, clock, owner=instance_id, metrics=metrics
            )
            exit_stack.push_async_callback(http.aclose)
            inbox = HintInbox(store, clock)

            async def count(events: Sequence[CrmEvent]) -> None:
                for event in events:
                    metrics.crm_events.labels(kind=event.kind.value).inc()

            processor = EventProcessor(store, client, clock, listeners=[count])
            crm = CrmPipeline(
                client=client,
                inbox=inbox,
                processor=processor,
                poller=EventsPoller(store, client, inbox, clock),
                sync=CacheSync(store, client, processor, clock),
            )
            if settings.amocrm.webhook_secret is not None:
                routes += amocrm_webhook_routes(
                    settings.amocrm.webhook_secret.get_secret_value(), inbox, metrics
                )

        async def health() -> dict[str, str]:
            try:
                await store.ping()
            except Exception:
                return {"store": "unreachable"}
            if crm is not None:
                metrics.inbox_depth.set(await crm.inbox.depth())
            return {"store": "ok"}

        app = build_http_app(routes, metrics=metrics, health=health)
        return Service(settings, store, metrics, crm, app, instance_id, clock, exit_stack)
    except BaseException:
        await exit_stack.aclose()
        raise


async def _start(service: Service, *, run_jobs: bool) -> None:
    runner = web.AppRunner(service.http_app, access_log=None)
    await runner.setup()
    service._exit.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, service.settings.http.host, service.settings.http.port)
    await site.start()
    service.port = int(runner.addresses[0][1])

    crm = service.crm
    if crm is None or not run_jobs:
        return
    cfg = service.settings.amocrm

    def job(name: str, body: JobBody, interval_s: float) -> tuple[SingletonJob, float]:
        guarded = SingletonJob(
            name, body, store=service.store, owner=service.instance_id, ttl_s=3 * interval_s
        )
        return guarded, interval_s

    jobs = JobRunner(
        [
            job("amocrm-events-poll", crm.poller.poll_once, cfg.poll_interval_s),
            job("amocrm-sync", crm.sync.sync_once, cfg.sync_interval_s),
        ]
    )
    drainer = InboxDrainer(service.store, crm.processor, service.clock)
    worker = DrainLoop("inbox", drainer.drain_once, crm.inbox.wait)
    jobs.start()
    service._exit.push_async_callback(jobs.stop)
    worker.start()
    service._exit.push_async_callback(worker.stop)
