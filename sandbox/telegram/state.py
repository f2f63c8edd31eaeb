"""What the emulated Telegram holds for one bot: people, chats, messages, callbacks, commands.

Records are immutable and replaced whole; this class only stores and looks up (behaviour lives
in the API modules and in `people`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import count
from typing import Literal

from sandbox.telegram.records import CallbackAnswer, ChatMessage, FileRecord, JsonDict
from sandbox.telegram.watch import MessageWatch

_TOKEN = re.compile(r"^(\d+):[^\s:]+$")
ChatType = Literal["private", "group", "supergroup"]


@dataclass(frozen=True, slots=True)
class BotIdentity:
    token: str
    id: int
    username: str
    first_name: str

    @classmethod
    def from_token(cls, token: str, username: str, first_name: str) -> BotIdentity:
        match = _TOKEN.match(token)
        if match is None:
            raise ValueError("a bot token looks like '<digits>:<secret>'")
        return cls(token, int(match[1]), username, first_name)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    started: bool = False  # has opened the private chat with the bot (pressed Start)
    blocked: bool = False
    deactivated: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatRecord:
    id: int
    type: ChatType
    title: str | None = None  # groups
    user_id: int | None = None  # private chats: the other side
    members: frozenset[int] = frozenset()
    chat_instance: str
    bot_member: bool = True
    can_post: bool = True  # an admin may take the bot's right to send messages away
    is_forum: bool = False  # a supergroup with topics
    topics: frozenset[int] = frozenset()  # its topics' message_thread_id


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedCallback:
    query_id: str
    chat_id: int
    message_id: int
    user_id: int
    data: str
    issued_at: float
    answered: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    ip_address: str | None


class BotState:
    def __init__(self, bot: BotIdentity, clock: Callable[[], float]) -> None:
        self.bot = bot
        self.clock = clock
        self.users: dict[int, UserRecord] = {}
        self.chats: dict[int, ChatRecord] = {}
        self.messages: dict[int, dict[int, ChatMessage]] = {}
        self.files: dict[str, FileRecord] = {}
        self.callbacks: dict[str, IssuedCallback] = {}
        self.callback_answers: list[CallbackAnswer] = []
        # (scope key, language code) -> commands, as setMyCommands stored them
        self.commands: dict[tuple[str, str], tuple[JsonDict, ...]] = {}
        self.webhook: WebhookConfig | None = None
        self.watch = MessageWatch()
        self.sent = 0
        self.edited = 0
        self.deleted = 0
        self._user_ids = count(100_000_001)
        self._group_ids = count(4_000_000_001)
        self._query_ids = count(4_382_000_000_000_000_001)
        self._file_ids = count(1)
        self._next_message_id: dict[int, int] = {}

    # -- time --

    def now(self) -> float:
        return self.clock()

    def date(self) -> int:
        # A Message with date 0 reads as "inaccessible" to clients: never produce one.
        return max(1, int(self.clock()))

    # -- people and chats --

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None,
        username: str | None,
        language_code: str | None,
        started: bool,
    ) -> int:
        user_id = next(self._user_ids)
        self.users[user_id] = UserRecord(
            id=user_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            started=started,
        )
        self.chats[user_id] = ChatRecord(
            id=user_id, type="private", user_id=user_id, chat_instance=_chat_instance(user_id)
        )
        return user_id

    def add_group(self, title: str, members: frozenset[int], forum: bool = False) -> int:
        """A group; a forum (topics) is a supergroup, its id "-100…" as Telegram gives them."""
        for member in members:
            self.user(member)
        number = next(self._group_ids)
        chat_id = -(1_000_000_000_000 + number) if forum else -number
        self.chats[chat_id] = ChatRecord(
            id=chat_id,
            type="supergroup" if forum else "group",
            title=title,
            members=members,
            chat_instance=_chat_instance(chat_id),
            is_forum=forum,
        )
        return chat_id

    def user(self, user_id: int) -> UserRecord:
        try:
            return self.users[user_id]
        except KeyError:
            raise KeyError(f"no user {user_id}") from None

    def chat(self, chat_id: int) -> ChatRecord:
        try:
            return self.chats[chat_id]
        except KeyError:
            raise KeyError(f"no chat {chat_id}") from None

    def update_user(
        self,
        user_id: int,
        *,
        started: bool | None = None,
        blocked: bool | None = None,
        deactivated: bool | None = None,
    ) -> UserRecord:
        user = self.user(user_id)
        user = replace(
            user,
            started=user.started if started is None else started,
            blocked=user.blocked if blocked is None else blocked,
            deactivated=user.deactivated if deactivated is None else deactivated,
        )
        self.users[user_id] = user
        return user

    # -- messages --

    def next_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def message(self, chat_id: int, message_id: int) -> ChatMessage | None:
        return self.messages.get(chat_id, {}).get(message_id)

    def put_message(self, message: ChatMessage) -> None:
        self.messages.setdefault(message.chat_id, {})[message.message_id] = message
        if message.from_bot:
            self.watch.record(message)

    def transcript(self, chat_id: int) -> list[ChatMessage]:
        return sorted(self.messages.get(chat_id, {}).values(), key=lambda m: m.message_id)

    # -- ids --

    def new_query_id(self) -> str:
        return str(next(self._query_ids))

    def new_file_ids(self) -> tuple[str, str]:
        """(file_id, file_unique_id)."""
        serial = next(self._file_ids)
        return f"BQACAgIAAxk{self.bot.id:x}{serial:08d}", f"AgAD{serial:06d}"


def _chat_instance(chat_id: int) -> str:
    # Stable per chat and unrelated to its id, like Telegram's (a signed 64-bit number).
    return str((chat_id * 0x9E3779B97F4A7C15) % (1 << 63) - (1 << 62))
