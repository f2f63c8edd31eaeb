"""The Slack emulator on loopback, a real slack_sdk client pointed at it, and a real bolt app
for its people to talk to."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.common.serving import serve_app
from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import SECRET, TOKEN, Seen


@pytest.fixture(autouse=True)
def _no_stray_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """slack_sdk sends even loopback calls through HTTP(S)_PROXY (it ignores NO_PROXY), and
    bolt reads SLACK_SIGNING_SECRET and friends: neither may reach these tests."""
    for name in list(os.environ):
        if name.startswith("SLACK_") or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator(bot_token=TOKEN, signing_secret=SECRET)
    async with emulator.serve(host="127.0.0.1", port=0):
        yield emulator


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as opened:
        yield opened


@pytest.fixture
def client(slack: SlackEmulator, session: ClientSession) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=slack.api_base, session=session)


@pytest.fixture
def ann(slack: SlackEmulator) -> str:
    return slack.add_user("Ann Lee", email="Ann@Example.com", tz="Europe/Berlin")


@pytest.fixture
async def app(
    slack: SlackEmulator, session: ClientSession
) -> AsyncIterator[tuple[AsyncApp, Seen]]:
    """A real bolt app, served by its own aiohttp app on a free port and set as the Request
    URL. A test adds the listeners it needs; ``Seen`` collects what they were given."""
    bolt = AsyncApp(
        signing_secret=SECRET,
        client=AsyncWebClient(token=TOKEN, base_url=slack.api_base, session=session),
    )
    async with serve_app(bolt.web_app(path="/slack/events"), "127.0.0.1", 0) as url:
        slack.request_url = url + "/slack/events"
        yield bolt, Seen()
