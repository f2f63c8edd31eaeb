"""Block Kit limits, each hit once: a message Slack would refuse is refused with
``invalid_blocks`` and the offending field, a view with ``invalid_arguments``; whatever sits
exactly at a limit goes through."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import ClientSession
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import (
    Json,
    actions,
    button,
    error_of,
    modal,
    options,
    plain,
    section,
    text_input,
)


def overflow(count: int) -> Json:
    return {"type": "overflow", "action_id": "more", "options": options(count)}


def select(opts: list[Json]) -> Json:
    return {"type": "static_select", "action_id": "pick", "placeholder": plain("Pick"),
            "options": opts}  # fmt: skip


def option(text: str = "o", value: str = "v") -> Json:
    return {"text": plain(text), "value": value}


MESSAGE_LIMITS: list[tuple[str, list[Json], str]] = [
    ("51 blocks", [section()] * 51, "/blocks"),
    ("a block_id of 256", [section(block_id="b" * 256)], "/blocks/0/block_id"),
    ("a block_id twice", [section(block_id="b"), section(block_id="b")], "/blocks/1/block_id"),
    ("a section text of 3001", [section("x" * 3001)], "/blocks/0/text/text"),
    ("11 fields", [{"type": "section", "fields": [plain("f")] * 11}], "/blocks/0/fields"),
    ("a field of 2001", [{"type": "section", "fields": [plain("f" * 2001)]}],
     "/blocks/0/fields/0/text"),
    ("a header of 151", [{"type": "header", "text": plain("h" * 151)}], "/blocks/0/text/text"),
    ("a mrkdwn header", [{"type": "header", "text": {"type": "mrkdwn", "text": "h"}}],
     "/blocks/0/text/type"),
    ("11 context elements", [{"type": "context", "elements": [plain("c")] * 11}],
     "/blocks/0/elements"),
    ("26 actions", [actions(*(button(f"b{n}") for n in range(26)))], "/blocks/0/elements"),
    ("a button text of 76", [actions(button(text="t" * 76))], "/blocks/0/elements/0/text/text"),
    ("a mrkdwn button text",
     [actions(button() | {"text": {"type": "mrkdwn", "text": "t"}})],
     "/blocks/0/elements/0/text/type"),
    ("an action_id of 256", [actions(button("a" * 256))], "/blocks/0/elements/0/action_id"),
    ("an action_id twice", [actions(button("a")), actions(button("a"))],
     "/blocks/1/elements/0/action_id"),
    ("a button value of 2001", [actions(button(value="v" * 2001))],
     "/blocks/0/elements/0/value"),
    ("a button url of 3001", [actions(button() | {"url": "https://x.example/" + "u" * 2983})],
     "/blocks/0/elements/0/url"),
    ("a button style blue", [actions(button() | {"style": "blue"})],
     "/blocks/0/elements/0/style"),
    ("an overflow of 6", [actions(overflow(6))], "/blocks/0/elements/0/options"),
    ("an empty overflow", [actions(overflow(0))], "/blocks/0/elements/0/options"),
    ("a select of 101", [actions(select(options(101)))], "/blocks/0/elements/0/options"),
    ("an option text of 76", [actions(select([option(text="o" * 76)]))],
     "/blocks/0/elements/0/options/0/text/text"),
    ("an option value of 151", [actions(select([option(value="v" * 151)]))],
     "/blocks/0/elements/0/options/0/value"),
    ("an input in a message", [text_input()], "/blocks/0"),
    ("an unknown block", [{"type": "carousel"}], "/blocks/0"),
    ("an unknown element", [actions({"type": "slider", "action_id": "s"})],
     "/blocks/0/elements/0"),
    ("an empty text", [section("")], "/blocks/0/text/text"),
]  # fmt: skip


@pytest.mark.parametrize(("why", "blocks", "pointer"), MESSAGE_LIMITS,
                         ids=[case[0] for case in MESSAGE_LIMITS])  # fmt: skip
async def test_a_message_past_a_block_kit_limit_is_refused(
    slack: SlackEmulator, client: AsyncWebClient, ann: str, why: str, blocks: list[Json],
    pointer: str,
) -> None:  # fmt: skip
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=ann, text="x", blocks=blocks)

    answer = caught.value.response
    assert (answer.status_code, answer["error"]) == (200, "invalid_blocks"), why
    [message] = answer["response_metadata"]["messages"]
    assert message.startswith("[ERROR] ")
    assert message.endswith(f"[json-pointer:{pointer}]"), message
    assert slack.messages(slack.dm_channel(ann)) == []


async def test_everything_exactly_at_a_limit_goes_through(
    client: AsyncWebClient, ann: str
) -> None:
    full = [
        section("x" * 3000, block_id="b" * 255, fields=[plain("f" * 2000)] * 10),
        {"type": "header", "text": plain("h" * 150)},
        {"type": "context", "elements": [plain("c")] * 10},
        actions(button("a" * 255, value="v" * 2000, text="t" * 75) | {"style": "danger",
                "url": "https://x.example/" + "u" * 2982}, overflow(5),
                select([option(text="o" * 75, value="v" * 150), *options(99, "p")]),
                {"type": "users_select", "action_id": "who"},
                {"type": "datepicker", "action_id": "day", "initial_date": "2026-11-24"},
                {"type": "timepicker", "action_id": "at", "initial_time": "09:30"},
                *(button(f"more{n}") for n in range(19))),
        {"type": "divider"},
        {"type": "image", "image_url": "https://x.example/a.png", "alt_text": "a chart"},
    ]  # fmt: skip
    full += [section(f"s{n}") for n in range(50 - len(full))]

    assert (await client.chat_postMessage(channel=ann, text="x", blocks=full))["ok"] is True


async def test_updates_and_ephemerals_are_checked_alike(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    posted = await client.chat_postMessage(channel=ann, text="x")
    wrong = [actions(button(text="t" * 76))]

    update = client.chat_update(channel=posted["channel"], ts=posted["ts"], text="y",
                                blocks=wrong)  # fmt: skip
    assert await error_of(update) == "invalid_blocks"
    ephemeral = client.chat_postEphemeral(channel=posted["channel"], user=ann, text="y",
                                          blocks=wrong)  # fmt: skip
    assert await error_of(ephemeral) == "invalid_blocks"
    assert slack.message(posted["channel"], posted["ts"]).text == "x"


async def test_a_response_url_answer_is_checked_alike(
    slack: SlackEmulator, session: ClientSession, ann: str
) -> None:
    url = slack.issue_response_url(ann, slack.dm_channel(ann))
    hook = AsyncWebhookClient(url, session=session)

    refused = await hook.send(text="x", blocks=[{"type": "carousel"}])

    assert (refused.status_code, refused.body) == (400, '{"ok": false, "error": "invalid_blocks"}')
    assert slack.ephemerals(ann) == []


VIEW_LIMITS: list[tuple[str, Json, str]] = [
    ("a title of 25", modal(title=plain("t" * 25)), "/view/title/text"),
    ("a submit of 25", modal(submit=plain("s" * 25)), "/view/submit/text"),
    ("a close of 25", modal(close=plain("c" * 25)), "/view/close/text"),
    ("a callback_id of 256", modal(callback_id="c" * 256), "/view/callback_id"),
    ("private_metadata of 3001", modal(private_metadata="m" * 3001),
     "/view/private_metadata"),
    ("a label of 2001", modal(text_input() | {"label": plain("l" * 2001)}),
     "/view/blocks/0/label/text"),
    ("inputs without submit", {"type": "modal", "title": plain("t"), "blocks": [text_input()]},
     "/view/submit"),
    ("a text input in an actions block",
     modal(actions({"type": "plain_text_input", "action_id": "t"})),
     "/view/blocks/0/elements/0"),
    ("101 blocks", modal(*[section()] * 101), "/view/blocks"),
]  # fmt: skip


@pytest.mark.parametrize(("why", "view", "pointer"), VIEW_LIMITS,
                         ids=[case[0] for case in VIEW_LIMITS])  # fmt: skip
async def test_a_view_past_a_block_kit_limit_is_refused(
    slack: SlackEmulator, client: AsyncWebClient, ann: str, why: str, view: Json, pointer: str
) -> None:
    trigger = slack.issue_trigger(ann)

    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=trigger, view=view)

    answer = caught.value.response
    assert answer["error"] == "invalid_arguments", why  # what Slack answers for views
    assert answer["response_metadata"]["messages"][0].endswith(f"[json-pointer:{pointer}]")
    assert slack.views(ann) == []
    opened = await client.views_open(trigger_id=trigger, view=modal())  # the trigger is unused
    assert opened["view"]["type"] == "modal"


async def test_a_home_tab_holds_100_blocks_and_no_more(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    blocks: list[Any] = [section(f"s{n}") for n in range(100)]

    await client.views_publish(user_id=ann, view={"type": "home", "blocks": blocks})
    refused = client.views_publish(user_id=ann, view={"type": "home",
                                                      "blocks": [*blocks, section()]})  # fmt: skip

    assert await error_of(refused) == "invalid_arguments"
    home = slack.home(ann)
    assert home is not None
    assert len(home.view["blocks"]) == 100
