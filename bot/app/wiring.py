"""The composition root: settings → store → clients → services → HTTP server and scheduler.

Nothing else in the code base builds long-lived objects; everything is passed in from here, and
torn down here in reverse order.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import ClientSession, web

from bot.app.access import AccessWatch
from bot.app.amocrm import build_amo_client, build_installer
from bot.app.errors import StartupError
from bot.app.health import AmoAccess, Health
from bot.app.services import Services, build_services
from bot.app.settings import Settings
from bot.app.slack import SLACK_EVENTS_PATH, SlackApp, build_slack
from bot.app.telegram import TELEGRAM_WEBHOOK_PATH, TelegramApp, build_telegram, start_telegram
from bot.core import Channel, Clock, CrmEvent, Metrics, SystemClock
from bot.crm import CacheSync, EventProcessor, EventsPoller, HintInbox, InboxDrainer, build_crm
from bot.store import Store, open_store
from bot.tasks import REMINDER_QUEUE
from handlers.amocrm_oauth import amocrm_disconnect_routes, amocrm_oauth_routes
from handlers.amocrm_webhook import amocrm_webhook_routes
from handlers.http import build_http_app
from handlers.slack_edge import slack_routes
from handlers.telegram_edge import TelegramWebhook
from integrations.amocrm import AmoClient, in_background
from integrations.slack import SlackError
from scheduler.runner import DrainLoop, JobRunner
from scheduler.singleton import JobBody, SingletonJob

log = logging.getLogger(__name__)

ACTIVITY_TRIM_S = 6 * 3600.0
# Due queues that may hold a million entries: Redis keeps them in small buckets (bot/store).
LONG_QUEUES = (REMINDER_QUEUE,)
ACTIVITY_ROLLUP_S = 3600.0


@dataclass
class CrmPipeline:
    """Everything that brings amoCRM changes in."""

    client: AmoClient
    inbox: HintInbox
    catch_up: HintInbox
    processor: EventProcessor
    poller: EventsPoller
    sync: CacheSync


@dataclass
class Service:
    settings: Settings
    store: Store
    metrics: Metrics
    crm: CrmPipeline | None
    services: Services | None
    telegram: TelegramApp | None
    slack: SlackApp | None
    http_app: web.Application
    instance_id: str
    clock: Clock
    _exit: AsyncExitStack = field(default_factory=AsyncExitStack)
    port: int | None = None
    access: AmoAccess = field(default_factory=AmoAccess)
    watch: AccessWatch | None = None

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
        if self.telegram is not None:
            mode = (
                f"webhook {self.telegram.webhook_url}" if self.telegram.webhook_url else "polling"
            )
            lines.append(f"Telegram: on ({mode})")
        elif s.telegram.configured:
            lines.append("Telegram: token set, but off: it needs amoCRM configured")
        else:
            lines.append("Telegram: not configured (set AMOBRIDGE_TELEGRAM__TOKEN)")
        if self.slack is not None:
            lines.append(f"Slack: on (events, actions and /amo at {SLACK_EVENTS_PATH})")
        elif s.slack.configured:
            lines.append("Slack: token set, but off: it needs amoCRM configured")
        else:
            lines.append(
                "Slack: not configured (set AMOBRIDGE_SLACK__BOT_TOKEN and …__SIGNING_SECRET)"
            )
        lines.append(f"HTTP: {s.http.host}:{self.port or s.http.port}")
        return lines

    async def stop(self) -> None:
        await self._exit.aclose()


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
        # The reminders can run to a million: Redis keeps them compact (the rest fast).
        store = await open_store(
            settings.store_url, key_prefix=settings.redis_key_prefix, long_queues=LONG_QUEUES
        )
        exit_stack.push_async_callback(store.close)
        metrics = Metrics()
        crm: CrmPipeline | None = None
        services: Services | None = None
        telegram: TelegramApp | None = None
        routes: list[web.RouteDef] = []
        access = AmoAccess()
        watch: AccessWatch | None = None
        if settings.amocrm.configured:
            client, http = await build_amo_client(
                settings.amocrm, store, clock, owner=instance_id, metrics=metrics,
                on_request=access.observe, secret_key=settings.secret_key,
            )  # fmt: skip
            exit_stack.push_async_callback(http.aclose)

            async def count(events: Sequence[CrmEvent]) -> None:
                for event in events:
                    metrics.crm_events.labels(kind=event.kind.value).inc()

            parts = build_crm(
                store, client, clock, base_url=str(settings.amocrm.base_url),
                listeners={"metrics": count}, hold_s=settings.amocrm.listener_hold_s,
            )  # fmt: skip
            exit_stack.push_async_callback(parts.inbox.close)  # before the store closes
            exit_stack.push_async_callback(parts.catch_up.close)
            services = build_services(store, client, parts, clock)
            parts.processor.add_listener("reminders", services.reminders.on_events)
            services.reminders.observe_fired(metrics.observe_reminder)
            parts.processor.add_listener("alerts", services.alerts.on_events)
            parts.processor.add_listener("deal-scans", services.scans.on_events)
            parts.processor.add_listener("reports", services.activity.on_events)
            crm = CrmPipeline(
                client=client,
                inbox=parts.inbox,
                catch_up=parts.catch_up,
                processor=parts.processor,
                poller=parts.poller,
                sync=parts.sync,
            )
            watch = AccessWatch(store, client, access, services, oauth=settings.amocrm.uses_oauth)
            cfg = settings.amocrm
            if cfg.uses_oauth and cfg.client_id is not None and cfg.client_secret is not None:
                routes += amocrm_disconnect_routes(
                    cfg.client_id, cfg.client_secret.get_secret_value(),
                    functools.partial(watch.lost_now, "the integration was disabled in amoCRM"),
                )  # fmt: skip
            installer = build_installer(
                settings.amocrm, store, http, clock, owner=instance_id,
                secret_key=settings.secret_key,
            )  # fmt: skip
            if installer is not None:
                routes += amocrm_oauth_routes(installer, services.t)
            if settings.amocrm.webhook_secret is not None:
                routes += amocrm_webhook_routes(
                    settings.amocrm.webhook_secret.get_secret_value(), parts.inbox, metrics
                )

        slack: SlackApp | None = None
        if services is not None and crm is not None and settings.slack.configured:
            session = ClientSession(trust_env=False)
            exit_stack.push_async_callback(session.close)
            slack = build_slack(settings, session, store, services, clock, metrics)
            routes += slack_routes(slack.bolt, slack.verifier, SLACK_EVENTS_PATH)
            crm.processor.add_listener("slack-home", slack.home.on_events)
            exit_stack.push_async_callback(slack.home.close)  # before the session closes
        with_telegram = services is not None and settings.telegram.configured
        channels: list[Channel] = []
        if with_telegram:
            channels.append("telegram")
        if slack is not None:
            channels.append("slack")
        health = Health(store, clock, metrics, settings.amocrm, access, channels)

        async def before_scrape() -> None:
            await health.before_scrape()
            if crm is not None:
                metrics.inbox_depth.set(await crm.inbox.depth() + await crm.catch_up.depth())

        app = build_http_app(
            routes, metrics=metrics, ready=health.readiness, before_scrape=before_scrape
        )
        if services is not None and with_telegram:
            telegram = build_telegram(settings, store, services, clock, metrics)
            exit_stack.push_async_callback(telegram.bot.session.close)
            if telegram.webhook_url is not None:
                assert settings.telegram.webhook_secret is not None
                TelegramWebhook(
                    dispatcher=telegram.dispatcher,
                    bot=telegram.bot,
                    secret_token=settings.telegram.webhook_secret.get_secret_value(),
                ).register(app, path=TELEGRAM_WEBHOOK_PATH)
        return Service(
            settings, store, metrics, crm, services, telegram, slack, app, instance_id, clock,
            exit_stack, access=access, watch=watch,
        )  # fmt: skip
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

    if service.telegram is not None:
        assert service.services is not None
        await start_telegram(service.telegram, service.settings, service.services.t, service._exit)
    if service.slack is not None:
        try:
            await service.slack.api.identity()
        except SlackError as exc:
            raise StartupError(f"Slack refused the bot token ({exc.code})") from None
    crm = service.crm
    if crm is None or not run_jobs:
        return
    cfg = service.settings.amocrm
    access = service.watch
    assert access is not None  # built with the amoCRM pipeline

    def job(
        name: str, body: JobBody, interval_s: float, *, needs_amocrm: bool = True
    ) -> tuple[SingletonJob, float]:
        # While amoCRM refuses our token, its jobs wait; the access watch probes instead.
        run = access.pausing(body) if needs_amocrm else body
        # A job's amoCRM reads leave room for what a person waits on (the pacer's docstring).
        run = in_background(run)
        guarded = SingletonJob(
            name, run, store=service.store, owner=service.instance_id, ttl_s=3 * interval_s
        )
        return guarded, interval_s

    jobs = JobRunner(
        [
            job("amocrm-access", access.tick, cfg.poll_interval_s, needs_amocrm=False),
            job("amocrm-events-poll", crm.poller.poll_once, cfg.poll_interval_s),
            job("amocrm-sync", crm.sync.sync_once, cfg.sync_interval_s),
            *(
                # As often as the events poll: an overdue task is news within a minute.
                [
                    job(
                        "alerts-overdue-scan",
                        service.services.alerts.scan_tasks,
                        cfg.poll_interval_s,
                    ),
                    # Ticks with the poll, scans hourly (stuck deals, close dates near).
                    job("alerts-deal-scan", service.services.scans.scan, cfg.poll_interval_s),
                    # What waited for quiet hours or a mute goes within a poll of their end.
                    job(
                        "held-release",
                        service.services.held.release_due,
                        cfg.poll_interval_s,
                        needs_amocrm=False,
                    ),
                    # Each recipient's digest goes at the digest time in their own timezone.
                    job(
                        "alerts-digests",
                        service.services.digests.send_due,
                        cfg.poll_interval_s,
                    ),
                    # Each report subscription's next sending is in the queue (the sending
                    # plans the next; this puts what an import on another replica added).
                    job(
                        "scheduled-reports-plan",
                        service.services.scheduled_reports.plan_all,
                        cfg.poll_interval_s,
                    ),
                    # The report log keeps KEEP_DAYS: trimmed a few times a day.
                    job(
                        "activity-trim",
                        service.services.activity.trim,
                        ACTIVITY_TRIM_S,
                        needs_amocrm=False,
                    ),
                    # Each closed day of it rolled up, for /report over long periods.
                    job(
                        "activity-rollup",
                        service.services.activity_weeks.roll_up,
                        ACTIVITY_ROLLUP_S,
                        needs_amocrm=False,
                    ),
                ]
                if service.services is not None
                else []
            ),
        ]
    )
    # Hints wait in the inbox while amoCRM refuses our token, like the jobs.
    drainer = InboxDrainer(service.store, crm.processor, service.clock, gate=access)
    # What the poll found is drained apart, in the background: webhooks' changes never wait
    # behind it (a change read by both is applied once: the journal's compare-and-set).
    catch_up = InboxDrainer(
        service.store, crm.processor, service.clock, gate=access, queue=crm.catch_up.queue
    )
    loops = [
        DrainLoop("inbox", drainer.drain_once, crm.inbox.wait),
        DrainLoop("catch-up", in_background(catch_up.drain_once), crm.catch_up.wait),
        DrainLoop("listeners", crm.processor.redeliver, _pause, idle_s=5.0),
    ]
    if service.services is not None:
        reminders = service.services.reminders
        loops.append(DrainLoop("reminders", reminders.fire_due, reminders.wait_due))
        # After the loop stops (the stack unwinds in reverse): what it drew ahead, given back.
        service._exit.push_async_callback(reminders.hand_back)
        # Presses whose write amoCRM did not confirm: read again and their pressers told.
        loops.append(DrainLoop("write-settle", service.services.actions.settle_due, _pause))
        # Presses made while amoCRM did not answer: written, in order, once it answers.
        loops.append(DrainLoop("press-replay", service.services.actions.replay_parked, _pause))
        # Scheduled reports whose moment has come, once across replicas (a claimed entry).
        scheduled = service.services.scheduled_reports
        loops.append(DrainLoop("scheduled-reports", scheduled.send_due, _pause))
    for name, channel in (("telegram", service.telegram), ("slack", service.slack)):
        if channel is None:
            continue
        sender = channel.sender
        # Pumped: a delivery waiting for its chat's turn holds up no other chat.
        loops.append(DrainLoop(f"{name}-outbox", sender.pump, sender.wait))
        # Runs after the loops stop (the stack unwinds in reverse), before the client closes.
        service._exit.push_async_callback(sender.finish)
    jobs.start()
    service._exit.push_async_callback(jobs.stop)
    for loop in loops:
        loop.start()
        service._exit.push_async_callback(loop.stop)


async def _pause(idle_s: float) -> None:
    await asyncio.sleep(idle_s)
