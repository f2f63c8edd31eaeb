"""The HTTP control API: the same people, knobs and records as the Python handle, over HTTP."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientSession
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import Json, Seen, actions, button, error_of, section


async def call(
    session: ClientSession, slack: SlackEmulator, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    # No Content-Type on purpose: `curl -d '{...}'` sends a form type with a JSON body.
    data = None if body is None else json.dumps(body)
    async with session.request(method, f"{slack.base_url}/_control{path}", data=data) as answer:
        return answer.status, await answer.json()


async def test_a_person_made_over_http_uses_the_app(
    slack: SlackEmulator, session: ClientSession, app: tuple[AsyncApp, Seen]
) -> None:
    bolt, _ = app

    @bolt.command("/amo")
    async def amo(ack: AsyncAck, command: Json) -> None:
        await ack(f"linked {command['user_name']}")

    status, made = await call(session, slack, "POST", "/users",
                              {"name": "Ivan Petrov", "email": "ivan@demo.example"})  # fmt: skip
    assert status == 201
    ivan = made["id"]
    status, acked = await call(session, slack, "POST", "/slash", {"user": ivan, "text": "link"})
    assert (status, acked["status"], acked["failed"]) == (200, 200, False)
    status, shown = await call(session, slack, "GET", f"/users/{ivan}/ephemerals")
    assert [e["text"] for e in shown] == ["linked ivan.petrov"]
    status, people = await call(session, slack, "GET", "/users")
    assert [(p["id"], p["email"]) for p in people] == [(ivan, "ivan@demo.example")]
    status, sent = await call(session, slack, "GET", "/interactions")
    assert [(i["kind"], i["status"]) for i in sent] == [("slash_command", 200)]
    status, url = await call(session, slack, "GET", "/request-url")
    assert url == {"url": slack.request_url}


async def test_clicks_and_reads_over_http(
    slack: SlackEmulator, session: ClientSession, client: AsyncWebClient,
    app: tuple[AsyncApp, Seen], ann: str,
) -> None:  # fmt: skip
    bolt, seen = app

    @bolt.action("go")
    async def go(ack: AsyncAck, body: Json) -> None:
        await ack()
        seen.add(body)

    status, made = await call(session, slack, "POST", "/channels",
                              {"name": "sales", "members": [ann]})  # fmt: skip
    sales = made["id"]
    posted = await client.chat_postMessage(channel=sales, text="card",
                                           blocks=[section(), actions(button())])  # fmt: skip
    click = {"user": ann, "channel": sales, "ts": posted["ts"], "action_id": "go"}

    status, clicked = await call(session, slack, "POST", "/click", click)
    assert (status, clicked["failed"]) == (200, False)
    assert (await seen.next())["actions"][0]["action_id"] == "go"
    status, messages = await call(session, slack, "GET", f"/channels/{sales}/messages")
    assert [(m["ts"], m["text"], m["bot_id"]) for m in messages] == [
        (posted["ts"], "card", slack.bot_id),
    ]  # fmt: skip
    status, channels = await call(session, slack, "GET", "/channels")
    assert {"id": sales, "name": "sales", "is_im": False, "user": None, "members": [ann],
            "bot_member": True, "private": False} in channels  # fmt: skip
    status, log = await call(session, slack, "GET", "/requests")
    assert [r["method"] for r in log] == ["chat.postMessage", "auth.test"]  # bolt asks once
    status, counts = await call(session, slack, "GET", "/stats")
    assert (counts["messages_posted"], counts["interactions"]) == (1, 1)


async def test_impossible_actions_are_refused_with_400_and_unknown_ids_with_404(
    slack: SlackEmulator, session: ClientSession, client: AsyncWebClient, ann: str
) -> None:
    posted = await client.chat_postMessage(channel=ann, text="x")
    forged = {"user": ann, "channel": posted["channel"], "ts": posted["ts"], "action_id": "no"}

    status, body = await call(session, slack, "POST", "/click", forged)
    assert (status, body["error"]) == (400, "no element 'no' there")
    status, body = await call(session, slack, "GET", "/users/U404/ephemerals")
    assert (status, body["error"]) == (404, "unknown user U404")
    status, body = await call(session, slack, "POST", "/users", {"email": "no-name@x"})
    assert status == 400
    status, body = await call(session, slack, "GET", "/channels/C404/messages")
    assert status == 404


async def test_knobs_over_http(
    slack: SlackEmulator, session: ClientSession, client: AsyncWebClient, ann: str
) -> None:
    status, body = await call(session, slack, "POST", "/faults",
                              {"kind": "invalid_auth", "count": 2})  # fmt: skip
    assert (status, body) == (200, {"pending": 2})
    assert await error_of(client.auth_test()) == "invalid_auth"
    status, body = await call(session, slack, "DELETE", "/faults")
    assert (await client.auth_test())["ok"] is True

    status, _ = await call(session, slack, "POST", "/rate-limits", {"enabled": False})
    assert (status, slack.rate_limits) == (200, None)
    status, _ = await call(session, slack, "POST", "/signing", {"age_s": 400})
    assert slack.signing.age_s == 400
    status, _ = await call(session, slack, "POST", f"/users/{ann}/deactivate")
    assert slack.user(ann).deleted
    status, _ = await call(session, slack, "POST", f"/users/{ann}/reactivate")
    assert not slack.user(ann).deleted
