"""The emulator's Web API through slack_sdk's real client: answers, errors, Block Kit limits,
scopes, rate limits, faults, one-time triggers and response URLs, file uploads."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import ClientSession
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from sandbox.slack import SlackEmulator, SlackRateLimits
from tests.sandbox.slack.conftest import TOKEN

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}


def actions(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    return [SECTION, {"type": "actions", "elements": list(elements)}]


def button(value: str = "v", action_id: str = "a", text: str = "Go") -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "value": value,
            "text": {"type": "plain_text", "text": text}}  # fmt: skip


def options(count: int, value_size: int = 3) -> list[dict[str, Any]]:
    return [{"text": {"type": "plain_text", "text": f"o{n}"}, "value": f"{n}".zfill(value_size)}
            for n in range(count)]  # fmt: skip


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as caught:
        await call
    assert caught.value.response.status_code == 200  # Slack's errors are HTTP 200, ok: false
    return str(caught.value.response["error"])


async def test_it_identifies_the_app_and_its_scopes(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    answer = await client.auth_test()

    assert (answer["team_id"], answer["user_id"]) == (slack.team_id, slack.bot_user_id)
    assert "users:read.email" in answer.headers["x-oauth-scopes"]


async def test_it_refuses_a_missing_or_wrong_token(slack: SlackEmulator) -> None:
    async with ClientSession(trust_env=False) as session:
        wrong = AsyncWebClient(token="xoxb-wrong", base_url=slack.api_base, session=session)
        assert await error_of(wrong.auth_test()) == "invalid_auth"
        async with session.post(slack.api_base + "auth.test") as response:
            assert (response.status, (await response.json())["error"]) == (200, "not_authed")


async def test_it_posts_in_a_dm_and_keeps_each_version_of_a_message(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    ann = slack.add_user("Ann", email="ann@x.example")
    dm = (await client.conversations_open(users=ann))["channel"]["id"]
    assert (await client.conversations_open(users=ann))["channel"]["id"] == dm

    posted = await client.chat_postMessage(channel=dm, text="first", blocks=actions(button()))
    await client.chat_update(channel=dm, ts=posted["ts"], text="second", blocks=[SECTION])

    [message] = slack.messages(dm)
    assert (message.ts, message.text, message.from_bot) == (posted["ts"], "second", True)
    assert [v.text for v in message.edits] == ["first"]


async def test_it_takes_form_query_and_json_inputs_alike(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    ann = slack.add_user("Ann", email="ann@x.example")
    dm = slack.dm_channel(ann)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with ClientSession(trust_env=False) as session:
        form = {"channel": dm, "text": "from a form", "blocks": json.dumps([SECTION])}
        async with session.post(slack.api_base + "chat.postMessage", data=form,
                                headers=headers) as response:  # fmt: skip
            assert (await response.json())["ok"] is True
        async with session.get(slack.api_base + "users.info", params={"user": ann},
                               headers=headers) as response:  # fmt: skip
            assert (await response.json())["user"]["profile"]["email"] == "ann@x.example"
    assert [m.text for m in slack.messages(dm)] == ["from a form"]


@pytest.mark.parametrize(
    ("blocks", "why"),
    [
        (actions(button(value="v" * 2001)), "a button value over 2000"),
        (actions(button(text="t" * 76)), "a button text over 75"),
        (actions({"type": "overflow", "action_id": "o", "options": options(6)}), "6 overflow"),
        (actions({"type": "static_select", "action_id": "s", "options": options(2, 151)}),
         "an option value over 150"),
        (actions(button(action_id="a"), button(action_id="a")), "a repeated action_id"),
        (actions(button() | {"style": "blue"}), "an unknown button style"),
        ([SECTION] * 51, "51 blocks"),
        ([{"type": "input", "label": {"type": "plain_text", "text": "x"},
           "element": {"type": "plain_text_input", "action_id": "x"}}], "an input in a message"),
        ([{"type": "carousel"}], "an unknown block"),
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "a long section"),
    ],
)  # fmt: skip
async def test_it_refuses_blocks_slack_would_refuse(
    slack: SlackEmulator, client: AsyncWebClient, blocks: list[dict[str, Any]], why: str
) -> None:
    dm = slack.dm_channel(slack.add_user("Ann"))

    code = await error_of(client.chat_postMessage(channel=dm, text="x", blocks=blocks))

    assert code == "invalid_blocks", why
    assert slack.messages(dm) == []


async def test_it_refuses_what_cannot_be_posted_or_updated(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    ann = slack.add_user("Ann")
    dm = slack.dm_channel(ann)
    elsewhere = slack.add_channel("general", [ann], bot_member=False)
    posted = await client.chat_postMessage(channel=dm, text="x")

    assert await error_of(client.api_call("chat.postMessage", json={"channel": dm})) == "no_text"
    assert await error_of(client.chat_postMessage(channel="C404", text="x")) == "channel_not_found"
    assert await error_of(client.chat_postMessage(channel=elsewhere, text="x")) == "not_in_channel"
    assert (
        await error_of(client.chat_update(channel=dm, ts=posted["ts"], text="y" * 4001))
        == "msg_too_long"
    )
    assert await error_of(client.chat_update(channel=dm, ts="1.000001", text="y")) == (
        "message_not_found"
    )
    slack.deactivate_user(ann)
    assert await error_of(client.chat_postMessage(channel=dm, text="x")) == "is_archived"
    assert await error_of(client.conversations_open(users=ann)) == "user_disabled"


async def test_it_answers_missing_scope_and_hides_emails_without_the_scope(
    slack: SlackEmulator,
) -> None:
    narrow = SlackEmulator(bot_token=TOKEN, scopes=["chat:write", "users:read"])
    async with narrow.serve(), ClientSession(trust_env=False) as session:
        client = AsyncWebClient(token=TOKEN, base_url=narrow.api_base, session=session)
        ann = narrow.add_user("Ann", email="ann@x.example")
        with pytest.raises(SlackApiError) as caught:
            await client.users_lookupByEmail(email="ann@x.example")
        assert caught.value.response["error"] == "missing_scope"
        assert caught.value.response["needed"] == "users:read.email"
        user = (await client.users_info(user=ann))["user"]
        assert "email" not in user["profile"]


async def test_it_pages_the_member_list(slack: SlackEmulator, client: AsyncWebClient) -> None:
    made = {slack.add_user(f"User {n}") for n in range(5)}
    seen: set[str] = set()
    cursor = None
    pages = 0
    while True:
        answer = await client.users_list(limit=2, cursor=cursor)
        seen |= {m["id"] for m in answer["members"]}
        pages += 1
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert (seen, pages) == (made, 3)


async def test_a_fourth_quick_post_to_one_channel_gets_a_429_with_an_integer_retry_after(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    dm = slack.dm_channel(slack.add_user("Ann"))
    for _ in range(3):  # the burst
        await client.chat_postMessage(channel=dm, text="x")
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=dm, text="x")

    response = caught.value.response
    assert (response.status_code, response["error"]) == (429, "ratelimited")
    assert response.headers["Retry-After"] == "1"
    assert len(slack.messages(dm)) == 3
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    await client.chat_postMessage(channel=dm, text="after waiting")  # the handler waits it out
    assert slack.messages(dm)[-1].text == "after waiting"
    assert slack.stats.ratelimited >= 2


async def test_other_methods_are_limited_per_minute_by_tier(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    slack.rate_limits = SlackRateLimits(tier3_per_min=2)
    ann = slack.add_user("Ann")
    for _ in range(2):
        await client.conversations_open(users=ann)
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_open(users=ann)
    assert caught.value.response.status_code == 429


async def test_injected_faults_answer_the_next_calls(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    slack.faults.add("500", method="auth.test")
    slack.faults.add("account_inactive", method="auth.test")
    with pytest.raises(SlackApiError) as first:
        await client.auth_test()
    assert first.value.response.status_code == 500
    assert await error_of(client.auth_test()) == "account_inactive"
    assert (await client.auth_test())["ok"] is True
    assert slack.stats.faults_injected == 2


async def test_a_response_url_takes_five_answers(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    ann = slack.add_user("Ann")
    url = slack.issue_response_url(ann, slack.dm_channel(ann))
    async with ClientSession(trust_env=False) as session:
        webhook = AsyncWebhookClient(url, session=session)
        statuses = [(await webhook.send(text=f"n{n}")).status_code for n in range(6)]

    assert statuses == [200] * 5 + [404]
    assert [e.text for e in slack.ephemerals(ann)] == [f"n{n}" for n in range(5)]


async def test_a_trigger_opens_one_modal_within_its_lifetime(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    ann = slack.add_user("Ann")
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Hi"}, "blocks": [SECTION]}
    fresh, stale = slack.issue_trigger(ann), slack.issue_trigger(ann)

    opened = await client.views_open(trigger_id=fresh, view=modal)
    assert opened["view"]["id"] == slack.views(ann)[0].id
    assert await error_of(client.views_open(trigger_id=fresh, view=modal)) == (
        "exchanged_trigger_id"
    )
    slack.trigger_ttl_s = 0.05
    await asyncio.sleep(0.1)  # past the (shortened) lifetime
    assert await error_of(client.views_open(trigger_id=stale, view=modal)) == "expired_trigger_id"
    assert await error_of(client.views_open(trigger_id="1.2.3", view=modal)) == (
        "invalid_trigger_id"
    )


async def test_a_home_tab_is_published_and_a_stale_hash_refused(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    ann = slack.add_user("Ann")
    home = {"type": "home", "blocks": [SECTION]}

    first = await client.views_publish(user_id=ann, view=home)
    await client.views_publish(user_id=ann, view=home, hash=first["view"]["hash"])

    assert await error_of(client.views_publish(user_id=ann, view=home, hash="stale")) == (
        "hash_conflict"
    )
    published = slack.home(ann)
    assert published is not None
    assert published.id == first["view"]["id"]


async def test_files_upload_v2_shares_the_file_into_the_channel(
    slack: SlackEmulator, client: AsyncWebClient
) -> None:
    dm = slack.dm_channel(slack.add_user("Ann"))

    await client.files_upload_v2(
        channel=dm, content=b"\x89PNG chart", filename="report.png", title="Week",
        initial_comment="The week in numbers",
    )  # fmt: skip

    [message] = slack.messages(dm)
    assert message.text == "The week in numbers"
    assert [(f["name"], f["title"], f["size"]) for f in message.files] == [
        ("report.png", "Week", 10)
    ]
