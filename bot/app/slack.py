"""Slack in the service: the bolt app over amobridge's handlers (signature checked first), the
Web API client, the Home tab, e-mail linking and the outbox sender."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from aiohttp import ClientSession
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_sdk.signature import SignatureVerifier

from bot.app.services import Services
from bot.app.settings import Settings
from bot.core import Clock, Metrics
from bot.delivery import OutboxSender
from bot.people import EmailLinking
from bot.store import Store
from handlers.slack import SlackDeps, register
from integrations.slack import SLACK_LIMITS, SlackApi, SlackNotifier, web_client
from integrations.slack.home import SlackHome

SLACK_EVENTS_PATH = "/slack/events"


@dataclass
class SlackApp:
    bolt: AsyncApp
    api: SlackApi
    sender: OutboxSender
    home: SlackHome
    verifier: SignatureVerifier  # checks each request before bolt parses it


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


def build_slack(
    settings: Settings,
    session: ClientSession,
    store: Store,
    s: Services,
    clock: Clock,
    metrics: Metrics | None = None,
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
        on_permanent_failure=s.on_permanent_failure, activity=s.activity,
        on_outcome=metrics.observe_send if metrics is not None else None,
    )  # fmt: skip
    verifier = SignatureVerifier(cfg.signing_secret.get_secret_value())
    return SlackApp(bolt, api, sender, home, verifier)
