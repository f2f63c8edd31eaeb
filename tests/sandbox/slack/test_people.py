"""The workspace's people acting on a real bolt app over loopback: signed slash commands, clicks
on messages, ephemeral messages, modals and the Home tab, modal submissions and closes, events;
each timed against Slack's 3-second acknowledgement limit."""

from __future__ import annotations

import asyncio
import re

import pytest
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import Signing, SlackEmulator
from tests.sandbox.slack.helpers import (
    App,
    Json,
    actions,
    assert_posted_for_everyone,
    button,
    modal,
    options,
    plain,
    recorder,
    section,
    text_input,
)

SLASH_FIELDS = {
    "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id", "user_name",
    "command", "text", "api_app_id", "is_enterprise_install", "response_url", "trigger_id",
}  # fmt: skip


async def post_card(client: AsyncWebClient, channel: str, *elements: Json) -> str:
    answer = await client.chat_postMessage(
        channel=channel, text="card", blocks=[section("Call Acme"), actions(*elements,
                                                                            block_id="task:7")]
    )  # fmt: skip
    return str(answer["ts"])


# --- slash commands --------------------------------------------------------------------------


async def test_a_slash_command_arrives_with_slacks_fields_and_its_ack_is_shown_to_the_person(
    slack: SlackEmulator, app: App, ann: str
) -> None:
    bolt, seen = app

    @bolt.command("/amo")
    async def amo(ack: AsyncAck, command: Json) -> None:
        seen.add(command)
        await ack(f"Hi {command['text']}")

    result = await slack.slash_command(ann, "/amo", "tasks")

    assert (result.kind, result.status, result.failed, result.failure) == (
        "slash_command", 200, False, None,
    )  # fmt: skip
    assert result.ack_ms < 3000
    [command] = seen.bodies
    assert set(command) >= SLASH_FIELDS
    assert (command["user_id"], command["user_name"], command["command"], command["text"]) == (
        ann, "ann.lee", "/amo", "tasks",
    )  # fmt: skip
    assert (command["channel_id"], command["channel_name"]) == (
        slack.dm_channel(ann), "directmessage",
    )  # fmt: skip
    assert (command["team_id"], command["team_domain"]) == (slack.team_id, "amobridge")
    assert (command["trigger_id"], command["response_url"]) == (
        result.trigger_id, result.response_url,
    )  # fmt: skip
    assert command["response_url"].startswith(slack.base_url + "/_response/")
    [note] = slack.ephemerals(ann)
    assert (note.text, note.via, note.channel) == ("Hi tasks", "ack", slack.dm_channel(ann))
    assert slack.messages(slack.dm_channel(ann)) == []


async def test_an_in_channel_ack_is_posted_for_everyone(
    slack: SlackEmulator, app: App, ann: str
) -> None:
    bolt, _ = app
    sales = slack.add_channel("sales", [ann])

    @bolt.command("/amo")
    async def amo(ack: AsyncAck) -> None:
        await ack(text="for all", blocks=[section("for all")], response_type="in_channel")

    result = await slack.slash_command(ann, "/amo", "", channel_id=sales)

    assert not result.failed
    assert_posted_for_everyone(slack, sales, ann, "for all")


async def test_a_person_only_types_where_they_are(
    slack: SlackEmulator, app: App, ann: str
) -> None:
    elsewhere = slack.add_channel("board", [])

    with pytest.raises(ValueError, match="not in"):
        await slack.slash_command(ann, "/amo", "", channel_id=elsewhere)
    slack.deactivate_user(ann)
    with pytest.raises(ValueError, match="not an active person"):
        await slack.slash_command(ann, "/amo", "")
    assert slack.interactions == []


# --- signatures and the 3-second limit -------------------------------------------------------


async def test_a_forged_stale_or_tampered_request_gets_401_and_fails_for_the_person(
    slack: SlackEmulator, app: App, ann: str
) -> None:
    bolt, seen = app
    bolt.command("/amo")(recorder(seen))
    results = []
    for knobs in (Signing(secret="wrong"), Signing(age_s=400), Signing(tamper=True)):
        slack.signing = knobs
        results.append(await slack.slash_command(ann, "/amo", "x"))

    assert [(r.status, r.failed) for r in results] == [(401, True)] * 3
    assert results[0].failure == "the app answered HTTP 401"
    assert seen.bodies == []
    slack.signing = Signing()
    assert not (await slack.slash_command(ann, "/amo", "x")).failed
    assert slack.stats.failed_interactions == 3


async def test_an_app_that_acks_too_late_fails_the_interaction(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    bolt, _ = app
    ts = await post_card(client, ann, button("slow"))
    slack.ack_timeout_s = 0.3  # Slack's 3 s, shortened

    @bolt.action("slow")
    async def slow(ack: AsyncAck) -> None:
        await asyncio.sleep(0.5)
        await ack()

    result = await slack.click(ann, slack.dm_channel(ann), ts, "slow")

    assert (result.failed, result.status, result.failure) == (
        True, 0, "no answer within 0.3 s",
    )  # fmt: skip
    assert 300 <= result.ack_ms < 500


async def test_an_app_that_fails_before_acking_fails_the_interaction(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    bolt, _ = app
    ts = await post_card(client, ann, button())

    @bolt.action("go")
    async def broken(ack: AsyncAck) -> None:
        raise RuntimeError("boom")

    result = await slack.click(ann, slack.dm_channel(ann), ts, "go")

    assert (result.status, result.failed) == (500, True)


async def test_the_request_url_is_verified_with_a_challenge(
    slack: SlackEmulator, app: App
) -> None:
    result = await slack.verify_request_url()

    assert (result.kind, result.failed) == ("url_verification", False)
    assert result.payload["challenge"] in result.body


# --- clicks on messages ---------------------------------------------------------------------


async def test_a_click_carries_the_documented_payload_and_its_trigger_opens_a_modal(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    bolt, seen = app
    dm = slack.dm_channel(ann)
    ts = await post_card(client, dm, button("task_complete", "7") | {"style": "primary"})

    @bolt.action("task_complete")
    async def complete(ack: AsyncAck, body: Json, client: AsyncWebClient) -> None:
        await ack()
        seen.add(body)
        await client.views_open(trigger_id=body["trigger_id"], view=modal(text_input()))

    result = await slack.click(ann, dm, ts, "task_complete", "7")

    assert not result.failed
    body = await seen.next()
    assert body["type"] == "block_actions"
    assert body["user"] == {"id": ann, "username": "ann.lee", "name": "ann.lee",
                            "team_id": slack.team_id}  # fmt: skip
    assert body["team"] == {"id": slack.team_id, "domain": "amobridge"}
    assert (body["api_app_id"], body["token"]) == (slack.app_id, "legacy-verification-token")
    assert (body["trigger_id"], body["response_url"]) == (result.trigger_id, result.response_url)
    assert body["container"] == {"type": "message", "message_ts": ts, "channel_id": dm,
                                 "is_ephemeral": False}  # fmt: skip
    assert body["channel"] == {"id": dm, "name": "directmessage"}
    assert (body["message"]["ts"], body["message"]["bot_id"]) == (ts, slack.bot_id)
    assert body["message"]["blocks"] == slack.message(dm, ts).blocks
    assert body["state"] == {"values": {}}
    [clicked] = body["actions"]
    assert {k: clicked[k] for k in ("type", "action_id", "block_id", "value", "style")} == {
        "type": "button", "action_id": "task_complete", "block_id": "task:7", "value": "7",
        "style": "primary",
    }  # fmt: skip
    assert clicked["text"] == plain("Go")
    assert re.fullmatch(r"\d+\.\d{6}", clicked["action_ts"])
    assert (await slack.wait_for_view(ann)).kind == "modal"


async def test_menu_picks_carry_the_option_or_the_person_and_the_state(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    bolt, seen = app
    bob = slack.add_user("Bob")
    dm = slack.dm_channel(ann)
    snooze = {"type": "overflow", "action_id": "snooze", "options": options(3, "s")}
    pick = {"type": "static_select", "action_id": "pick", "placeholder": plain("Pick"),
            "options": options(2, "p")}  # fmt: skip
    who = {"type": "users_select", "action_id": "who", "placeholder": plain("Who")}
    ts = await post_card(client, dm, snooze, pick, who)
    bolt.action(re.compile(".*"))(recorder(seen))

    await slack.click(ann, dm, ts, "snooze", "s1")
    await slack.click(ann, dm, ts, "pick", "p0")
    await slack.click(ann, dm, ts, "who", bob)

    over, select, person = [await seen.next() for _ in range(3)]
    assert over["actions"][0]["selected_option"] == {"text": plain("s1"), "value": "s1"}
    assert select["actions"][0]["selected_option"] == {"text": plain("p0"), "value": "p0"}
    assert select["state"]["values"]["task:7"]["pick"] == {
        "type": "static_select", "selected_option": {"text": plain("p0"), "value": "p0"},
    }  # fmt: skip
    assert person["actions"][0]["selected_user"] == bob
    assert person["state"]["values"]["task:7"]["who"] == {"type": "users_select",
                                                          "selected_user": bob}  # fmt: skip


async def test_only_what_is_on_the_message_now_can_be_clicked(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    dm = slack.dm_channel(ann)
    snooze = {"type": "overflow", "action_id": "snooze", "options": options(2, "s")}
    ts = await post_card(client, dm, button("go", "task:7"), snooze)

    with pytest.raises(ValueError, match="no element"):
        await slack.click(ann, dm, ts, "delete-everything")
    with pytest.raises(ValueError, match="another value"):
        await slack.click(ann, dm, ts, "go", "task:8")  # a forged value
    with pytest.raises(ValueError, match="no option"):
        await slack.click(ann, dm, ts, "snooze", "s9")
    await client.chat_update(channel=dm, ts=ts, text="done", blocks=[section("done")])
    with pytest.raises(ValueError, match="no element"):
        await slack.click(ann, dm, ts, "go", "task:7")  # the button went with the edit
    with pytest.raises(ValueError, match="is not in"):
        await slack.click(slack.add_user("Bob"), dm, ts, "go")  # not Bob's DM
    assert slack.interactions == []


async def test_respond_through_the_response_url_replaces_or_deletes_the_clicked_message(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    bolt, _ = app
    dm = slack.dm_channel(ann)
    first = await post_card(client, dm, button("done"))

    @bolt.action("done")
    async def done(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(text="Done ✔", replace_original=True)

    @bolt.action("drop")
    async def drop(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        await respond(delete_original=True)

    await slack.click(ann, dm, first, "done")
    edited = await slack.wait_for_message(dm, lambda m: m.text == "Done ✔")
    assert (edited.ts, [v.text for v in edited.edits]) == (first, ["card"])

    second = await post_card(client, dm, button("drop"))
    await slack.click(ann, dm, second, "drop")
    assert (await slack.wait_for_message(dm, lambda m: m.deleted)).ts == second


async def test_a_click_on_an_ephemeral_message_and_its_replacement(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    bolt, seen = app
    dm = slack.dm_channel(ann)
    shown = await client.chat_postEphemeral(channel=dm, user=ann, text="confirm?",
                                            blocks=[actions(button("yes"))])  # fmt: skip

    @bolt.action("yes")
    async def yes(ack: AsyncAck, body: Json, respond: AsyncRespond) -> None:
        await ack()
        seen.add(body)
        await respond(text="Confirmed", replace_original=True)

    result = await slack.click_ephemeral(ann, dm, shown["message_ts"], "yes")

    assert not result.failed
    body = await seen.next()
    assert body["container"]["is_ephemeral"] is True
    assert "message" not in body  # Slack leaves it out for an ephemeral message
    replaced = await slack.wait_for_ephemeral(ann, lambda e: e.text == "Confirmed")
    assert (replaced.ts, [v.text for v in replaced.edits]) == (shown["message_ts"], ["confirm?"])
    assert [e.text for e in slack.ephemerals(ann)] == ["Confirmed"]
