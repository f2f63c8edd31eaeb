"""``SlackEmulator``: the Python handle on one emulated workspace, its app and its HTTP server."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from aiohttp import web

from sandbox.common.handle import Forward, Knob, Shown
from sandbox.common.ratelimit import limits_from
from sandbox.common.serving import MAX_UPLOAD_BYTES, Emulator
from sandbox.slack import records
from sandbox.slack.context import CONTEXT, Context
from sandbox.slack.context import stats as compute_stats
from sandbox.slack.control import CONTROL, PEOPLE
from sandbox.slack.delivery import AppLink
from sandbox.slack.endpoint import api_endpoint, upload_endpoint
from sandbox.slack.faults import Faults
from sandbox.slack.people import People
from sandbox.slack.ratelimit import RateLimiter
from sandbox.slack.responses import response_endpoint
from sandbox.slack.state import DEFAULT_SCOPES, Workspace
from sandbox.watch import WaitFor


class SlackEmulator(Emulator):
    """A wire-level Slack workspace with one installed app: its Web API at ``/api/<method>``,
    and its people, who type slash commands, click, submit and close modals and open the Home
    tab, each sent signed to the app's Request URL.

    ``clock`` stamps messages (their ``ts``). Rate limits, trigger and response URL lifetimes,
    acknowledgement times and request signatures run on real time, as Slack's do (bolt checks
    signatures against real time).
    """

    handle_name = "slack"

    def __init__(
        self,
        bot_token: str = "xoxb-test-token",
        signing_secret: str = "test-signing-secret",
        clock: Callable[[], float] = time.time,
        rate_limits: bool | records.SlackRateLimits = True,
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
        self.faults = Faults()
        limiter = RateLimiter(limits_from(rate_limits, records.SlackRateLimits))
        self._context = Context(self._ws, limiter, self.faults, lambda: self.base_url)
        self._link = AppLink(signing_secret)
        self._triggers = self._ws.triggers
        self._responses = self._ws.responses
        self._link.ack_timeout_s = ack_timeout_s
        self._people = People(self._ws, self._link, lambda: self.base_url)

    # --- identity and serving ---------------------------------------------------------------

    bot_token = Shown[str]("_ws", "bot_token")
    signing_secret = Shown[str]("_link", "signing_secret")
    scopes = Shown[tuple[str, ...]]("_ws", "scopes")
    team_id = Shown[str]("_ws", "team_id")
    team_domain = Shown[str]("_ws", "team_domain")
    app_id = Shown[str]("_ws", "app_id")
    bot_id = Shown[str]("_ws", "bot_id")

    @property
    def bot_user_id(self) -> str:
        return self._ws.bot.id

    @property
    def api_base(self) -> str:
        """For ``AsyncWebClient(base_url=...)``."""
        return self.base_url + "/api/"

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app[CONTEXT] = self._context
        app[PEOPLE] = self._people
        app.add_routes([
            *CONTROL.routes,
            web.route("*", "/api/{method}", api_endpoint),
            web.post("/_response/{key}", response_endpoint),
            web.route("*", "/_upload/{file_id}", upload_endpoint),
        ])  # fmt: skip
        return app

    async def _stopping(self) -> None:
        await self._link.aclose()

    # --- the app's settings, and test knobs ---------------------------------------------------

    request_url = Knob[str | None](
        "_link",
        "request_url",
        "Where Slack sends slash commands, interactions and events (one URL for all).",
    )
    signing = Knob[records.Signing](
        "_link",
        "signing",
        "How the next requests to the app are signed (another secret, an old timestamp, a body"
        " changed after signing); ``Signing()`` signs them right again.",
    )
    ack_timeout_s = Knob[float](
        "_link", "ack_timeout_s", "How long Slack waits for the app's acknowledgement (3 s)."
    )
    trigger_ttl_s = Knob[float]("_triggers", "ttl_s", "How long a trigger_id opens a modal (3 s).")
    response_url_ttl_s = Knob[float](
        "_responses", "ttl_s", "How long a response_url takes answers (30 minutes)."
    )
    deactivated_dm_error = Knob[str | None](
        "_ws",
        "deactivated_dm_error",
        'What chat.postMessage answers for a deactivated person\'s DM: "is_archived" (their'
        " DM is archived), another code, or None to post it anyway.",
    )

    @property
    def rate_limits(self) -> records.SlackRateLimits | None:
        return self._context.limiter.limits

    @rate_limits.setter
    def rate_limits(self, value: bool | records.SlackRateLimits | None) -> None:
        """True: Slack's limits; False/None: none; or a SlackRateLimits. Buckets start full."""
        self._context.limiter.limits = limits_from(value, records.SlackRateLimits)

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

    def user(self, user_id: str) -> records.SlackUser:
        return self._ws.person(user_id)

    def people(self) -> list[records.SlackUser]:
        """The workspace's members, the app's bot user and Slackbot not included."""
        return list(self._ws.users.values())

    def deactivate_user(self, user_id: str) -> None:
        self._ws.set_deleted(user_id, True)

    def reactivate_user(self, user_id: str) -> None:
        self._ws.set_deleted(user_id, False)

    def add_channel(
        self,
        name: str,
        members: Iterable[str] = (),
        *,
        bot_member: bool = True,
        private: bool = False,
    ) -> str:
        """A channel ("C…"), public unless ``private``, the bot in it unless ``bot_member=False``
        (then the app may join a public one with conversations.join; a private one it may not)."""
        return self._ws.add_channel(name, list(members), bot_member, private)

    def bot_is_member(self, channel_id: str) -> bool:
        return self._ws.channel(channel_id).bot_member

    def archive_channel(self, channel_id: str) -> None:
        self._ws.channel(channel_id).is_archived = True

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

    slash_command = Forward("_people", People.slash_command)
    click = Forward("_people", People.click)
    click_ephemeral = Forward("_people", People.click_ephemeral)
    click_view = Forward("_people", People.click_view)
    submit_view = Forward("_people", People.submit_view)
    close_view = Forward("_people", People.close_view)
    open_home = Forward("_people", People.open_home)
    verify_request_url = Forward("_people", People.verify_url)

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

    def messages(self, channel_id: str) -> list[records.SlackMessage]:
        """Every message of the channel as it is now (deleted ones flagged), oldest first."""
        return self._ws.messages(channel_id)

    def message(self, channel_id: str, ts: str) -> records.SlackMessage:
        found = self._ws.message(channel_id, ts)
        if found is None:
            raise KeyError(f"no message {ts} in {channel_id}")
        return found

    def ephemerals(self, user_id: str, channel_id: str | None = None) -> list[records.Ephemeral]:
        """What only ``user_id`` was shown (in ``channel_id``, or anywhere), oldest first."""
        return self._ws.ephemerals(user_id, channel_id)

    def views(self, user_id: str) -> list[records.ViewRecord]:
        """The person's open modals, bottom first (the last one is in front)."""
        return list(self._ws.modals.get(user_id, []))

    def home(self, user_id: str) -> records.ViewRecord | None:
        """The Home tab the app last published for the person."""
        return self._ws.homes.get(user_id)

    def file(self, file_id: str) -> records.FileRecord:
        return self._ws.files[file_id]

    wait_for_message = WaitFor[str, records.SlackMessage](
        lambda handle: handle._ws.message_watch,
        "The next bot message event in the channel (a post, an edit or a deletion, as a"
        " snapshot) that matches ``predicate``, after the last one this returned. Events from"
        " before the call count, so acting first and waiting second never races. TimeoutError"
        " after ``timeout_s``.",
    )
    wait_for_ephemeral = WaitFor[str, records.Ephemeral](
        lambda handle: handle._ws.ephemeral_watch,
        "The same for what only ``user_id`` is shown (new, replaced or deleted).",
    )
    wait_for_view = WaitFor[str, records.ViewRecord](
        lambda handle: handle._ws.view_watch,
        "The same for the person's views: a modal opened, pushed or updated, or a Home tab"
        " published.",
    )

    @property
    def interactions(self) -> list[records.Interaction]:
        """Every request sent to the app, with what came of it, oldest first."""
        return list(self._people.interactions)

    @property
    def request_log(self) -> list[records.RequestRecord]:
        """Every Web API call, oldest first."""
        return list(self._context.request_log)

    @property
    def stats(self) -> records.Stats:
        return compute_stats(self._context, self._people.interactions)
