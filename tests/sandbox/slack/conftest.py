"""The Slack emulator on loopback, and a real slack_sdk client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import ClientSession
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator

TOKEN = "xoxb-test-token"
SECRET = "test-signing-secret"


@pytest.fixture
async def slack() -> AsyncIterator[SlackEmulator]:
    emulator = SlackEmulator(bot_token=TOKEN, signing_secret=SECRET)
    async with emulator.serve(host="127.0.0.1", port=0):
        yield emulator


@pytest.fixture
async def client(slack: SlackEmulator) -> AsyncIterator[AsyncWebClient]:
    async with ClientSession(trust_env=False) as session:
        yield AsyncWebClient(token=TOKEN, base_url=slack.api_base, session=session)
