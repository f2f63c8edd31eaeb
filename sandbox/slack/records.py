"""What the Slack emulator keeps and reports: frozen records, JSON-ready."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SlackUser:
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

    def to_json(self, team_id: str, *, with_email: bool, with_locale: bool = False) -> JsonDict:
        profile: JsonDict = {"real_name": self.real_name, "display_name": self.real_name}
        if with_email and self.email is not None:
            profile["email"] = self.email
        body: JsonDict = {
            "id": self.id, "team_id": team_id, "name": self.name, "real_name": self.real_name,
            "deleted": self.deleted, "is_bot": self.is_bot, "is_admin": self.is_admin,
            "tz": self.tz, "tz_offset": self.tz_offset, "profile": profile,
        }  # fmt: skip
        if with_locale:
            body["locale"] = self.locale
        return body


@dataclass(frozen=True, slots=True)
class MessageVersion:
    text: str
    blocks: list[JsonDict]


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """A message in a channel as it is now; ``edits`` are its earlier versions, oldest first."""

    channel: str
    ts: str
    text: str
    blocks: list[JsonDict]
    user: str | None  # who posted it (the bot's user id for the app's messages)
    bot_id: str | None = None
    edits: tuple[MessageVersion, ...] = ()
    deleted: bool = False
    thread_ts: str | None = None
    files: tuple[JsonDict, ...] = ()

    @property
    def from_bot(self) -> bool:
        return self.bot_id is not None

    def to_json(self) -> JsonDict:
        body: JsonDict = {"type": "message", "ts": self.ts, "text": self.text,
                          "blocks": self.blocks, "user": self.user}  # fmt: skip
        if self.bot_id is not None:
            body["bot_id"] = self.bot_id
        if self.thread_ts is not None:
            body["thread_ts"] = self.thread_ts
        if self.edits:
            body["edited"] = {"user": self.user, "ts": self.ts}
        if self.files:
            body["files"] = list(self.files)
        return body


@dataclass(frozen=True, slots=True)
class Ephemeral:
    """A message only ``user`` sees, in ``channel``; ``via``: how the app sent it."""

    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JsonDict]
    via: Literal["chat.postEphemeral", "response_url", "ack"]


@dataclass(frozen=True, slots=True)
class ViewRecord:
    """An open modal (of a user's stack) or a user's published Home tab."""

    id: str
    user: str
    kind: Literal["modal", "home"]
    view: JsonDict
    hash: str

    def to_json(self, team_id: str, app_id: str, bot_id: str) -> JsonDict:
        return {
            **self.view, "id": self.id, "team_id": team_id, "hash": self.hash,
            "app_id": app_id, "bot_id": bot_id, "state": {"values": {}},
            "private_metadata": self.view.get("private_metadata", ""),
            "callback_id": self.view.get("callback_id", ""),
        }  # fmt: skip


InteractionKind = Literal["slash_command", "block_actions", "view_submission", "event"]


@dataclass(frozen=True, slots=True)
class Interaction:
    """One request the emulator (as Slack) sent to the app, and what came of it.

    ``failed``: what the user saw was an error (a status other than 200, no answer within the
    3-second acknowledgement limit, or no connection)."""

    kind: InteractionKind
    user: str
    payload: JsonDict
    status: int  # 0: no answer
    body: str
    ack_ms: float
    failed: bool
    trigger_id: str | None = None
    response_url: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # view_submission response_action errors


@dataclass(frozen=True, slots=True)
class RequestRecord:
    method: str
    params: JsonDict
    status: int
    error: str | None  # Slack's error code when ok was false
    at: float  # real (monotonic-free) wall time the emulator took the call


@dataclass(frozen=True, slots=True)
class SlackRateLimits:
    """chat.postMessage per channel as a token bucket; the other methods per minute by tier."""

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
    ratelimited: int
    errors: int
    faults_injected: int
    messages_posted: int
    messages_updated: int
    interactions: int
    failed_interactions: int
