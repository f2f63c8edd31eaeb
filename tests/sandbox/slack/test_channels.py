"""Channels as the app sees them: conversations.info answers for public channels and the private
ones it is in; conversations.join lets it into a public channel, never a private or archived one;
and a post where it is not a member is refused as Slack refuses it."""

from __future__ import annotations

from aiohttp import ClientSession
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import error_of


async def test_the_app_joins_a_public_channel_and_then_posts_there(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    general = slack.add_channel("general", [ann], bot_member=False)

    seen = (await client.conversations_info(channel=general))["channel"]
    assert (seen["is_member"], seen["is_private"]) == (False, False)
    assert await error_of(client.chat_postMessage(channel=general, text="hi")) == "not_in_channel"
    joined = await client.conversations_join(channel=general)
    again = await client.conversations_join(channel=general)

    assert joined["channel"]["is_member"] is True
    assert again["warning"] == "already_in_channel"
    assert (await client.chat_postMessage(channel=general, text="hi"))["ok"]


async def test_a_private_channel_needs_an_invitation_and_an_archived_one_takes_nothing(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    secret = slack.add_channel("board", [ann], bot_member=False, private=True)
    old = slack.add_channel("old", [ann])
    slack.archive_channel(old)

    assert await error_of(client.conversations_info(channel=secret)) == "channel_not_found"
    assert await error_of(client.conversations_join(channel=secret)) == "channel_not_found"
    assert await error_of(client.chat_postMessage(channel=secret, text="x")) == "channel_not_found"
    slack.set_bot_member(secret, True)  # a member typed /invite @amobridge
    assert (await client.conversations_info(channel=secret))["channel"]["is_private"] is True
    refused = client.conversations_join(channel=secret)
    assert await error_of(refused) == "method_not_supported_for_channel_type"
    assert (await client.chat_postMessage(channel=secret, text="x"))["ok"]
    assert await error_of(client.conversations_join(channel=old)) == "is_archived"
    assert await error_of(client.chat_postMessage(channel=old, text="x")) == "is_archived"


async def test_joining_takes_the_channels_join_scope(slack: SlackEmulator, ann: str) -> None:
    slack_without = SlackEmulator(bot_token="xoxb-t", signing_secret="s",
                                  scopes=["chat:write", "channels:read"])  # fmt: skip
    async with slack_without.serve(host="127.0.0.1", port=0):
        channel = slack_without.add_channel("general", bot_member=False)
        client = AsyncWebClient(token="xoxb-t", base_url=slack_without.api_base)
        assert await error_of(client.conversations_join(channel=channel)) == "missing_scope"


async def test_a_person_removes_the_app_or_archives_over_the_control_api(
    slack: SlackEmulator, session: ClientSession, client: AsyncWebClient, ann: str
) -> None:
    general = slack.add_channel("general", [ann])
    url = f"{slack.base_url}/_control/channels/{general}"
    async with session.patch(url, json={"bot_member": False}) as removed:
        assert (await removed.json())["bot_member"] is False
    assert await error_of(client.chat_postMessage(channel=general, text="x")) == "not_in_channel"
    async with session.patch(url, json={"bot_member": True, "archived": True}) as archived:
        assert (await archived.json())["archived"] is True
    assert await error_of(client.chat_postMessage(channel=general, text="x")) == "is_archived"
    async with session.patch(f"{slack.base_url}/_control/channels/C404", json={}) as unknown:
        assert unknown.status == 404
