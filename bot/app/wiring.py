"""The composition root: settings → store → clients → services → HTTP server and scheduler.

Nothing else in the code base builds long-lived objects; everything is passed in from here, and
torn down here in reverse order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

import httpx
from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import ClientSession, web
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult

from bot.admin import AdminService, HealthReport
from bot.alerts import AlertService, DealScans, DigestService, Subscriptions
from bot.app.settings import AmoCrmSettings, Settings
from bot.chat import MENU, Conversation, Dialogs, OwnSettings
from bot.core import LANGUAGES, Catalogue, Clock, CrmEvent, Metrics, SystemClock, load_catalogue
from bot.crm import CacheSync, Directory, EventProcessor, EventsPoller, HintInbox, InboxDrainer
from bot.delivery import Outbox, OutboxSender
from bot.people import EmailLinking, HeldMessages, LinkGuard, LinkingService, Links, Prefs, Reach
from bot.reports import ActivityLog, ReportService
from bot.store import Store, open_store
from bot.tasks import CardFactory, ReminderService, TaskActions
from handlers.amocrm_webhook import amocrm_webhook_routes
from handlers.http import build_http_app
from handlers.slack import SlackDeps, register, slack_routes
from handlers.telegram import TelegramDeps, make_router
from integrations.amocrm import (
    AmoAuth,
    AmoClient,
    LongLivedTokenAuth,
    OAuthTokenManager,
    StorePacer,
)
from integrations.slack import SLACK_LIMITS, SlackApi, SlackError, SlackNotifier, web_client
from integrations.slack.home import SlackHome
from integrations.telegram import TELEGRAM_LIMITS, TelegramNotifier
from integrations.telegram.pacing import Pacing
from scheduler.runner import DrainLoop, JobRunner
from scheduler.singleton import JobBody, SingletonJob

log = logging.getLogger(__name__)

TELEGRAM_WEBHOOK_PATH = "/telegram/webhook"
SLACK_EVENTS_PATH = "/slack/events"
ACTIVITY_TRIM_S = 6 * 3600.0


@dataclass
class CrmPipeline:
    """Everything that brings amoCRM changes in."""

    client: AmoClient
    inbox: HintInbox
    processor: EventProcessor
    poller: EventsPoller
    sync: CacheSync


@dataclass
class Services:
    """The use cases every messenger shares, built on amoCRM."""

    t: Catalogue
    directory: Directory
    links: Links
    prefs: Prefs
    outbox: Outbox
    cards: CardFactory
    reminders: ReminderService
    held: HeldMessages
    actions: TaskActions
    linking: LinkingService
    guard: LinkGuard
    conversation: Conversation
    subscriptions: Subscriptions
    alerts: AlertService
    digests: DigestService
    scans: DealScans
    admin: AdminService
    activity: ActivityLog


@dataclass
class TelegramApp:
    bot: Bot
    dispatcher: Dispatcher
    sender: OutboxSender
    webhook_url: str | None  # None: long polling


@dataclass
class SlackApp:
    bolt: AsyncApp
    api: SlackApi
    sender: OutboxSender
    home: SlackHome


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
        services: Services | None = None
        telegram: TelegramApp | None = None
        routes: list[web.RouteDef] = []
        if settings.amocrm.configured:
            client, http = await build_amo_client(
                settings.amocrm, store, clock, owner=instance_id, metrics=metrics
            )
            exit_stack.push_async_callback(http.aclose)
            inbox = HintInbox(store, clock)
            exit_stack.push_async_callback(inbox.close)  # before the store closes

            async def count(events: Sequence[CrmEvent]) -> None:
                for event in events:
                    metrics.crm_events.labels(kind=event.kind.value).inc()

            processor = EventProcessor(store, client, clock, listeners=[count])
            services = _services(settings, store, client, processor, clock)
            processor.add_listener(services.reminders.on_events)
            processor.add_listener(services.alerts.on_events)
            processor.add_listener(services.scans.on_events)
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

        slack: SlackApp | None = None
        if services is not None and crm is not None and settings.slack.configured:
            session = ClientSession(trust_env=False)
            exit_stack.push_async_callback(session.close)
            slack = _slack(settings, session, store, services, clock)
            routes += slack_routes(slack.bolt, SLACK_EVENTS_PATH)
            crm.processor.add_listener(slack.home.on_events)
            exit_stack.push_async_callback(slack.home.close)  # before the session closes
        app = build_http_app(routes, metrics=metrics, health=health)
        if services is not None and settings.telegram.configured:
            telegram = _telegram(settings, store, services, clock)
            exit_stack.push_async_callback(telegram.bot.session.close)
            if telegram.webhook_url is not None:
                assert settings.telegram.webhook_secret is not None
                SimpleRequestHandler(
                    dispatcher=telegram.dispatcher,
                    bot=telegram.bot,
                    secret_token=settings.telegram.webhook_secret.get_secret_value(),
                ).register(app, path=TELEGRAM_WEBHOOK_PATH)
        return Service(
            settings, store, metrics, crm, services, telegram, slack, app, instance_id, clock,
            exit_stack,
        )  # fmt: skip
    except BaseException:
        await exit_stack.aclose()
        raise


def _services(
    settings: Settings, store: Store, crm: AmoClient, processor: EventProcessor, clock: Clock
) -> Services:
    t = load_catalogue()
    directory = Directory(crm, clock, base_url=str(settings.amocrm.base_url))
    links, prefs, outbox = Links(store), Prefs(store), Outbox(store, clock)
    reach = Reach(links, prefs, directory, clock)
    cards = CardFactory(t, directory)
    held = HeldMessages(store, outbox, reach, directory, cards, clock)
    health = HealthReport(store, crm, directory, links, clock, t)
    subscriptions = Subscriptions(store)
    reminders = ReminderService(store, directory, links, prefs, reach, held, cards, outbox, clock)
    activity = ActivityLog(store, clock)
    reports = ReportService(activity, directory, clock, t)
    actions = TaskActions(store, crm, directory, processor, clock, t, activity)
    digests = DigestService(
        store, prefs, directory, reach, held, subscriptions, reminders, outbox, clock, t
    )
    conversation = Conversation(
        store=store, directory=directory, links=links, prefs=prefs,
        own=OwnSettings(links, prefs, reach, held, digests, clock, t), reminders=reminders,
        actions=actions, cards=cards, outbox=outbox, clock=clock, t=t,
    )  # fmt: skip
    alerts = AlertService(
        store, directory, reach, held, subscriptions, reminders, cards, outbox, clock, t, digests
    )
    return Services(
        t=t,
        directory=directory,
        links=links,
        prefs=prefs,
        outbox=outbox,
        cards=cards,
        reminders=reminders,
        held=held,
        actions=actions,
        linking=LinkingService(store, crm, directory, links, clock, t),
        guard=LinkGuard(links, prefs, reach, directory, outbox, t),
        conversation=conversation,
        subscriptions=subscriptions,
        admin=AdminService(directory, subscriptions, store, clock, t, health, reports),
        alerts=alerts,
        digests=digests,
        scans=DealScans(crm, store, directory, subscriptions, clock, alerts.deliver),
        activity=activity,
    )


def _telegram(settings: Settings, store: Store, s: Services, clock: Clock) -> TelegramApp:
    cfg = settings.telegram
    assert cfg.token is not None
    session = AiohttpSession(api=TelegramAPIServer.from_base(str(cfg.api_base).rstrip("/")))
    session.middleware(Pacing(store, TELEGRAM_LIMITS))
    bot = Bot(cfg.token.get_secret_value(), session=session)
    dispatcher = Dispatcher()
    deps = TelegramDeps(
        conversation=s.conversation, admin=s.admin, dialogs=Dialogs(store, "telegram"),
        linking=s.linking,
        directory=s.directory, cards=s.cards, store=store, t=s.t,
    )  # fmt: skip
    dispatcher.include_router(make_router(deps))
    sender = OutboxSender(
        "telegram", TelegramNotifier(bot), None, store=store, outbox=s.outbox,
        clock=clock, on_permanent_failure=s.guard.on_permanent_failure, activity=s.activity,
    )  # fmt: skip
    webhook_url = None
    if cfg.webhook_secret is not None:
        assert settings.public_url is not None  # Settings requires it in webhook mode
        webhook_url = str(settings.public_url).rstrip("/") + TELEGRAM_WEBHOOK_PATH
    return TelegramApp(bot, dispatcher, sender, webhook_url)


@contextlib.contextmanager
def _without_slack_environment() -> Iterator[None]:
    """Hide ``SLACK_*`` variables while bolt's app is built: it reads them when an argument is
    missing (and turns on its OAuth flow when SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set),
    so a stray variable meant for another Slack app would change this one. amobridge's Slack
    configuration is ``AMOBRIDGE_SLACK__*`` alone."""
    hidden = {name: os.environ.pop(name) for name in list(os.environ) if name.startswith("SLACK_")}
    try:
        yield
    finally:
        os.environ.update(hidden)


def _slack(
    settings: Settings, session: ClientSession, store: Store, s: Services, clock: Clock
) -> SlackApp:
    cfg = settings.slack
    assert cfg.bot_token is not None
    assert cfg.signing_secret is not None
    token = cfg.bot_token.get_secret_value()
    api_base = str(cfg.api_base)
    api = SlackApi(web_client(token, api_base, session=session))

    async def authorize() -> AuthorizeResult:
        # The one workspace the token belongs to, asked once (bolt would call auth.test with a
        # client of its own, which reads proxy variables from the environment).
        me = await api.identity()
        return AuthorizeResult(
            enterprise_id=None, team_id=me.team_id, team=me.team, url=me.url,
            bot_user_id=me.bot_user_id, bot_id=me.bot_id, bot_token=token,
        )  # fmt: skip

    with _without_slack_environment():
        bolt = AsyncApp(
            name="amobridge",
            signing_secret=cfg.signing_secret.get_secret_value(),
            client=web_client(None, api_base, session=session),
            authorize=authorize,
            raise_error_for_unhandled_request=False,
        )
    home = SlackHome(api, s.conversation, s.links, store, clock)
    linking = EmailLinking("slack", api, s.links, s.directory, s.reminders, clock)
    register(bolt, SlackDeps(conversation=s.conversation, admin=s.admin, linking=linking,
                             api=api, home=home,
                             t=s.t))  # fmt: skip
    sender = OutboxSender(
        "slack", SlackNotifier(api), SLACK_LIMITS, store=store, outbox=s.outbox, clock=clock,
        on_permanent_failure=s.guard.on_permanent_failure, activity=s.activity,
    )  # fmt: skip
    return SlackApp(bolt, api, sender, home)


async def _start_telegram(service: Service, app: TelegramApp) -> None:
    assert service.services is not None
    t = service.services.t
    try:
        await app.bot.get_me()
    except TelegramAPIError as exc:
        raise StartupError(f"Telegram refused the bot token ({type(exc).__name__})") from None
    for lang in LANGUAGES:
        commands = [BotCommand(command=name, description=t(lang, f"cmd_{name}")) for name in MENU]
        await app.bot.set_my_commands(commands, language_code=lang)
    await app.bot.set_my_commands(
        [BotCommand(command=name, description=t("en", f"cmd_{name}")) for name in MENU]
    )
    if app.webhook_url is not None:
        secret = service.settings.telegram.webhook_secret
        assert secret is not None
        await app.bot.set_webhook(app.webhook_url, secret_token=secret.get_secret_value())
        return
    # Polling: a webhook left from webhook mode would make getUpdates fail with 409.
    await app.bot.delete_webhook()
    polling = asyncio.create_task(
        app.dispatcher.start_polling(
            app.bot, handle_signals=False, close_bot_session=False, polling_timeout=10
        ),
        name="telegram-polling",
    )

    async def stop_polling() -> None:
        with contextlib.suppress(RuntimeError):  # it may not have started yet
            await app.dispatcher.stop_polling()
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling

    service._exit.push_async_callback(stop_polling)


class StartupError(Exception):
    """A configured part cannot start; the message says which and why (never a secret)."""


async def _start(service: Service, *, run_jobs: bool) -> None:
    runner = web.AppRunner(service.http_app, access_log=None)
    await runner.setup()
    service._exit.push_async_callback(runner.cleanup)
    site = web.TCPSite(runner, service.settings.http.host, service.settings.http.port)
    await site.start()
    service.port = int(runner.addresses[0][1])

    if service.telegram is not None:
        await _start_telegram(service, service.telegram)
    if service.slack is not None:
        try:
            await service.slack.api.identity()
        except SlackError as exc:
            raise StartupError(f"Slack refused the bot token ({exc.code})") from None
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
                    job("held-release", service.services.held.release_due, cfg.poll_interval_s),
                    # Each recipient's digest goes at the digest time in their own timezone.
                    job(
                        "alerts-digests",
                        service.services.digests.send_due,
                        cfg.poll_interval_s,
                    ),
                    # The report log keeps KEEP_DAYS: trimmed a few times a day.
                    job("activity-trim", service.services.activity.trim, ACTIVITY_TRIM_S),
                ]
                if service.services is not None
                else []
            ),
        ]
    )
    drainer = InboxDrainer(service.store, crm.processor, service.clock)
    worker = DrainLoop("inbox", drainer.drain_once, crm.inbox.wait)
    loops = [worker]
    if service.services is not None:
        reminders = service.services.reminders

        async def pause(idle_s: float) -> None:
            await asyncio.sleep(idle_s)

        loops.append(DrainLoop("reminders", reminders.fire_due, pause))
    for name, channel in (("telegram", service.telegram), ("slack", service.slack)):
        if channel is None:
            continue
        sender = channel.sender
        loops.append(DrainLoop(f"{name}-outbox", sender.drain_once, sender.wait))
        # Runs after the loops stop (the stack unwinds in reverse), before the client closes.
        service._exit.push_async_callback(sender.finish)
    jobs.start()
    service._exit.push_async_callback(jobs.stop)
    for loop in loops:
        loop.start()
        service._exit.push_async_callback(loop.stop)
