"""What the Slack emulator keeps and reports: frozen records, JSON-ready. A change replaces the
whole record, so a snapshot handed out earlier never changes under its holder."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SlackUser:
    """A member of the workspace (or the app's bot user, which has a ``bot_id``)."""

    id: str
    name: str  # the handle ("ivan.petrov")
    real_name: str
    email: str | None
    tz: str
    tz_offset: int
    is_admin: bool = False
    is_bot: bool = False
    deleted: bool = False
    locale: str = "en-US"
    bot_id: str | None = None
    app_id: str | None = None

    def to_json(self, team_id: str, *, with_email: bool, with_locale: bool = False) -> JsonDict:
        """The user object of users.info and users.list; ``profile.email`` only for a token
        with ``users:read.email``, ``locale`` only when asked for (``include_locale``)."""
        profile: JsonDict = {
            "real_name": self.real_name, "real_name_normalized": self.real_name,
            "display_name": self.real_name, "display_name_normalized": self.real_name,
            "team": team_id,
        }  # fmt: skip
        if with_email and self.email is not None:
            profile["email"] = self.email
        if self.bot_id is not None:
            profile |= {"bot_id": self.bot_id, "api_app_id": self.app_id, "always_active": True}
        body: JsonDict = {
            "id": self.id, "team_id": team_id, "name": self.name, "real_name": self.real_name,
            "deleted": self.deleted, "is_bot": self.is_bot, "is_app_user": False,
            "is_admin": self.is_admin, "is_owner": False, "is_primary_owner": False,
            "is_restricted": False, "is_ultra_restricted": False, "tz": self.tz,
            "tz_label": self.tz, "tz_offset": self.tz_offset, "profile": profile,
        }  # fmt: skip
        if with_locale:
            body["locale"] = self.locale
        return body


@dataclass(frozen=True, slots=True)
class MessageVersion:
    """One earlier version of an edited message."""

    text: str
    blocks: list[JsonDict]


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message in a channel as it is now; ``edits`` are its earlier versions, oldest first.

    ``user`` is who posted it: the bot user's id for the app's messages, which also carry
    ``bot_id``."""

    channel: str
    ts: str
    text: str
    blocks: list[JsonDict]
    user: str | None
    bot_id: str | None = None
    edits: tuple[MessageVersion, ...] = ()
    edited_ts: str | None = None
    deleted: bool = False
    thread_ts: str | None = None
    files: tuple[JsonDict, ...] = ()
    metadata: JsonDict | None = None  # chat.postMessage's ``metadata``: event_type, event_payload

    @property
    def from_bot(self) -> bool:
        return self.bot_id is not None

    def to_json(self, *, with_metadata: bool = True) -> JsonDict:
        body: JsonDict = {"type": "message", "ts": self.ts, "text": self.text,
                          "blocks": self.blocks, "user": self.user}  # fmt: skip
        if self.bot_id is not None:
            body["bot_id"] = self.bot_id
        if self.thread_ts is not None:
            body["thread_ts"] = self.thread_ts
        if self.edited_ts is not None:
            body["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.files:
            body["files"] = list(self.files)
        if self.metadata is not None and with_metadata:
            body["metadata"] = self.metadata
        return body


EphemeralSource = Literal["chat.postEphemeral", "response_url", "ack"]


@dataclass(frozen=True, slots=True)
class Ephemeral:
    """A message only ``user`` sees, in ``channel``; ``via``: how the app sent it. A response_url
    may replace it (``edits`` keeps the earlier versions) or delete it."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JsonDict]
    via: EphemeralSource
    edits: tuple[MessageVersion, ...] = ()
    deleted: bool = False


ViewKind = Literal["modal", "home"]


@dataclass(frozen=True, slots=True)
class ViewRecord:
    """An open modal (of a user's stack) or a user's published Home tab, as the app last set it
    (blocks without a block_id got one, as Slack gives them)."""

    id: str
    user: str
    kind: ViewKind
    view: JsonDict
    hash: str
    external_id: str | None = None
    root_view_id: str | None = None
    previous_view_id: str | None = None

    def to_json(
        self, team_id: str, app_id: str, bot_id: str, state: JsonDict | None = None
    ) -> JsonDict:
        """The view object of views.* answers and of interaction payloads."""
        view = self.view
        body: JsonDict = {
            **view, "id": self.id, "team_id": team_id, "type": self.kind,
            "blocks": view.get("blocks") or [],
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""), "state": {"values": state or {}},
            "hash": self.hash, "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "external_id": self.external_id or "", "app_id": app_id,
            "app_installed_team_id": team_id, "bot_id": bot_id,
        }  # fmt: skip
        if self.kind == "modal":
            body |= {"root_view_id": self.root_view_id or self.id,
                     "previous_view_id": self.previous_view_id}  # fmt: skip
        return body


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file the app uploaded (files.getUploadURLExternal, the bytes, then
    files.completeUploadExternal); ``channels``: where it was shared."""

    id: str
    name: str
    title: str
    mimetype: str
    data: bytes
    user: str
    created: int
    channels: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return len(self.data)

    def to_json(self) -> JsonDict:
        return {
            "id": self.id, "created": self.created, "timestamp": self.created,
            "name": self.name, "title": self.title, "mimetype": self.mimetype,
            "filetype": self.name.rpartition(".")[2].lower() if "." in self.name else "",
            "user": self.user, "size": self.size, "is_public": False,
            "channels": list(self.channels),
        }  # fmt: skip


InteractionKind = Literal[
    "slash_command", "block_actions", "view_submission", "view_closed", "event",
    "url_verification",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Interaction:
    """One request the emulator (as Slack) sent to the app's Request URL, and what came of it.

    ``payload`` is what was sent: the form fields of a slash command, the ``payload`` JSON of an
    interaction, the Events API body. ``failed``: the user saw an error, because the app
    answered a status other than 200, did not answer within the acknowledgement limit (3 s),
    could not be reached, or answered something Slack refuses; ``failure`` says which."""

    kind: InteractionKind
    user: str
    payload: JsonDict
    status: int  # 0: no answer
    body: str
    ack_ms: float
    failed: bool
    trigger_id: str | None = None
    response_url: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # a view_submission's "errors" answer
    failure: str | None = None
    at: float = 0.0  # wall time it was sent


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One Web API call: its parameters as merged (the token left out), the HTTP status, and
    Slack's error code when ``ok`` was false."""

    method: str
    params: JsonDict
    status: int  # 0: a "timeout" fault dropped the connection
    error: str | None
    at: float  # wall time (time.time()) the emulator took the call


@dataclass(frozen=True, slots=True)
class SlackRateLimits:
    """chat.postMessage per channel as a token bucket (``post_burst`` at once, then
    ``post_per_s``); the other methods per workspace by tier, as buckets holding a minute's
    worth that refill evenly."""

    post_burst: int = 3
    post_per_s: float = 1.0
    tier2_per_min: int = 20
    tier3_per_min: int = 50
    tier4_per_min: int = 100


@dataclass(frozen=True, slots=True)
class Signing:
    """How the next requests to the app are signed: with another secret, with a timestamp
    ``age_s`` seconds old, or with the body changed after signing."""

    secret: str | None = None
    age_s: float = 0.0
    tamper: bool = False


@dataclass(frozen=True, slots=True)
class Stats:
    requests: int
    by_method: dict[str, int]
    ratelimited: int  # 429 answers: the emulated limits' refusals and injected 429s
    errors: int  # ok: false answers other than 429s
    faults_injected: int
    messages_posted: int
    messages_updated: int
    messages_deleted: int
    ephemerals: int
    views_opened: int
    interactions: int
    failed_interactions: int
