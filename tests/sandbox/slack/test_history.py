"""Message metadata and conversations.history as Slack documents them: metadata kept on a
message and shown only with ``include_all_metadata``; history newest first, bounded by
``oldest``/``latest``, in pages; a scope per kind of channel; and the "drop-after" fault, which
carries a post out and loses its answer."""

from __future__ import annotations

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import TOKEN, error_of

TAG = {"event_type": "amobridge_outbox", "event_payload": {"item": "abc"}}


async def test_metadata_is_kept_and_shown_in_history_only_when_asked_for(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    posted = await client.chat_postMessage(channel=ann, text="tagged", metadata=TAG)
    dm = posted["channel"]

    assert posted["message"]["metadata"] == TAG
    plain = await client.conversations_history(channel=dm)
    assert "metadata" not in plain["messages"][0]
    full = await client.conversations_history(channel=dm, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == TAG
    assert full["messages"][0]["ts"] == posted["ts"]


async def test_metadata_of_the_wrong_shape_is_refused_and_nothing_posted(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    wrong = client.chat_postMessage(channel=ann, text="x", metadata={"event_type": "t"})
    assert await error_of(wrong) == "invalid_metadata_schema"
    not_json = client.api_call(
        "chat.postMessage", data={"channel": ann, "text": "x", "metadata": "{not json"}
    )
    assert await error_of(not_json) == "invalid_metadata_format"
    assert slack.messages(slack.dm_channel(ann)) == []


async def test_history_is_newest_first_bounded_and_paged(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    slack.rate_limits = False
    sent = [(await client.chat_postMessage(channel=ann, text=str(n)))["ts"] for n in range(5)]
    dm = slack.dm_channel(ann)

    first = await client.conversations_history(channel=dm, limit=2)
    assert [m["ts"] for m in first["messages"]] == [sent[4], sent[3]]
    assert first["has_more"] is True
    cursor = first["response_metadata"]["next_cursor"]
    second = await client.conversations_history(channel=dm, limit=2, cursor=cursor)
    assert [m["ts"] for m in second["messages"]] == [sent[2], sent[1]]
    since = await client.conversations_history(channel=dm, oldest=sent[3], inclusive=True)
    assert [m["ts"] for m in since["messages"]] == [sent[4], sent[3]]
    after = await client.conversations_history(channel=dm, oldest=sent[3])
    assert [m["ts"] for m in after["messages"]] == [sent[4]]
    assert after["has_more"] is False


async def test_history_needs_the_scope_of_its_kind_of_channel(
    session: aiohttp.ClientSession,
) -> None:
    narrow = SlackEmulator(bot_token=TOKEN, scopes=["chat:write", "im:history"])
    async with narrow.serve():
        client = AsyncWebClient(token=TOKEN, base_url=narrow.api_base, session=session)
        bob = narrow.add_user("Bob")
        sales = narrow.add_channel("sales", [bob])
        assert (await client.conversations_history(channel=narrow.dm_channel(bob)))["ok"]
        assert await error_of(client.conversations_history(channel=sales)) == "missing_scope"
        assert await error_of(client.conversations_history(channel="C404")) == (
            "channel_not_found"
        )


async def test_a_drop_after_fault_posts_the_message_and_loses_the_answer(
    slack: SlackEmulator, ann: str
) -> None:
    slack.faults.add("drop-after", method="chat.postMessage", delay_s=0)
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_base, session=session,
                                retry_handlers=[])  # fmt: skip
        with pytest.raises(aiohttp.ClientError):
            await client.chat_postMessage(channel=ann, text="sent, unanswered", metadata=TAG)

    [message] = slack.messages(slack.dm_channel(ann))
    assert (message.text, message.metadata) == ("sent, unanswered", TAG)
    assert slack.faults.pending == 0
