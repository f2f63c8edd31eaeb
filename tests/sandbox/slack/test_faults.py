"""Injected faults: the next calls (of one method, or any) answer 429, 500, 503, a Slack
error code, or nothing at all; a faulted call does nothing."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import TOKEN, error_of


async def test_server_errors_then_calls_work_again(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    slack.faults.add("500", method="chat.postMessage")
    slack.faults.add("503")
    statuses = []
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel=ann, text="x")
        statuses.append(caught.value.response.status_code)

    assert statuses == [500, 503]
    assert slack.messages(slack.dm_channel(ann)) == []  # a faulted call does nothing
    assert (await client.chat_postMessage(channel=ann, text="x"))["ok"] is True
    assert (slack.stats.faults_injected, slack.faults.pending) == (2, 0)


async def test_an_error_code_fault_answers_ok_false_for_its_method_only(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    slack.faults.add("account_inactive", count=2, method="users.info")

    assert (await client.auth_test())["ok"] is True
    assert await error_of(client.users_info(user=ann)) == "account_inactive"
    assert await error_of(client.users_info(user=ann)) == "account_inactive"
    assert (await client.users_info(user=ann))["ok"] is True


async def test_a_429_fault_carries_its_retry_after(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    slack.faults.add("429", retry_after=7)

    with pytest.raises(SlackApiError) as caught:
        await client.auth_test()

    answer = caught.value.response
    assert (answer.status_code, answer["error"], answer.headers["Retry-After"]) == (
        429, "ratelimited", "7",
    )  # fmt: skip
    assert slack.stats.ratelimited == 1


async def test_a_timeout_fault_holds_the_call_past_the_clients_patience(
    slack: SlackEmulator,
) -> None:
    slack.faults.add("timeout", delay_s=2.0)
    # No retry handlers: slack_sdk's default one would send the dropped call again.
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=0.2)) as impatient:
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_base, session=impatient,
                                retry_handlers=[])  # fmt: skip
        with pytest.raises((TimeoutError, asyncio.TimeoutError)):
            await client.auth_test()
        assert (await client.auth_test())["ok"] is True
    assert slack.faults.pending == 0


def test_a_fault_needs_a_kind_and_a_count() -> None:
    emulator = SlackEmulator()
    with pytest.raises(ValueError, match="count"):
        emulator.faults.add("500", count=0)
