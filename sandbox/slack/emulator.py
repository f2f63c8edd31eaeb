"""``SlackEmulator``: the Python handle on one emulated workspace, its app and its HTTP server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from sandbox.common.ratelimit import limits_from
from sandbox.common.serving import MAX_UPLOAD_BYTES, ServedAt
from sandbox.slack.context import CONTEXT, Context
from sandbox.slack.context import stats as compute_stats
from sandbox.slack.control import PEOPLE, control_routes
from sandbox.slack.delivery import AppLink
from sandbox.slack.endpoint import api_endpoint, upload_endpoint
from sandbox.slack.faults import Faults
from sandbox.slack.people import People
from sandbox.slack.ratelimit import RateLimiter
from sandbox.slack.records import (
    Ephemeral,
    FileRecord,
    Interaction,
    RequestRecord,
    Signing,
    SlackMessage,
    SlackRateLimits,
    SlackUser,
    Stats,
    ViewRecord,
)
from sandbox.slack.responses import response_endpoint
from sandbox.slack.state import DEFAULT_SCOPES, Workspace


class SlackEmulator:
    """A wire-level Slack workspace with one installed app: its Web API at ``/api/<method>``,
    and its people, who type slash commands, click, submit and close modals and open the Home
    tab, each sent signed to the app's Request URL.

    ``clock`` stamps messages (their ``ts``). Rate limits, trigger and response URL lifetimes,
    acknowledgement times and request signatures run on real time, as Slack's do (bolt checks
    signatures against real time).
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
        scopes: Iterable[str] | None = None,
    ) -> None:
        self._ws = Workspace(
            team_id=team_id, team_domain=team_domain, bot_token=bot_token,
            scopes=tuple(scopes) if scopes is not None else DEFAULT_SCOPES, clock=clock,
        )  # fmt: skip
        self._served = ServedAt("slack")
        self.faults = Faults()
        limiter = RateLimiter(limits_from(rate_limits, SlackRateLimits))
        self._context = Context(self._ws, limiter, self.faults, lambda: self.base_url)
        self._link = AppLink(signing_secret)
        self._link.ack_timeout_s = ack_timeout_s
        self._people = People(self._ws, self._link, lambda: self.base_url)

    # --- identity and serving ---------------------------------------------------------------

    @property
    def bot_token(self) -> str:
        return self._ws.bot_token

    @property
    def signing_secret(self) -> str:
        return self._link.signing_secret

    @property
    def scopes(self) -> tuple[str, ...]:
        return self._ws.scopes

    @property
    def team_id(self) -> str:
        return self._ws.team_id

    @property
    def team_domain(self) -> str:
        return self._ws.team_domain

    @property
    def app_id(self) -> str:
        return self._ws.app_id

    @property
    def bot_id(self) -> str:
        return self._ws.bot_id

    @property
    def bot_user_id(self) -> str:
        return self._ws.bot.id

    @property
    def base_url(self) -> str:
        return self._served.url

    @property
    def api_base(self) -> str:
        """For ``AsyncWebClient(base_url=...)``."""
        return self.base_url + "/api/"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
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
        """Serve until the block ends; yields the base URL ("http://127.0.0.1:PORT")."""
        async with self._served.serve(self.make_app(), host, port) as url:
            try:
                yield url
            finally:
                await self._link.aclose()

    # --- the app's settings, and test knobs ---------------------------------------------------

    @property
    def request_url(self) -> str | None:
        """Where Slack sends slash commands, interactions and events (one URL for all)."""
        return self._link.request_url

    @request_url.setter
    def request_url(self, url: str | None) -> None:
        self._link.request_url = url

    @property
    def signing(self) -> Signing:
        return self._link.signing

    @signing.setter
    def signing(self, value: Signing) -> None:
        """How the next requests to the app are signed (another secret, an old timestamp, a
        body changed after signing); ``Signing()`` signs them right again."""
        self._link.signing = value

    @property
    def ack_timeout_s(self) -> float:
        """How long Slack waits for the app's acknowledgement (3 s)."""
        return self._link.ack_timeout_s

    @ack_timeout_s.setter
    def ack_timeout_s(self, seconds: float) -> None:
        self._link.ack_timeout_s = seconds

    @property
    def trigger_ttl_s(self) -> float:
        """How long a trigger_id opens a modal (3 s)."""
        return self._ws.triggers.ttl_s

    @trigger_ttl_s.setter
    def trigger_ttl_s(self, seconds: float) -> None:
        self._ws.triggers.ttl_s = seconds

    @property
    def response_url_ttl_s(self) -> float:
        """How long a response_url takes answers (30 minutes)."""
        return self._ws.responses.ttl_s

    @response_url_ttl_s.setter
    def response_url_ttl_s(self, seconds: float) -> None:
        self._ws.responses.ttl_s = seconds

    @property
    def deactivated_dm_error(self) -> str | None:
        """What chat.postMessage answers for a deactivated person's DM: "is_archived" (their
        DM is archived), another code, or None to post it anyway."""
        return self._ws.deactivated_dm_error

    @deactivated_dm_error.setter
    def deactivated_dm_error(self, code: str | None) -> None:
        self._ws.deactivated_dm_error = code

    @property
    def rate_limits(self) -> SlackRateLimits | None:
        return self._context.limiter.limits

    @rate_limits.setter
    def rate_limits(self, value: bool | SlackRateLimits | None) -> None:
        """True: Slack's limits; False/None: none; or a SlackRateLimits. Buckets start full."""
        self._context.limiter.limits = limits_from(value, SlackRateLimits)

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
        return self._ws.add_user(real_name, email=email, tz=tz, is_admin=is_admin,
                                 is_bot=is_bot, locale=locale)  # fmt: skip

    def user(self, user_id: str) -> SlackUser:
        return self._ws.person(user_id)

    def people(self) -> list[SlackUser]:
        """The workspace's members, the app's bot user and Slackbot not included."""
        return list(self._ws.users.values())

    def deactivate_user(self, user_id: str) -> None:
        self._ws.set_deleted(user_id, True)

    def reactivate_user(self, user_id: str) -> None:
        self._ws.set_deleted(user_id, False)

    def add_channel(
        self, name: str, members: Iterable[str] = (), *, bot_member: bool = True
    ) -> str:
        """A public channel ("C…"), the bot in it unless ``bot_member=False``."""
        return self._ws.add_channel(name, list(members), bot_member)

    def join_channel(self, user_id: str, channel_id: str) -> None:
        self._ws.person(user_id)
        self._ws.channel(channel_id).members.add(user_id)

    def set_bot_member(self, channel_id: str, member: bool) -> None:
        """The app is invited to (or removed from) a channel."""
        self._ws.channel(channel_id).bot_member = member

    def dm_channel(self, user_id: str) -> str:
        """The direct message channel between the person and the app ("D…"), the one
        conversations.open gives the app."""
        return self._ws.dm(user_id).id

    # --- what people do ---------------------------------------------------------------------

    async def slash_command(
        self, user: str, command: str, text: str = "", *, channel_id: str | None = None
    ) -> Interaction:
        """The person types ``command text`` in ``channel_id`` (None: their DM with the app).
        An acknowledgement with a message is shown as Slack shows it."""
        return await self._people.slash_command(user, command, text, channel_id)

    async def click(
        self, user: str, channel_id: str, ts: str, action_id: str, value: str | None = None
    ) -> Interaction:
        """The person clicks an element that is on the message now: a button (``value`` its
        value, or None), an overflow or static_select option (``value`` the option's value),
        a users_select (``value`` a person's id), a datepicker or timepicker (a date, a
        time). ValueError if no such element or option is there."""
        return await self._people.click(user, channel_id, ts, action_id, value)

    async def click_ephemeral(
        self, user: str, channel_id: str, ts: str, action_id: str, value: str | None = None
    ) -> Interaction:
        """The same on an ephemeral message the person was shown (``ts``: its ``ts``)."""
        return await self._people.click_ephemeral(user, channel_id, ts, action_id, value)

    async def click_view(
        self, user: str, view_id: str, action_id: str, value: str | None = None
    ) -> Interaction:
        """The same in the modal in front of the person, or on their Home tab."""
        return await self._people.click_view(user, view_id, action_id, value)

    async def submit_view(
        self, user: str, view_id: str, values: dict[str, dict[str, Any]]
    ) -> Interaction:
        """The person submits the modal in front of them, ``values[block_id][action_id]``
        entered: text typed, or an option's value, a person's id, a date, a time. ValueError
        for a required input left empty (Slack's client does not let that through)."""
        return await self._people.submit_view(user, view_id, values)

    async def close_view(self, user: str, view_id: str) -> Interaction | None:
        """The person closes the modal in front of them; the app hears of it (and the result
        is returned) only if the view has ``notify_on_close``."""
        return await self._people.close_view(user, view_id)

    async def open_home(self, user: str) -> Interaction:
        """The person opens the app's Home tab (an ``app_home_opened`` event)."""
        return await self._people.open_home(user)

    async def verify_request_url(self) -> Interaction:
        """Slack's ``url_verification`` of the Request URL; failed unless the app echoes the
        challenge."""
        return await self._people.verify_url()

    def say(self, user: str, channel_id: str, text: str) -> str:
        """The person writes in a channel they are in; returns the message's ts. No message
        event is sent to the app (of the Events API, the emulator sends app_home_opened)."""
        channel = self._ws.channel(channel_id)
        if not self._ws.can_see(user, channel):
            raise ValueError(f"{user} cannot write in {channel_id}")
        return self._ws.post(channel.id, text, [], user=user).ts

    def issue_trigger(self, user_id: str) -> str:
        """A trigger_id as an interaction by the person would carry (3 s, single use)."""
        self._ws.person(user_id)
        return self._ws.triggers.issue(user_id)

    def issue_response_url(self, user_id: str, channel_id: str) -> str:
        """A response_url as a slash command by the person in ``channel_id`` would carry."""
        self._ws.person(user_id)
        return self._ws.responses.issue(self.base_url, self._ws.channel(channel_id).id, user_id)

    # --- reading back -----------------------------------------------------------------------

    def messages(self, channel_id: str) -> list[SlackMessage]:
        """Every message of the channel as it is now (deleted ones flagged), oldest first."""
        return self._ws.messages(channel_id)

    def message(self, channel_id: str, ts: str) -> SlackMessage:
        found = self._ws.message(channel_id, ts)
        if found is None:
            raise KeyError(f"no message {ts} in {channel_id}")
        return found

    def ephemerals(self, user_id: str, channel_id: str | None = None) -> list[Ephemeral]:
        """What only ``user_id`` was shown (in ``channel_id``, or anywhere), oldest first."""
        return self._ws.ephemerals(user_id, channel_id)

    def views(self, user_id: str) -> list[ViewRecord]:
        """The person's open modals, bottom first (the last one is in front)."""
        return list(self._ws.modals.get(user_id, []))

    def home(self, user_id: str) -> ViewRecord | None:
        """The Home tab the app last published for the person."""
        return self._ws.homes.get(user_id)

    def file(self, file_id: str) -> FileRecord:
        return self._ws.files[file_id]

    async def wait_for_message(
        self,
        channel_id: str,
        predicate: Callable[[SlackMessage], bool] | None = None,
        timeout_s: float = 5.0,
    ) -> SlackMessage:
        """The next bot message event in the channel (a post, an edit or a deletion, as a
        snapshot) that matches ``predicate``, after the last one this returned. Events from
        before the call count, so acting first and waiting second never races. TimeoutError
        after ``timeout_s``."""
        return await self._ws.message_watch.next(channel_id, predicate, timeout_s)

    async def wait_for_ephemeral(
        self,
        user_id: str,
        predicate: Callable[[Ephemeral], bool] | None = None,
        timeout_s: float = 5.0,
    ) -> Ephemeral:
        """The same for what only ``user_id`` is shown (new, replaced or deleted)."""
        return await self._ws.ephemeral_watch.next(user_id, predicate, timeout_s)

    async def wait_for_view(
        self,
        user_id: str,
        predicate: Callable[[ViewRecord], bool] | None = None,
        timeout_s: float = 5.0,
    ) -> ViewRecord:
        """The same for the person's views: a modal opened, pushed or updated, or a Home tab
        published."""
        return await self._ws.view_watch.next(user_id, predicate, timeout_s)

    @property
    def interactions(self) -> list[Interaction]:
        """Every request sent to the app, with what came of it, oldest first."""
        return list(self._people.interactions)

    @property
    def request_log(self) -> list[RequestRecord]:
        """Every Web API call, oldest first."""
        return list(self._context.request_log)

    @property
    def stats(self) -> Stats:
        return compute_stats(self._context, self._people.interactions)
