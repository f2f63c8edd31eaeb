"""The Slack Web API as amobridge uses it: slack_sdk's client, typed errors, no ambient config.

slack_sdk reads ``HTTPS_PROXY``/``HTTP_PROXY`` from the environment and ignores ``NO_PROXY``, so
a proxy variable meant for something else would route every call (loopback ones included)
through it. The clients made here never use a proxy from the environment.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import Any, Literal

from aiohttp import ClientError, ClientSession
from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core import Value
from bot.people import MessengerAccount
from integrations.slack.errors import SlackError, slack_error

log = logging.getLogger(__name__)

JsonDict = dict[str, Any]
# Where the app stands in a channel an admin subscribes "to here".
Presence = Literal["member", "joined", "private", "archived"]
DEFAULT_API_BASE = "https://slack.com/api/"
# How far back the outbox looks for a message it may have posted, a page of history at a time.
HISTORY_PAGE = 200
HISTORY_PAGES = 3
# The event_type of the metadata that tags each message with its outbox item.
OUTBOX_EVENT = "amobridge_outbox"


class _ConnectionRetry(AsyncConnectionErrorRetryHandler):
    """slack_sdk's retry after a dropped connection, except for chat.postMessage: a post whose
    answer was lost may be in the channel already, so the outbox looks before posting again
    rather than slack_sdk posting a second copy blind."""

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if request.url.rstrip("/").endswith("/chat.postMessage"):
            return False
        return await super()._can_retry_async(
            state=state, request=request, response=response, error=error
        )


def _retries() -> list[AsyncRetryHandler]:
    """A 429 is waited out (its Retry-After) and tried again, twice at most; a dropped
    connection once (but a post: ``_ConnectionRetry``). Replies through a response_url and Web API
    calls alike."""
    return [
        _ConnectionRetry(max_retry_count=1),
        AsyncRateLimitErrorRetryHandler(max_retry_count=2),
    ]


def web_client(
    token: str | None, api_base: str = DEFAULT_API_BASE, *, session: ClientSession | None = None
) -> AsyncWebClient:
    """A Web API client: a 429 is waited out (Retry-After) and tried again (``_retries``).

    ``session``: one aiohttp session for every call (slack_sdk opens one per call without it).
    """
    client = AsyncWebClient(
        token=token,
        base_url=api_base if api_base.endswith("/") else api_base + "/",
        session=session,
        timeout=15,
        retry_handlers=_retries(),
    )
    client.proxy = None  # the constructor took it from the environment (see the module doc)
    return client


class BotIdentity(Value):
    """Who the app is in the workspace (``auth.test``)."""

    team_id: str
    team: str
    bot_user_id: str
    bot_id: str | None = None
    url: str | None = None


class SlackApi:
    """The calls the Slack handlers make; every failure a ``SlackError``."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._identity: BotIdentity | None = None
        self._dms: dict[str, str] = {}
        self._locales: dict[str, str | None] = {}

    async def _call(self, method: str, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
        try:
            return await call
        except SlackClientError as exc:
            raise slack_error(method, exc) from None
        except (OSError, TimeoutError, ClientError) as exc:
            # ClientError: a connection dropped before the answer (not an OSError in aiohttp).
            raise SlackError(method, "network") from exc

    async def identity(self) -> BotIdentity:
        """``auth.test``, asked once: the token cannot change while the service runs."""
        if self._identity is None:
            answer = await self._call("auth.test", self.client.auth_test())
            self._identity = BotIdentity(
                team_id=answer["team_id"], team=answer.get("team") or "",
                bot_user_id=answer["user_id"], bot_id=answer.get("bot_id"), url=answer.get("url"),
            )  # fmt: skip
        return self._identity

    # --- people (the AccountBook port of bot.people.email_linking) ------------------------------

    async def account(self, account_id: str) -> MessengerAccount | None:
        try:
            answer = await self._call("users.info", self.client.users_info(user=account_id))
        except SlackError as exc:
            if exc.code in ("user_not_found", "users_not_found"):
                return None
            raise
        return _account(answer["user"])

    async def locale(self, account_id: str) -> str | None:
        """The user's Slack language ("en-US"), for people amobridge does not know yet."""
        if account_id not in self._locales:
            try:
                answer = await self._call(
                    "users.info", self.client.users_info(user=account_id, include_locale=True)
                )
            except SlackError:
                return None
            self._locales[account_id] = answer["user"].get("locale")
        return self._locales[account_id]

    async def accounts(self) -> list[MessengerAccount]:
        found: list[MessengerAccount] = []
        cursor: str | None = None
        while True:
            answer = await self._call(
                "users.list", self.client.users_list(limit=200, cursor=cursor)
            )
            found += [_account(member) for member in answer.get("members") or []]
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return found

    async def open_dm(self, account_id: str) -> str:
        if account_id not in self._dms:
            answer = await self._call(
                "conversations.open", self.client.conversations_open(users=account_id)
            )
            self._dms[account_id] = answer["channel"]["id"]
        return self._dms[account_id]

    async def enter(self, channel: str) -> Presence:
        """Make sure the app is in ``channel``, joining it if it is public. "private": a
        private channel it was not invited to (Slack hides those from it)."""
        try:
            answer = await self._call("conversations.info",
                                      self.client.conversations_info(channel=channel))  # fmt: skip
        except SlackError as exc:
            if exc.code == "channel_not_found":
                return "private"
            raise
        found = answer["channel"]
        if found.get("is_archived"):
            return "archived"
        if found.get("is_member"):
            return "member"
        await self._call("conversations.join", self.client.conversations_join(channel=channel))
        return "joined"

    # --- messages and views --------------------------------------------------------------

    async def post(
        self, channel: str, text: str, blocks: list[JsonDict], *, tag: str | None = None
    ) -> str:
        """Post; ``tag`` goes into the message's metadata, so ``find_tagged`` can find it."""
        metadata = None if tag is None else {"event_type": OUTBOX_EVENT,
                                             "event_payload": {"item": tag}}  # fmt: skip
        answer = await self._call(
            "chat.postMessage",
            self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False,
                metadata=metadata,
            ),
        )  # fmt: skip
        return str(answer["ts"])

    async def find_tagged(self, channel: str, tag: str, since: float) -> str | None:
        """The ts of the app's message in ``channel`` posted with ``tag`` at ``since`` or
        later (conversations.history, newest first), None if there is none."""
        cursor: str | None = None
        for _ in range(HISTORY_PAGES):
            answer = await self._call(
                "conversations.history",
                self.client.conversations_history(
                    channel=channel, oldest=f"{since:.6f}", inclusive=True,
                    limit=HISTORY_PAGE, include_all_metadata=True, cursor=cursor,
                ),
            )  # fmt: skip
            for message in answer.get("messages") or []:
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == OUTBOX_EVENT and payload.get("item") == tag:
                    return str(message["ts"])
            cursor = (answer.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return None
        return None

    async def update(self, channel: str, ts: str, text: str, blocks: list[JsonDict]) -> None:
        await self._call(
            "chat.update",
            self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks),
        )

    async def ephemeral(self, channel: str, user: str, text: str) -> None:
        await self._call(
            "chat.postEphemeral",
            self.client.chat_postEphemeral(channel=channel, user=user, text=text),
        )

    async def respond(
        self, response_url: str, text: str, blocks: list[JsonDict] | None = None
    ) -> None:
        """An ephemeral answer through an interaction's response_url (works in any channel)."""
        webhook = AsyncWebhookClient(
            response_url, timeout=15, session=self.client.session, retry_handlers=_retries()
        )
        webhook.proxy = None  # as for the Web API client (see the module doc)
        try:
            answer = await webhook.send(text=text, blocks=blocks, response_type="ephemeral")
        except (OSError, TimeoutError) as exc:
            raise SlackError("response_url", "network") from exc
        if answer.status_code == 429:  # still limited after the retries waited it out
            header = answer.headers.get("retry-after") or answer.headers.get("Retry-After")
            waited = float(header) if header and str(header).isdigit() else 1.0
            raise SlackError("response_url", "ratelimited", waited)
        if answer.status_code != 200:
            raise SlackError("response_url", answer.body or f"http_{answer.status_code}")

    async def upload(self, channel: str, filename: str, content: bytes, comment: str) -> None:
        """A file shared into ``channel`` (files.getUploadURLExternal, the bytes, then
        files.completeUploadExternal: slack_sdk's files_upload_v2 does the three steps)."""
        await self._call(
            "files.completeUploadExternal",
            self.client.files_upload_v2(
                channel=channel, filename=filename, title=filename, content=content,
                initial_comment=comment, request_file_info=False,
            ),
        )  # fmt: skip

    async def open_modal(self, trigger_id: str, view: JsonDict) -> None:
        await self._call("views.open", self.client.views_open(trigger_id=trigger_id, view=view))

    async def publish_home(self, user_id: str, view: JsonDict) -> None:
        await self._call("views.publish", self.client.views_publish(user_id=user_id, view=view))


def _account(user: JsonDict) -> MessengerAccount:
    profile = user.get("profile") or {}
    return MessengerAccount(
        account_id=user["id"],
        name=profile.get("real_name") or user.get("real_name") or user.get("name") or user["id"],
        email=profile.get("email") or None,
        is_bot=bool(user.get("is_bot")) or user["id"] == "USLACKBOT",
        deleted=bool(user.get("deleted")),
    )
