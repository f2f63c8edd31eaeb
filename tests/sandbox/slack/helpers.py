"""Shared test values and builders: Block Kit pieces, Slack's error code out of a refused
call, a place for bolt listeners to drop what they were given, and the people's helpers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator

TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"

Json = dict[str, Any]


def plain(text: str) -> Json:
    return {"type": "plain_text", "text": text}


def section(text: str = "hi", **extra: Any) -> Json:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(action_id: str = "go", value: str | None = "7", text: str = "Go") -> Json:
    element: Json = {"type": "button", "action_id": action_id, "text": plain(text)}
    if value is not None:
        element["value"] = value
    return element


def options(count: int, prefix: str = "o") -> list[Json]:
    return [{"text": plain(f"{prefix}{n}"), "value": f"{prefix}{n}"} for n in range(count)]


def actions(*elements: Json, block_id: str | None = None) -> Json:
    block: Json = {"type": "actions", "elements": list(elements)}
    if block_id is not None:
        block["block_id"] = block_id
    return block


def text_input(block_id: str = "q", action_id: str = "text", **element: Any) -> Json:
    field = {"type": "plain_text_input", "action_id": action_id, **element}
    return {"type": "input", "block_id": block_id, "label": plain("Question"), "element": field}


def modal(*blocks: Json, callback_id: str = "ask", **extra: Any) -> Json:
    return {"type": "modal", "callback_id": callback_id, "title": plain("Ask"),
            "submit": plain("Send"), "blocks": list(blocks) or [section()], **extra}  # fmt: skip


async def error_of(call: Awaitable[Any]) -> str:
    """Slack's error code for a call it refuses (as HTTP 200, ``ok: false``)."""
    with pytest.raises(SlackApiError) as caught:
        await call
    assert caught.value.response.status_code == 200
    return str(caught.value.response["error"])


class Seen:
    """What the bolt listeners were given, in order; ``next()`` waits for the next one."""

    def __init__(self) -> None:
        self.bodies: list[Json] = []
        self._queue: asyncio.Queue[Json] = asyncio.Queue()

    def add(self, body: Json) -> None:
        self.bodies.append(body)
        self._queue.put_nowait(body)

    async def next(self, timeout_s: float = 5.0) -> Json:
        return await asyncio.wait_for(self._queue.get(), timeout_s)


App = tuple[AsyncApp, Seen]  # the bolt app the people talk to, and what it was sent


async def open_modal(slack: SlackEmulator, client: AsyncWebClient, user: str, view: Json) -> str:
    opened = await client.views_open(trigger_id=slack.issue_trigger(user), view=view)
    return str(opened["view"]["id"])


def assert_posted_for_everyone(slack: SlackEmulator, channel: str, person: str, text: str) -> None:
    """An in-channel answer: one message from the bot in the channel, nothing only the
    person sees."""
    [message] = slack.messages(channel)
    assert (message.text, message.from_bot) == (text, True)
    assert slack.ephemerals(person) == []


def recorder(seen: Seen) -> Callable[[AsyncAck, Json], Awaitable[None]]:
    """A listener that acknowledges and keeps the whole request body."""

    async def listener(ack: AsyncAck, body: Json) -> None:
        await ack()
        seen.add(body)

    return listener
