"""The emulator's people, acting on a real slack-bolt app over loopback: signed slash commands,
clicks, modal submissions and events, each timed against Slack's 3-second limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.serving import serve_app
from sandbox.slack import Signing, SlackEmulator
from tests.sandbox.slack.conftest import SECRET, TOKEN

Body = dict[str, Any]
MODAL = {
    "type": "modal", "callback_id": "ask", "title": {"type": "plain_text", "text": "Ask"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [{"type": "input", "block_id": "q", "label": {"type": "plain_text", "text": "Q"},
                "element": {"type": "plain_text_input", "action_id": "text"}}],
}  # fmt: skip


class Seen:
    def __init__(self) -> None:
        self.bodies: list[Body] = []
        self.event = asyncio.Event()

    def add(self, body: Body) -> None:
        self.bodies.append(body)
        self.event.set()


@pytest.fixture
async def app(slack: SlackEmulator) -> AsyncIterator[tuple[AsyncApp, Seen]]:
    """A bolt app (the same wiring as amobridge's: aiohttp, one URL) the people talk to."""
    async with ClientSession(trust_env=False) as session:
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_base, session=session)
        bolt = AsyncApp(signing_secret=SECRET, client=client)
        seen = Seen()

        @bolt.command("/hello")
        async def hello(ack: AsyncAck, command: Body) -> None:
            seen.add(command)
            await ack(f"Hi {command['text']}")

        @bolt.action("go")
        async def go(ack: AsyncAck, body: Body, client: AsyncWebClient) -> None:
            await ack()
            seen.add(body)
            await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

        @bolt.action("slow")
        async def slow(ack: AsyncAck, body: Body) -> None:
            await asyncio.sleep(0.6)
            await ack()

        @bolt.action("done")
        async def done(ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
            await ack()
            seen.add(body)
            await respond(text="Done ✔", replace_original=True)

        @bolt.view("ask")
        async def ask(ack: AsyncAck, view: Body) -> None:
            typed = view["state"]["values"]["q"]["text"]["value"]
            if not typed.strip():
                await ack(response_action="errors", errors={"q": "Type something"})
                return
            await ack()
            seen.add(view)

        @bolt.event("app_home_opened")
        async def home(event: Body) -> None:
            seen.add(event)

        async def endpoint(request: web.Request) -> web.StreamResponse:
            return await to_aiohttp_response(
                await bolt.async_dispatch(await to_bolt_request(request))
            )

        server = web.Application()
        server.add_routes([web.post("/slack/events", endpoint)])
        async with serve_app(server, "127.0.0.1", 0) as url:
            slack.request_url = url + "/slack/events"
            yield bolt, seen


async def post_card(slack: SlackEmulator, user: str, *elements: Body) -> tuple[str, str]:
    dm = slack.dm_channel(user)
    async with ClientSession(trust_env=False) as session:
        client = AsyncWebClient(token=TOKEN, base_url=slack.api_base, session=session)
        answer = await client.chat_postMessage(
            channel=dm, text="card", blocks=[{"type": "actions", "elements": list(elements)}]
        )
    return dm, str(answer["ts"])


def button(action_id: str, value: str = "7") -> Body:
    return {"type": "button", "action_id": action_id, "value": value,
            "text": {"type": "plain_text", "text": action_id}}  # fmt: skip


async def test_a_slash_command_acked_with_text_shows_the_user_an_ephemeral(
    slack: SlackEmulator, app: tuple[AsyncApp, Seen]
) -> None:
    ann = slack.add_user("Ann")

    result = await slack.slash_command(ann, "/hello", "there")

    assert (result.status, result.failed) == (200, False)
    [command] = app[1].bodies
    assert (command["user_id"], command["text"], command["command"]) == (ann, "there", "/hello")
    assert command["channel_id"] == slack.dm_channel(ann)
    assert [e.text for e in slack.ephemerals(ann)] == ["Hi there"]


async def test_a_click_carries_the_documented_payload_and_its_trigger_opens_a_modal(
    slack: SlackEmulator, app: tuple[AsyncApp, Seen]
) -> None:
    ann = slack.add_user("Ann")
    dm, ts = await post_card(slack, ann, button("go", "task:7"))

    result = await slack.click(ann, dm, ts, "go", "task:7")

    assert not result.failed
    await asyncio.wait_for(app[1].event.wait(), 5)
    body = app[1].bodies[0]
    assert body["type"] == "block_actions"
    assert body["container"] == {"type": "message", "message_ts": ts, "channel_id": dm,
                                 "is_ephemeral": False}  # fmt: skip
    assert body["actions"][0]["value"] == "task:7"
    assert body["response_url"].startswith(slack.base_url)
    assert (await slack.wait_for_view(ann)).kind == "modal"


async def test_only_what_is_on_the_message_can_be_clicked(
    slack: SlackEmulator, app: tuple[AsyncApp, Seen]
) -> None:
    ann = slack.add_user("Ann")
    dm, ts = await post_card(slack, ann, button("go", "task:7"))

    with pytest.raises(ValueError, match="no element"):
        await slack.click(ann, dm, ts, "delete-everything")
    with pytest.raises(ValueError, match="another value"):
        await slack.click(ann, dm, ts, "go", "task:8")  # a forged value
    assert slack.interactions == []


async def test_a_forged_or_stale_signature_gets_401_and_fails_for_the_user(
    slack: SlackEmulator, app: tuple[AsyncApp, Seen]
) -> None:
    ann = slack.add_user("Ann")
    slack.signing = Signing(secret="wrong")
    forged = await slack.slash_command(ann, "/hello", "x")
    slack.signing = Signing(age_s=400)
    stale = await slack.slash_command(ann, "/hello", "x")
    slack.signing = Signing(tamper=True)
    tampered = await slack.slash_command(ann, "/hello", "x")

    assert [r.status for r in (forged, stale, tampered)] == [401, 401, 401]
    assert all(r.failed for r in (forged, stale, tampered))
    assert app[1].bodies == []


async def test_an_app_that_acks_too_late_fails_the_interaction(
    slack: SlackEmulator, app: tuple[AsyncApp, Seen]
) -> None:
    ann = slack.add_user("Ann")
    dm, ts = await post_card(slack, ann, button("slow"))
    slack.ack_timeout_s = 0.3  # Slack's 3 s, shortened

    result = await slack.click(ann, dm, ts, "slow", "7")

    assert result.failed
    assert result.status == 0


async def test_a_submission_answered_with_errors_keeps_the_modal_open(
    slack: SlackEmulator, app: tuple[AsyncApp, Seen]
) -> None:
    ann = slack.add_user("Ann")
    dm, ts = await post_card(slack, ann, button("go"))
    await slack.click(ann, dm, ts, "go", "7")
    modal = await slack.wait_for_view(ann)

    with pytest.raises(ValueError, match="requires input"):
        await slack.submit_view(ann, modal.id, {})  # Slack's client does not let it through
    refused = await slack.submit_view(ann, modal.id, {"q": {"text": "  "}})
    assert refused.errors == {"q": "Type something"}
    assert [v.id for v in slack.views(ann)] == [modal.id]
    accepted = await slack.submit_view(ann, modal.id, {"q": {"text": "why?"}})
    assert (accepted.failed, accepted.errors) == (False, {})
    assert slack.views(ann) == []


async def test_respond_through_the_response_url_replaces_the_clicked_message(
    slack: SlackEmulator, app: tuple[AsyncApp, Seen]
) -> None:
    ann = slack.add_user("Ann")
    dm, ts = await post_card(slack, ann, button("done"))

    await slack.click(ann, dm, ts, "done", "7")

    edited = await slack.wait_for_message(dm, lambda m: m.text == "Done ✔")
    assert edited.ts == ts
    assert [v.text for v in edited.edits] == ["card"]


async def test_opening_the_home_tab_sends_the_event(
    slack: SlackEmulator, app: tuple[AsyncApp, Seen]
) -> None:
    ann = slack.add_user("Ann")

    result = await slack.open_home(ann)

    assert not result.failed
    await asyncio.wait_for(app[1].event.wait(), 5)
    assert app[1].bodies[0]["type"] == "app_home_opened"
    assert app[1].bodies[0]["user"] == ann
