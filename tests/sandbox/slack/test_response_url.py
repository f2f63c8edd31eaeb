"""Response URLs: up to five answers within 30 minutes, as ephemeral or in-channel messages."""

from __future__ import annotations

from aiohttp import ClientSession
from slack_sdk.webhook.async_client import AsyncWebhookClient

from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import assert_posted_for_everyone


async def test_a_response_url_takes_five_answers(
    slack: SlackEmulator, session: ClientSession, ann: str
) -> None:
    hook = AsyncWebhookClient(slack.issue_response_url(ann, slack.dm_channel(ann)),
                              session=session)  # fmt: skip

    answers = [await hook.send(text=f"n{n}") for n in range(6)]

    assert [a.status_code for a in answers] == [200] * 5 + [404]
    assert answers[-1].body == '{"ok": false, "error": "used_url"}'
    assert [e.text for e in slack.ephemerals(ann)] == [f"n{n}" for n in range(5)]
    assert {e.via for e in slack.ephemerals(ann)} == {"response_url"}


async def test_a_refused_answer_does_not_use_the_url_up(
    slack: SlackEmulator, session: ClientSession, ann: str
) -> None:
    hook = AsyncWebhookClient(slack.issue_response_url(ann, slack.dm_channel(ann)),
                              session=session)  # fmt: skip

    empty = [await hook.send_dict({"response_type": "ephemeral"}) for _ in range(5)]

    assert {(a.status_code, a.body) for a in empty} == {(400, '{"ok": false, "error": "no_text"}')}
    assert (await hook.send(text="still there")).status_code == 200


async def test_an_in_channel_answer_is_posted_for_everyone(
    slack: SlackEmulator, session: ClientSession, ann: str
) -> None:
    sales = slack.add_channel("sales", [ann], bot_member=False)  # needs no membership
    hook = AsyncWebhookClient(slack.issue_response_url(ann, sales), session=session)

    await hook.send(text="for all", response_type="in_channel")

    assert_posted_for_everyone(slack, sales, ann, "for all")


async def test_an_old_response_url_has_expired(
    slack: SlackEmulator, session: ClientSession, ann: str
) -> None:
    slack.response_url_ttl_s = 0.0  # Slack's 30 minutes, run out at once
    hook = AsyncWebhookClient(slack.issue_response_url(ann, slack.dm_channel(ann)),
                              session=session)  # fmt: skip

    answer = await hook.send(text="late")

    assert (answer.status_code, answer.body) == (404, '{"ok": false, "error": "expired_url"}')
