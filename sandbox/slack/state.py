"""The workspace: people, channels and their messages, ephemerals, views, and the one-time
handles Slack gives an app (trigger ids, response URLs)."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sandbox.slack.records import (
    Ephemeral,
    JsonDict,
    MessageVersion,
    SlackMessage,
    SlackUser,
    ViewRecord,
)
from sandbox.watch import Watch

TRIGGER_TTL_S = 3.0
RESPONSE_URL_TTL_S = 30 * 60
RESPONSE_URL_USES = 5

DEFAULT_SCOPES = (
    "chat:write", "im:write", "users:read", "users:read.email", "commands", "files:write",
)  # fmt: skip


@dataclass
class Channel:
    id: str
    name: str
    members: set[str] = field(default_factory=set)
    bot_member: bool = True
    im_user: str | None = None  # for a direct message with the bot: the user

    @property
    def is_im(self) -> bool:
        return self.im_user is not None


@dataclass
class Trigger:
    user: str
    created: float  # time.monotonic()
    used: bool = False


@dataclass
class ResponseTarget:
    """Where a response_url answers: the channel, and the message it came from if any."""

    channel: str
    user: str
    message_ts: str | None
    created: float
    uses: int = 0


@dataclass
class UploadedFile:
    id: str
    name: str
    length: int
    data: bytes = b""
    title: str | None = None
    shared_in: str | None = None


class Workspace:
    def __init__(
        self,
        *,
        team_id: str,
        team_domain: str,
        bot_token: str,
        scopes: tuple[str, ...],
        clock: Callable[[], float],
    ) -> None:
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_token = bot_token
        self.scopes = scopes
        self.clock = clock
        self.app_id = "A0AMOBRIDGE"
        self.bot_id = "B0AMOBRIDGE"
        self.bot_user_id = "U0AMOBRIDGE"
        self.users: dict[str, SlackUser] = {}
        self.channels: dict[str, Channel] = {}
        self._messages: dict[str, dict[str, SlackMessage]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.modals: dict[str, list[ViewRecord]] = {}
        self.homes: dict[str, ViewRecord] = {}
        self.triggers: dict[str, Trigger] = {}
        self.responses: dict[str, ResponseTarget] = {}
        self.files: dict[str, UploadedFile] = {}
        self.message_watch: Watch[str, SlackMessage] = Watch("bot message")
        self.ephemeral_watch: Watch[str, Ephemeral] = Watch("ephemeral message")
        self.view_watch: Watch[str, ViewRecord] = Watch("view")
        self.trigger_ttl_s = TRIGGER_TTL_S
        self.posted = 0
        self.updated = 0
        self._last_ts = 0.0
        self._serial = 0

    # --- ids --------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial:04d}{secrets.token_hex(3).upper()}"

    def new_ts(self) -> str:
        """A message timestamp: the clock's seconds and six digits, unique and increasing."""
        stamp = max(round(self.clock(), 6), round(self._last_ts + 0.000001, 6))
        self._last_ts = stamp
        return f"{stamp:.6f}"

    # --- people and channels ----------------------------------------------------------------

    def add_user(
        self,
        real_name: str,
        *,
        email: str | None,
        tz: str,
        is_admin: bool,
        is_bot: bool,
        locale: str = "en-US",
    ) -> str:
        user_id = self.new_id("U")
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
        handle = ".".join(real_name.lower().split()) or user_id.lower()
        self.users[user_id] = SlackUser(
            id=user_id, name=handle, real_name=real_name, email=email, tz=tz,
            tz_offset=int(offset.total_seconds()) if offset else 0, is_admin=is_admin,
            is_bot=is_bot, locale=locale,
        )  # fmt: skip
        return user_id

    def set_user(self, user_id: str, **changes: object) -> None:
        self.users[user_id] = dataclasses.replace(self.users[user_id], **changes)  # type: ignore[arg-type]

    def add_channel(self, name: str, members: list[str], bot_member: bool) -> str:
        channel_id = self.new_id("C")
        self.channels[channel_id] = Channel(channel_id, name, set(members), bot_member)
        return channel_id

    def dm(self, user_id: str) -> Channel:
        """The direct message channel between the user and the bot (made on first use)."""
        for channel in self.channels.values():
            if channel.im_user == user_id:
                return channel
        channel = Channel(self.new_id("D"), user_id, {user_id}, True, im_user=user_id)
        self.channels[channel.id] = channel
        return channel

    # --- messages ---------------------------------------------------------------------------

    def post(
        self,
        channel: str,
        text: str,
        blocks: list[JsonDict],
        *,
        user: str | None = None,
        thread_ts: str | None = None,
        files: tuple[JsonDict, ...] = (),
    ) -> SlackMessage:
        from_bot = user is None
        message = SlackMessage(
            channel=channel, ts=self.new_ts(), text=text, blocks=blocks,
            user=self.bot_user_id if from_bot else user, bot_id=self.bot_id if from_bot else None,
            thread_ts=thread_ts, files=files,
        )  # fmt: skip
        self._messages.setdefault(channel, {})[message.ts] = message
        if from_bot:
            self.posted += 1
            self.message_watch.record(channel, message)
        return message

    def message(self, channel: str, ts: str) -> SlackMessage | None:
        return self._messages.get(channel, {}).get(ts)

    def messages(self, channel: str) -> list[SlackMessage]:
        return list(self._messages.get(channel, {}).values())

    def update(self, channel: str, ts: str, text: str, blocks: list[JsonDict]) -> SlackMessage:
        old = self._messages[channel][ts]
        new = dataclasses.replace(
            old, text=text, blocks=blocks,
            edits=(*old.edits, MessageVersion(text=old.text, blocks=old.blocks)),
        )  # fmt: skip
        self._messages[channel][ts] = new
        self.updated += 1
        self.message_watch.record(channel, new)
        return new

    def delete(self, channel: str, ts: str) -> None:
        old = self._messages[channel][ts]
        gone = dataclasses.replace(old, deleted=True)
        self._messages[channel][ts] = gone
        self.message_watch.record(channel, gone)

    def ephemeral(
        self, channel: str, user: str, text: str, blocks: list[JsonDict], via: str
    ) -> Ephemeral:
        note = Ephemeral(
            channel=channel, user=user, ts=self.new_ts(), text=text, blocks=blocks,
            via=via,  # type: ignore[arg-type]  # one of the three, by every caller
        )  # fmt: skip
        self.ephemerals.append(note)
        self.ephemeral_watch.record(user, note)
        return note

    # --- views ------------------------------------------------------------------------------

    def view(self, view_id: str) -> ViewRecord | None:
        for stack in self.modals.values():
            for record in stack:
                if record.id == view_id:
                    return record
        return next((h for h in self.homes.values() if h.id == view_id), None)

    def put_view(self, record: ViewRecord) -> None:
        """Open a modal on top of its user's stack, replace one by id, or publish a Home tab."""
        self.view_watch.record(record.user, record)
        if record.kind == "home":
            self.homes[record.user] = record
            return
        stack = self.modals.setdefault(record.user, [])
        for index, current in enumerate(stack):
            if current.id == record.id:
                stack[index] = record
                return
        stack.append(record)

    def close_views(self, user: str, *, all_of_them: bool) -> None:
        stack = self.modals.get(user, [])
        if all_of_them:
            stack.clear()
        elif stack:
            stack.pop()

    # --- one-time handles -------------------------------------------------------------------

    def new_trigger(self, user: str) -> str:
        trigger_id = (
            f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        )
        self.triggers[trigger_id] = Trigger(user=user, created=time.monotonic())
        return trigger_id

    def use_trigger(self, trigger_id: str) -> str:
        """The user of a fresh trigger, once; else Slack's error code."""
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise LookupError("invalid_trigger_id")
        if trigger.used:
            raise LookupError("exchanged_trigger_id")
        if time.monotonic() - trigger.created > self.trigger_ttl_s:
            raise LookupError("expired_trigger_id")
        trigger.used = True
        return trigger.user

    def new_response_url(self, base: str, channel: str, user: str, message_ts: str | None) -> str:
        key = secrets.token_hex(12)
        self.responses[key] = ResponseTarget(channel, user, message_ts, time.monotonic())
        return f"{base}/_response/{key}"
