"""`TelegramEmulator`: the Python handle on one emulated bot and its HTTP server."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypedDict, Unpack

from aiohttp import web

from sandbox.common.handle import Forward, Knob, Shown
from sandbox.common.ratelimit import limits_from
from sandbox.common.serving import MAX_UPLOAD_BYTES, Emulator
from sandbox.telegram.api.profile import scope_key
from sandbox.telegram.context import CONTEXT, BotContext, Knobs
from sandbox.telegram.control import CONTROL, PEOPLE
from sandbox.telegram.endpoint import bot_endpoint, file_endpoint, run_webhook_reply
from sandbox.telegram.errors import ApiError
from sandbox.telegram.faults import Faults
from sandbox.telegram.params import Params
from sandbox.telegram.people import People
from sandbox.telegram.ratelimit import RateLimiter
from sandbox.telegram.records import (
    CallbackAnswer,
    ChatMessage,
    FileRecord,
    JsonDict,
    RateLimits,
    RequestRecord,
    Stats,
    WebhookDelivery,
    WebhookInfo,
)
from sandbox.telegram.state import BotIdentity, BotState
from sandbox.telegram.updates import LongPoll, UpdateQueue
from sandbox.telegram.watch import MessagePredicate
from sandbox.telegram.webhook import WebhookDeliverer


class Place(TypedDict, total=False):
    """Where a person writes: a group (``chat_id``; their private chat if left out), and in a
    forum the topic (``thread_id``)."""

    chat_id: int | None
    thread_id: int | None


class TelegramEmulator(Emulator):
    """A wire-level Telegram Bot API for one bot, with the people who talk to it.

    `clock` stamps messages and drives callback answer deadlines and rate limits; long polls
    and webhook retries wait in real (event loop) time. `base_url` is for
    `TelegramAPIServer.from_base(base_url)`.
    """

    handle_name = "tg"

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        bot_username: str = "amobridge_bot",
        clock: Callable[[], float] = time.time,
        rate_limits: bool | RateLimits = True,
        *,
        bot_name: str = "amobridge",
        callback_answer_timeout_s: float = 10.0,
    ) -> None:
        self._bot = BotIdentity.from_token(token, bot_username, bot_name)
        self._state = BotState(self._bot, clock)
        self._updates = UpdateQueue()
        self._poll = LongPoll(self._updates)
        self._hooks = WebhookDeliverer(self._updates, clock)
        self._limiter = RateLimiter(limits_from(rate_limits, RateLimits), clock)
        self._knobs = Knobs(callback_answer_timeout_s=callback_answer_timeout_s)
        self._request_log: list[RequestRecord] = []
        self.faults = Faults()
        self._people = People(self._state, self._updates)
        self._context = BotContext(
            state=self._state,
            updates=self._updates,
            poll=self._poll,
            hooks=self._hooks,
            limiter=self._limiter,
            faults=self.faults,
            knobs=self._knobs,
            request_log=self._request_log,
        )
        self._hooks.on_reply = self._run_reply

    async def _run_reply(self, params: Params) -> None:
        await run_webhook_reply(self._context, params)

    # -- identity and serving --

    token = Shown[str]("_bot", "token")
    bot_id = Shown[int]("_bot", "id")
    bot_username = Shown[str]("_bot", "username")

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app[CONTEXT] = self._context
        app[PEOPLE] = self._people
        app.add_routes([
            *CONTROL.routes,
            web.get("/file/bot{token}/{path:.+}", file_endpoint),
            web.route("*", "/bot{token}/{method}", bot_endpoint),
        ])  # fmt: skip
        return app

    async def _started(self, url: str) -> None:
        if self._state.webhook is not None:
            self._hooks.start(self._state.webhook)

    async def _stopping(self) -> None:
        # Held long polls are answered first, so that stopping the server is prompt.
        self._poll.end("closed")
        await self._hooks.aclose()

    # -- people and chats --

    add_user = Forward("_people", People.add_user)
    add_group = Forward("_people", People.add_group)

    add_topic = Forward("_people", People.add_topic)
    set_bot_can_post = Forward("_people", People.set_bot_can_post)

    async def send_text(self, user: int, text: str, **place: Unpack[Place]) -> int:
        """The user writes `text` (to the bot, or in a group, or a topic of a forum); returns
        the message id."""
        return self._people.say(user, text, **place)

    async def send_command(
        self, user: int, command: str, payload: str | None = None, **place: Unpack[Place]
    ) -> int:
        """The user sends "/command payload" (a bot_command entity included)."""
        text = f"/{command.lstrip('/')}" + (f" {payload}" if payload else "")
        return self._people.say(user, text, **place)

    send_document = Forward("_people", People.send_document)
    press_button = Forward("_people", People.press)
    block_bot = Forward("_people", People.block)
    unblock_bot = Forward("_people", People.unblock)
    deactivate_user = Forward("_people", People.deactivate)
    remove_bot_from_group = Forward("_people", People.remove_bot)

    # -- reading back --

    def transcript(self, chat_id: int) -> list[ChatMessage]:
        """Every message of the chat, both sides, oldest first (deleted ones flagged)."""
        return self._state.transcript(chat_id)

    def message(self, chat_id: int, message_id: int) -> ChatMessage:
        found = self._state.message(chat_id, message_id)
        if found is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        return found

    def file(self, file_id: str) -> FileRecord:
        return self._state.files[file_id]

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: MessagePredicate | None = None,
        timeout_s: float = 5.0,
    ) -> ChatMessage:
        """The next bot message event in the chat (a send, an edit or a deletion, as a
        snapshot) that matches `predicate`, after the last one this returned. Events from
        before the call count, so acting first and waiting second never races.
        TimeoutError after `timeout_s`."""
        return await self._state.watch.next(chat_id, predicate, timeout_s)

    @property
    def callback_answers(self) -> list[CallbackAnswer]:
        return list(self._state.callback_answers)

    def commands(
        self, language_code: str | None = None, scope: str | Mapping[str, Any] | None = None
    ) -> list[JsonDict]:
        """The commands setMyCommands stored for exactly this scope and language."""
        try:
            key = (scope_key(self._state, scope), language_code or "")
        except ApiError as exc:
            raise ValueError(exc.description) from None
        return [dict(c) for c in self._state.commands.get(key, ())]

    @property
    def long_poll_waiting(self) -> bool:
        """A getUpdates call is being held open right now."""
        return self._poll.waiting

    @property
    def pending_updates(self) -> list[JsonDict]:
        """Updates not yet confirmed or delivered, oldest first."""
        return [u.to_json() for u in self._updates.head(len(self._updates))]

    # -- webhook --

    @property
    def webhook(self) -> WebhookInfo | None:
        config = self._state.webhook
        if config is None:
            return None
        error = self._hooks.last_error
        return WebhookInfo(
            url=config.url,
            secret_token=config.secret_token,
            max_connections=config.max_connections,
            allowed_updates=tuple(sorted(self._updates.allowed)),
            pending_update_count=len(self._updates),
            last_error_date=error[0] if error else None,
            last_error_message=error[1] if error else None,
            ip_address=config.ip_address,
        )

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        return list(self._hooks.deliveries)

    webhook_retry_delays_s = Knob[tuple[float, ...]](
        "_hooks",
        "retry_delays_s",
        "Pauses between delivery attempts of one update; after the last it is dropped.",
        coerce=tuple,
    )
    webhook_timeout_s = Knob[float]("_hooks", "timeout_s")

    # -- limits and observation --

    @property
    def rate_limits(self) -> RateLimits | None:
        return self._limiter.limits

    @rate_limits.setter
    def rate_limits(self, value: bool | RateLimits | None) -> None:
        """True: Telegram's limits; False/None: off; or a RateLimits. Buckets start full."""
        self._limiter.limits = limits_from(value, RateLimits)

    callback_answer_timeout_s = Knob[float]("_knobs", "callback_answer_timeout_s")

    @property
    def request_log(self) -> list[RequestRecord]:
        return list(self._request_log)

    @property
    def stats(self) -> Stats:
        deliveries = self._hooks.deliveries
        return Stats(
            requests=len(self._request_log),
            by_status=dict(Counter(r.status for r in self._request_log)),
            rate_limited=self._limiter.refused,
            faults_injected=self.faults.injected,
            messages_sent=self._state.sent,
            messages_edited=self._state.edited,
            messages_deleted=self._state.deleted,
            webhook_attempts=len(deliveries),
            webhook_failures=sum(1 for d in deliveries if not d.ok),
        )
