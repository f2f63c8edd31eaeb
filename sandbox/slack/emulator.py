"""``SlackEmulator``: the Python handle on one emulated workspace, its app and its HTTP server."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from sandbox.serving import serve_app
from sandbox.slack.api import Api
from sandbox.slack.control import PEOPLE, control_routes
from sandbox.slack.endpoint import (
    CONTEXT,
    Context,
    api_endpoint,
    response_endpoint,
    upload_endpoint,
)
from sandbox.slack.faults import Faults
from sandbox.slack.people import People
from sandbox.slack.ratelimit import RateLimiter
from sandbox.slack.records import (
    Ephemeral,
    Interaction,
    RequestRecord,
    Signing,
    SlackMessage,
    SlackRateLimits,
    SlackUser,
    Stats,
    ViewRecord,
)
from sandbox.slack.state import DEFAULT_SCOPES, Workspace


def _limits(value: bool | SlackRateLimits | None) -> SlackRateLimits | None:
    if value is True:
        return SlackRateLimits()
    if value is False or value is None:
        return None
    return value


class SlackEmulator:
    """A wire-level Slack workspace with one installed app: its Web API, and its people, who
    type slash commands, click, submit modals and open the Home tab.

    ``clock`` stamps messages (``ts``); rate limits, trigger and response URL lifetimes and
    request signatures run on real time, as bolt checks signatures against real time.
    """

    def __init__(
        self,
        bot_token: str = "xoxb-test-token",
        signing_secret: str = "test-signing-secret",
        clock: Callable[[], float] = time.time,
        rate_limits: bool | SlackRateLimits = True,
        *,
        team_id: str = "T0AMOBRIDGE",
        team_domain: str = "amobridge",
        ack_timeout_s: float = 3.0,
        scopes: list[str] | tuple[str, ...] | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.signing_secret = signing_secret
        self._ws = Workspace(
            team_id=team_id, team_domain=team_domain, bot_token=bot_token,
            scopes=tuple(scopes) if scopes is not None else DEFAULT_SCOPES, clock=clock,
        )  # fmt: skip
        self._served_url: str | None = None
        self._limiter = RateLimiter(_limits(rate_limits))
        self.faults = Faults()
        self._context = Context(self._ws, Api(self._ws, self._url), self._limiter, self.faults)
        self._people = People(self._ws, signing_secret, self._url)
        self._people.ack_timeout_s = ack_timeout_s

    def _url(self) -> str:
        return self.base_url

    # --- identity and serving ---------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._served_url is None:
            raise RuntimeError("the emulator is not serving: use `async with slack.serve()`")
        return self._served_url

    @property
    def api_base(self) -> str:
        """For ``AsyncWebClient(base_url=...)``."""
        return self.base_url + "/api/"

    @property
    def team_id(self) -> str:
        return self._ws.team_id

    @property
    def bot_user_id(self) -> str:
        return self._ws.bot_user_id

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app[CONTEXT] = self._context
        app[PEOPLE] = self._people
        app.add_routes([
            *control_routes(),
            web.route("*", "/api/{method}", api_endpoint),
            web.post("/_response/{key}", response_endpoint),
            web.route("*", "/_upload/{file_id}", upload_endpoint),
        ])  # fmt: skip
        return app

    @asynccontextmanager
    async def serve(self, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
        async with serve_app(self.make_app(), host, port) as url:
            self._served_url = url
            try:
                yield url
            finally:
                await self._people.aclose()
                self._served_url = None

    # --- the app's configuration ------------------------------------------------------------

    @property
    def request_url(self) -> str | None:
        """Where Slack sends slash commands, interactions and events (one URL for all)."""
        return self._people.request_url

    @request_url.setter
    def request_url(self, url: str | None) -> None:
        self._people.request_url = url

    @property
    def signing(self) -> Signing:
        return self._people.signing

    @signing.setter
    def signing(self, value: Signing) -> None:
        """How the next requests to the app are signed (a wrong secret, an old timestamp)."""
        self._people.signing = value

    @property
    def ack_timeout_s(self) -> float:
        return self._people.ack_timeout_s

    @ack_timeout_s.setter
    def ack_timeout_s(self, seconds: float) -> None:
        self._people.ack_timeout_s = seconds

    @property
    def trigger_ttl_s(self) -> float:
        """How long a trigger_id opens a modal (Slack: 3 s)."""
        return self._ws.trigger_ttl_s

    @trigger_ttl_s.setter
    def trigger_ttl_s(self, seconds: float) -> None:
        self._ws.trigger_ttl_s = seconds

    @property
    def rate_limits(self) -> SlackRateLimits | None:
        return self._limiter.limits

    @rate_limits.setter
    def rate_limits(self, value: bool | SlackRateLimits | None) -> None:
        self._limiter.limits = _limits(value)
        self._limiter.reset()

    # --- people and channels ----------------------------------------------------------------

    def add_user(
        self,
        real_name: str,
        *,
        email: str | None = None,
        tz: str = "Europe/Moscow",
        is_admin: bool = False,
        is_bot: bool = False,
        locale: str = "en-US",
    ) -> str:
        """A member of the workspace; returns their id ("U…")."""
        return self._ws.add_user(
            real_name, email=email, tz=tz, is_admin=is_admin, is_bot=is_bot, locale=locale
        )

    def people(self) -> list[SlackUser]:
        """The workspace's members, the app's bot user not included."""
        return list(self._ws.users.values())

    def deactivate_user(self, user_id: str) -> None:
        self._ws.set_user(user_id, deleted=True)

    def reactivate_user(self, user_id: str) -> None:
        self._ws.set_user(user_id, deleted=False)

    def add_channel(
        self, name: str, members: list[str] | tuple[str, ...] = (), *, bot_member: bool = True
    ) -> str:
        """A public channel ("C…"), the bot in it unless ``bot_member=False``."""
        return self._ws.add_channel(name, list(members), bot_member)

    def dm_channel(self, user_id: str) -> str:
        """The direct message channel between the user and the app ("D…")."""
        return self._ws.dm(user_id).id

    # --- what people do ---------------------------------------------------------------------

    async def slash_command(
        self, user: str, command: str, text: str = "", *, channel_id: str | None = None
    ) -> Interaction:
        """The user types ``command text`` in ``channel_id`` (None: their DM with the app)."""
        return await self._people.slash_command(user, command, text, channel_id)

    async def click(
        self, user: str, channel_id: str, ts: str, action_id: str, value: str | None = None
    ) -> Interaction:
        """The user clicks an element that is on the message now: a button (``value`` its
        value, or None), an overflow or select option (``value`` the option's value), a
        users_select (``value`` the user id). ValueError if no such element is there."""
        return await self._people.click(user, channel_id, ts, action_id, value)

    async def click_view(
        self, user: str, view_id: str, action_id: str, value: str | None = None
    ) -> Interaction:
        """The same, on an element of an open modal or of the user's Home tab."""
        return await self._people.click_view(user, view_id, action_id, value)

    async def submit_view(
        self, user: str, view_id: str, values: dict[str, dict[str, str]]
    ) -> Interaction:
        """The user submits an open modal, ``values[block_id][action_id]`` typed in."""
        return await self._people.submit_view(user, view_id, values)

    async def open_home(self, user: str) -> Interaction:
        """The user opens the app's Home tab (an ``app_home_opened`` event)."""
        return await self._people.open_home(user)

    # --- reading back -----------------------------------------------------------------------

    def messages(self, channel_id: str) -> list[SlackMessage]:
        return self._ws.messages(channel_id)

    def message(self, channel_id: str, ts: str) -> SlackMessage:
        found = self._ws.message(channel_id, ts)
        if found is None:
            raise KeyError(f"no message {ts} in {channel_id}")
        return found

    def ephemerals(self, user_id: str, channel_id: str | None = None) -> list[Ephemeral]:
        return [
            e for e in self._ws.ephemerals
            if e.user == user_id and (channel_id is None or e.channel == channel_id)
        ]  # fmt: skip

    def views(self, user_id: str) -> list[ViewRecord]:
        """The user's open modals, bottom first."""
        return list(self._ws.modals.get(user_id, []))

    def home(self, user_id: str) -> ViewRecord | None:
        return self._ws.homes.get(user_id)

    async def wait_for_message(
        self,
        channel_id: str,
        predicate: Callable[[SlackMessage], bool] | None = None,
        timeout_s: float = 5.0,
    ) -> SlackMessage:
        """The next bot message event in the channel (a post, an edit or a deletion, as a
        snapshot) that matches, after the last one this returned; TimeoutError past
        ``timeout_s``."""
        return await self._ws.message_watch.next(channel_id, predicate, timeout_s)

    async def wait_for_ephemeral(
        self,
        user_id: str,
        predicate: Callable[[Ephemeral], bool] | None = None,
        timeout_s: float = 5.0,
    ) -> Ephemeral:
        """The same for what only ``user_id`` is shown."""
        return await self._ws.ephemeral_watch.next(user_id, predicate, timeout_s)

    async def wait_for_view(
        self,
        user_id: str,
        predicate: Callable[[ViewRecord], bool] | None = None,
        timeout_s: float = 5.0,
    ) -> ViewRecord:
        """The next modal opened or updated, or Home tab published, for the user."""
        return await self._ws.view_watch.next(user_id, predicate, timeout_s)

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id as an interaction by ``user_id`` would carry (3 s, single use)."""
        return self._ws.new_trigger(user_id)

    def issue_response_url(self, user_id: str, channel_id: str) -> str:
        """A response_url as a slash command by ``user_id`` in ``channel_id`` would carry."""
        return self._ws.new_response_url(self.base_url, channel_id, user_id, None)

    @property
    def interactions(self) -> list[Interaction]:
        return list(self._people.interactions)

    @property
    def request_log(self) -> list[RequestRecord]:
        return list(self._context.request_log)

    @property
    def stats(self) -> Stats:
        log = self._context.request_log
        interactions = self._people.interactions
        return Stats(
            requests=len(log),
            by_method=dict(Counter(r.method for r in log)),
            ratelimited=sum(1 for r in log if r.status == 429),
            errors=sum(1 for r in log if r.error is not None and r.status != 429),
            faults_injected=self.faults.injected,
            messages_posted=self._ws.posted,
            messages_updated=self._ws.updated,
            interactions=len(interactions),
            failed_interactions=sum(1 for i in interactions if i.failed),
        )
