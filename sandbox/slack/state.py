"""The workspace: its people and the app's bot user, channels and direct messages, messages with
their edits, ephemeral messages, views (modal stacks and Home tabs), files, and the one-time
handles interactions carry. Message timestamps come from the emulator's clock."""

from __future__ import annotations

import dataclasses
import hashlib
import mimetypes
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo

from sandbox.slack.handles import ResponseUrls, Triggers
from sandbox.slack.records import (
    Ephemeral,
    EphemeralSource,
    FileRecord,
    JsonDict,
    MessageVersion,
    SlackMessage,
    SlackUser,
    ViewRecord,
)
from sandbox.watch import Watch

DEFAULT_SCOPES = (
    "chat:write", "im:write", "users:read", "users:read.email", "commands", "files:write",
    "channels:read", "groups:read", "channels:join",
    "im:history", "channels:history",
)  # fmt: skip
SLACKBOT = "USLACKBOT"
_APP_ID, _BOT_ID = "A0AMOBRIDGE", "B0AMOBRIDGE"  # the installed app and its bot
V = TypeVar("V")
MAX_MODAL_STACK = 3  # a person has at most three modals open (views.push says so past that)


@dataclass
class Channel:
    id: str
    name: str
    members: set[str] = field(default_factory=set)
    bot_member: bool = True
    is_private: bool = False  # a private channel: the app joins only when a member invites it
    is_archived: bool = False
    im_user: str | None = None  # for a direct message with the bot: the person
    opened: bool = False  # conversations.open has been called for this DM

    @property
    def is_im(self) -> bool:
        return self.im_user is not None


@dataclass
class Upload:
    """A file between files.getUploadURLExternal and files.completeUploadExternal."""

    id: str
    name: str
    length: int
    data: bytes | None = None


def _known(table: Mapping[str, V], key: str, what: str) -> V:
    """``table[key]``, or a KeyError the control API shows as "unknown <what> <key>"."""
    found = table.get(key)
    if found is None:
        raise KeyError(f"{what} {key}")
    return found


def _tz_offset(tz: str) -> int:
    offset = datetime.now(ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset else 0


def _bot_user() -> SlackUser:
    return SlackUser(
        id="U0AMOBRIDGE", name="amobridge", real_name="amobridge", email=None, tz="UTC",
        tz_offset=0, is_bot=True, bot_id=_BOT_ID, app_id=_APP_ID,
    )  # fmt: skip


def _slackbot() -> SlackUser:
    # Slackbot is in every workspace's member list (and, famously, has is_bot false).
    return SlackUser(id=SLACKBOT, name="slackbot", real_name="Slackbot", email=None, tz="UTC",
                     tz_offset=0)  # fmt: skip


@dataclass(eq=False, kw_only=True)
class Workspace:
    """The workspace and its installed app: the people, channels, messages, views and files,
    and the counts the stats show. Only the first five fields are given; the rest start empty."""

    team_id: str
    team_domain: str
    bot_token: str
    scopes: tuple[str, ...]
    clock: Callable[[], float]
    app_id: str = field(init=False, default=_APP_ID)
    bot_id: str = field(init=False, default=_BOT_ID)
    bot: SlackUser = field(init=False, default_factory=_bot_user)
    slackbot: SlackUser = field(init=False, default_factory=_slackbot)
    users: dict[str, SlackUser] = field(init=False, default_factory=dict)  # the people
    channels: dict[str, Channel] = field(init=False, default_factory=dict)
    _messages: dict[str, dict[str, SlackMessage]] = field(init=False, default_factory=dict)
    _ephemerals: dict[tuple[str, str, str], Ephemeral] = field(init=False, default_factory=dict)
    modals: dict[str, list[ViewRecord]] = field(init=False, default_factory=dict)
    homes: dict[str, ViewRecord] = field(init=False, default_factory=dict)
    uploads: dict[str, Upload] = field(init=False, default_factory=dict)
    files: dict[str, FileRecord] = field(init=False, default_factory=dict)
    triggers: Triggers = field(init=False, default_factory=Triggers)
    responses: ResponseUrls = field(init=False, default_factory=ResponseUrls)
    message_watch: Watch[str, SlackMessage] = field(
        init=False, default_factory=partial(Watch, "bot message")
    )
    ephemeral_watch: Watch[str, Ephemeral] = field(
        init=False, default_factory=partial(Watch, "ephemeral message")
    )
    view_watch: Watch[str, ViewRecord] = field(init=False, default_factory=partial(Watch, "view"))
    # What chat.postMessage answers for the DM of a deactivated person (None: it posts).
    deactivated_dm_error: str | None = field(init=False, default="is_archived")
    posted: int = field(init=False, default=0)
    updated: int = field(init=False, default=0)
    deleted: int = field(init=False, default=0)
    ephemerals_shown: int = field(init=False, default=0)
    views_opened: int = field(init=False, default=0)
    _last_ts: float = field(init=False, default=0.0)
    _serial: int = field(init=False, default=0)

    @property
    def bot_user_id(self) -> str:
        return self.bot.id

    # --- ids --------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        """An id shaped like Slack's: a type letter, then upper-case letters and digits."""
        self._serial += 1
        return f"{prefix}{self._serial:04d}{secrets.token_hex(3).upper()}"

    def new_ts(self) -> str:
        """A message timestamp: the clock's seconds and six digits, unique and increasing."""
        stamp = max(round(self.clock(), 6), round(self._last_ts + 0.000001, 6))
        self._last_ts = stamp
        return f"{stamp:.6f}"

    # --- people -----------------------------------------------------------------------------

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
        handle = ".".join(real_name.lower().split()) or user_id.lower()
        self.users[user_id] = SlackUser(
            id=user_id, name=handle, real_name=real_name, email=email, tz=tz,
            tz_offset=_tz_offset(tz), is_admin=is_admin, is_bot=is_bot, locale=locale,
        )  # fmt: skip
        return user_id

    def person(self, user_id: str) -> SlackUser:
        """A person of the workspace; KeyError for anyone else."""
        return _known(self.users, user_id, "user")

    def set_deleted(self, user_id: str, deleted: bool) -> None:
        self.users[user_id] = dataclasses.replace(self.person(user_id), deleted=deleted)

    def anyone(self, user_id: str) -> SlackUser | None:
        """A person, the app's bot user or Slackbot."""
        if user_id == self.bot.id:
            return self.bot
        if user_id == SLACKBOT:
            return self.slackbot
        return self.users.get(user_id)

    def everyone(self) -> list[SlackUser]:
        """users.list's members, by id: the people, Slackbot and the app's bot user."""
        return sorted([*self.users.values(), self.slackbot, self.bot], key=lambda u: u.id)

    # --- channels ---------------------------------------------------------------------------

    def add_channel(
        self, name: str, members: list[str], bot_member: bool, private: bool = False
    ) -> str:
        for user in members:
            self.person(user)
        channel_id = self.new_id("C")  # private channels are "C…" too nowadays
        self.channels[channel_id] = Channel(channel_id, name.lstrip("#"), set(members),
                                            bot_member, is_private=private)  # fmt: skip
        return channel_id

    def channel(self, channel_id: str) -> Channel:
        return _known(self.channels, channel_id, "channel")

    def dm(self, user_id: str) -> Channel:
        """The direct message channel between the person and the bot (made on first use)."""
        self.person(user_id)
        for channel in self.channels.values():
            if channel.im_user == user_id:
                return channel
        channel = Channel(self.new_id("D"), user_id, {user_id}, True, im_user=user_id)
        self.channels[channel.id] = channel
        return channel

    def resolve(self, ref: str) -> Channel | None:
        """A channel named as Slack accepts it: its id, a person's id (their DM with the app),
        or its name ("sales" or "#sales")."""
        if ref in self.channels:
            return self.channels[ref]
        if ref in self.users:
            return self.dm(ref)
        name = ref.removeprefix("#")
        return next((c for c in self.channels.values() if not c.is_im and c.name == name), None)

    def can_see(self, user: str, channel: Channel) -> bool:
        """An active person who is in the channel (a DM: its person)."""
        person = self.users.get(user)
        return person is not None and not person.deleted and user in channel.members

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
        metadata: JsonDict | None = None,
    ) -> SlackMessage:
        """A message in ``channel``: the bot's, or ``user``'s."""
        from_bot = user is None
        message = SlackMessage(
            channel=channel, ts=self.new_ts(), text=text, blocks=blocks,
            user=self.bot.id if from_bot else user, bot_id=self.bot_id if from_bot else None,
            thread_ts=thread_ts, files=files, metadata=metadata,
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
            old, text=text, blocks=blocks, edited_ts=self.new_ts(),
            edits=(*old.edits, MessageVersion(text=old.text, blocks=old.blocks)),
        )  # fmt: skip
        self._messages[channel][ts] = new
        self.updated += 1
        self.message_watch.record(channel, new)
        return new

    def delete(self, channel: str, ts: str) -> None:
        gone = dataclasses.replace(self._messages[channel][ts], deleted=True)
        self._messages[channel][ts] = gone
        self.deleted += 1
        self.message_watch.record(channel, gone)

    # --- ephemeral messages -----------------------------------------------------------------

    def ephemeral(
        self, channel: str, user: str, text: str, blocks: list[JsonDict], via: EphemeralSource
    ) -> Ephemeral:
        note = Ephemeral(channel=channel, user=user, ts=self.new_ts(), text=text, blocks=blocks,
                         via=via)  # fmt: skip
        self._ephemerals[(channel, user, note.ts)] = note
        self.ephemerals_shown += 1
        self.ephemeral_watch.record(user, note)
        return note

    def find_ephemeral(self, channel: str, user: str, ts: str) -> Ephemeral | None:
        return self._ephemerals.get((channel, user, ts))

    def ephemerals(self, user: str, channel: str | None = None) -> list[Ephemeral]:
        """What ``user`` was shown, as it is now (deleted ones flagged), oldest first."""
        return [e for (c, u, _), e in self._ephemerals.items()
                if u == user and (channel is None or c == channel)]  # fmt: skip

    def change_ephemeral(
        self, old: Ephemeral, text: str, blocks: list[JsonDict], *, deleted: bool = False
    ) -> Ephemeral:
        """A response_url replaced (or deleted) an ephemeral message."""
        new = dataclasses.replace(
            old, text=text, blocks=blocks, deleted=deleted,
            edits=(*old.edits, MessageVersion(text=old.text, blocks=old.blocks)),
        )  # fmt: skip
        self._ephemerals[(old.channel, old.user, old.ts)] = new
        self.ephemeral_watch.record(old.user, new)
        return new

    # --- views ------------------------------------------------------------------------------

    def new_hash(self) -> str:
        digest = hashlib.sha1(secrets.token_bytes(8)).hexdigest()[:16]
        return f"{int(self.clock())}.{digest}"

    def view(self, view_id: str) -> ViewRecord | None:
        for stack in self.modals.values():
            for record in stack:
                if record.id == view_id:
                    return record
        return next((h for h in self.homes.values() if h.id == view_id), None)

    def view_by_external_id(self, external_id: str) -> ViewRecord | None:
        every = [*(r for s in self.modals.values() for r in s), *self.homes.values()]
        return next((r for r in every if r.external_id == external_id), None)

    def top_modal(self, user: str) -> ViewRecord | None:
        stack = self.modals.get(user)
        return stack[-1] if stack else None

    def open_modal(self, record: ViewRecord) -> None:
        """A new modal, the root of the person's stack (one that was open closes)."""
        self.modals[record.user] = [record]
        self.views_opened += 1
        self.view_watch.record(record.user, record)

    def push_modal(self, record: ViewRecord) -> None:
        self.modals.setdefault(record.user, []).append(record)
        self.views_opened += 1
        self.view_watch.record(record.user, record)

    def replace_view(self, record: ViewRecord) -> None:
        """A new version of an open modal (same id, same place in its stack) or a Home tab."""
        if record.kind == "home":
            self.homes[record.user] = record
        else:
            stack = self.modals.get(record.user, [])
            stack[:] = [record if v.id == record.id else v for v in stack]
        self.view_watch.record(record.user, record)

    def close_modals(self, user: str, *, all_of_them: bool) -> None:
        """The top modal closes (the one under it shows again), or the whole stack does."""
        stack = self.modals.get(user, [])
        if all_of_them:
            stack.clear()
        elif stack:
            stack.pop()

    # --- files ------------------------------------------------------------------------------

    def start_upload(self, name: str, length: int) -> Upload:
        upload = Upload(id=self.new_id("F"), name=name, length=length)
        self.uploads[upload.id] = upload
        return upload

    def complete_upload(self, upload: Upload, title: str) -> FileRecord:
        assert upload.data is not None
        del self.uploads[upload.id]
        record = FileRecord(
            id=upload.id, name=upload.name, title=title, data=upload.data, user=self.bot.id,
            mimetype=mimetypes.guess_type(upload.name)[0] or "application/octet-stream",
            created=int(self.clock()),
        )  # fmt: skip
        self.files[record.id] = record
        return record

    def share_file(self, file_id: str, channel: str) -> FileRecord:
        record = self.files[file_id]
        record = dataclasses.replace(record, channels=(*record.channels, channel))
        self.files[file_id] = record
        return record
