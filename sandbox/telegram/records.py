"""The emulator's values: what tests read back. Immutable; a change replaces the whole record."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

JsonDict = dict[str, Any]
FileKind = Literal["photo", "document"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FileRecord:
    """An uploaded file, bytes and name kept as received."""

    file_id: str
    file_unique_id: str
    kind: FileKind
    file_name: str
    mime_type: str
    data: bytes
    width: int = 0  # photos only
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def file_path(self) -> str:
        """Where getFile says it can be downloaded: ``/file/bot<token>/<file_path>``."""
        return f"{self.kind}s/file_{self.file_unique_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatMessage:
    """One message of a chat transcript, as it stands (or stood, for a snapshot)."""

    chat_id: int
    message_id: int
    from_bot: bool
    sender_id: int
    text: str  # plain text after parsing; the caption for a photo or document
    html: str | None  # the raw text as sent with parse_mode=HTML, else None
    entities: tuple[JsonDict, ...] = ()
    reply_markup: JsonDict | None = None  # as sent (inline or reply keyboard)
    date: int
    edit_date: int | None = None
    edits: tuple[str, ...] = ()  # earlier plain texts, oldest first
    deleted: bool = False
    photo: FileRecord | None = None
    document: FileRecord | None = None
    thread_id: int | None = None  # the forum topic it is in (message_thread_id)

    def __post_init__(self) -> None:
        # The caller's dicts must not alias a stored message.
        object.__setattr__(self, "entities", tuple(copy.deepcopy(e) for e in self.entities))
        object.__setattr__(self, "reply_markup", copy.deepcopy(self.reply_markup))

    @property
    def photo_name(self) -> str | None:
        return None if self.photo is None else self.photo.file_name

    @property
    def document_name(self) -> str | None:
        return None if self.document is None else self.document.file_name

    @property
    def inline_buttons(self) -> tuple[JsonDict, ...]:
        """Every inline keyboard button, row by row."""
        if self.reply_markup is None:
            return ()
        rows = self.reply_markup.get("inline_keyboard")
        if not isinstance(rows, list):
            return ()
        return tuple(
            b for row in rows if isinstance(row, list) for b in row if isinstance(b, dict)
        )

    @property
    def callback_data(self) -> tuple[str, ...]:
        """The callback_data of every inline button, row by row."""
        found = (b.get("callback_data") for b in self.inline_buttons)
        return tuple(data for data in found if isinstance(data, str))


@dataclass(frozen=True, slots=True, kw_only=True)
class CallbackAnswer:
    """One answerCallbackQuery call for a query the emulator issued; refused calls included."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    answered_at: float
    late: bool  # after callback_answer_timeout_s: Telegram refused it
    repeated: bool  # the query had already been answered: refused as well

    @property
    def accepted(self) -> bool:
        return not (self.late or self.repeated)


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRecord:
    method: str  # as named in the URL
    chat_id: int | None
    status: int  # 0: dropped unanswered (an injected "timeout")
    at: float
    description: str | None = None  # the error description, for refused calls


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookInfo:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: tuple[str, ...]
    pending_update_count: int
    last_error_date: int | None = None
    last_error_message: str | None = None
    ip_address: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    """One POST of an update to the webhook."""

    update_id: int
    url: str
    attempt: int
    status: int | None  # None: no HTTP answer (refused, reset or timed out)
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status <= 299


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimits:
    """Telegram's send limits (Bot FAQ): per chat about 1 msg/s with a short burst, 20 msg/min
    per group, about 30 msg/s in all. Sends and edits count."""

    per_chat_per_s: float = 1.0
    per_chat_burst: int = 3
    group_per_minute: int = 20
    global_per_s: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    requests: int
    by_status: Mapping[int, int] = field(default_factory=dict)
    rate_limited: int = 0  # 429s from the rate limiter (injected ones are in faults_injected)
    faults_injected: int = 0
    messages_sent: int = 0
    messages_edited: int = 0
    messages_deleted: int = 0
    webhook_attempts: int = 0
    webhook_failures: int = 0

    @property
    def too_many_requests(self) -> int:
        """Every 429 answered, injected or not."""
        return self.by_status.get(429, 0)
