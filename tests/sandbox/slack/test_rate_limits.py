"""Rate limits as Slack applies them: about one message a second per channel with a short
burst, per-minute tiers for the other methods; a refusal is HTTP 429 with an integer
Retry-After, does nothing, and slack_sdk's rate limit retry handler gets through it."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator, SlackRateLimits


async def test_a_fourth_quick_post_to_one_channel_gets_429_with_an_integer_retry_after(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    dm = slack.dm_channel(ann)
    for n in range(3):  # the burst
        await client.chat_postMessage(channel=dm, text=f"m{n}")

    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=dm, text="one too many")

    answer = caught.value.response
    assert (answer.status_code, answer["ok"], answer["error"]) == (429, False, "ratelimited")
    assert answer.headers["Retry-After"] == "1"
    assert [m.text for m in slack.messages(dm)] == ["m0", "m1", "m2"]
    other = slack.dm_channel(slack.add_user("Bob"))
    assert (await client.chat_postMessage(channel=other, text="x"))["ok"] is True  # per channel
    assert (slack.stats.ratelimited, slack.request_log[-2].status) == (1, 429)


async def test_the_retry_handler_waits_out_the_limit(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    slack.rate_limits = SlackRateLimits(post_burst=1)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    await client.chat_postMessage(channel=ann, text="first")

    await client.chat_postMessage(channel=ann, text="after waiting")  # sleeps Retry-After

    assert [m.text for m in slack.messages(slack.dm_channel(ann))] == ["first", "after waiting"]
    assert [r.status for r in slack.request_log] == [200, 429, 200]


async def test_other_methods_are_limited_per_minute_by_tier(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    slack.rate_limits = SlackRateLimits(tier3_per_min=2, tier4_per_min=3)
    for _ in range(2):
        await client.conversations_open(users=ann)  # Tier 3
    with pytest.raises(SlackApiError) as tier3:
        await client.conversations_open(users=ann)
    for _ in range(3):
        await client.users_info(user=ann)  # Tier 4
    with pytest.raises(SlackApiError) as tier4:
        await client.users_info(user=ann)

    assert tier3.value.response.headers["Retry-After"] == "30"  # 2 a minute: one per 30 s
    assert tier4.value.response.headers["Retry-After"] == "20"
    assert (await client.auth_test())["ok"] is True  # not limited here


async def test_users_list_is_tier_2(client: AsyncWebClient) -> None:
    for _ in range(20):
        await client.users_list()

    with pytest.raises(SlackApiError) as caught:
        await client.users_list()
    assert caught.value.response.status_code == 429


async def test_limits_can_be_switched_off(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    slack.rate_limits = False
    for n in range(10):
        await client.chat_postMessage(channel=ann, text=f"m{n}")

    assert slack.stats.ratelimited == 0
    assert slack.rate_limits is None
