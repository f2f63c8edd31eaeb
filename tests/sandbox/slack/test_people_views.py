"""The workspace's people in the app's views, on a real bolt app over loopback: modal
submissions answered with errors, updates, pushes and clears, what inputs take, closes, and
the Home tab (split from test_people.py by what the people act on)."""

from __future__ import annotations

import pytest
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import (
    App,
    Json,
    actions,
    button,
    modal,
    open_modal,
    options,
    plain,
    recorder,
    section,
    text_input,
)

# --- modals --------------------------------------------------------------------------------


async def test_a_submission_answered_with_errors_keeps_the_modal_open(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    bolt, seen = app
    view_id = await open_modal(slack, client, ann, modal(text_input(), private_metadata="7"))

    @bolt.view("ask")
    async def ask(ack: AsyncAck, view: Json) -> None:
        typed = view["state"]["values"]["q"]["text"]["value"]
        if not typed.strip():
            await ack(response_action="errors", errors={"q": "Type something"})
            return
        await ack()
        seen.add(view)

    with pytest.raises(ValueError, match="requires input"):
        await slack.submit_view(ann, view_id, {})  # Slack's client does not let it through
    refused = await slack.submit_view(ann, view_id, {"q": {"text": "  "}})
    assert (refused.failed, refused.errors) == (False, {"q": "Type something"})
    assert [v.id for v in slack.views(ann)] == [view_id]

    accepted = await slack.submit_view(ann, view_id, {"q": {"text": "why?"}})

    assert (accepted.kind, accepted.failed, accepted.errors) == ("view_submission", False, {})
    assert slack.views(ann) == []
    view = await seen.next()
    assert (view["id"], view["callback_id"], view["private_metadata"]) == (view_id, "ask", "7")
    assert view["state"]["values"] == {"q": {"text": {"type": "plain_text_input",
                                                      "value": "why?"}}}  # fmt: skip


async def test_a_submission_answer_can_update_push_and_clear(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    bolt, _ = app
    root = await open_modal(slack, client, ann, modal(text_input()))

    @bolt.view("ask")
    async def ask(ack: AsyncAck, view: Json) -> None:
        typed = view["state"]["values"]["q"]["text"]["value"]
        if typed == "update":
            await ack(response_action="update", view=modal(text_input(), title=plain("Again")))
        elif typed == "push":
            await ack(response_action="push", view=modal(text_input(), title=plain("More")))
        else:
            await ack(response_action="clear")

    await slack.submit_view(ann, root, {"q": {"text": "update"}})
    [updated] = slack.views(ann)
    assert (updated.id, updated.view["title"]["text"]) == (root, "Again")
    await slack.submit_view(ann, root, {"q": {"text": "push"}})
    assert [v.view["title"]["text"] for v in slack.views(ann)] == ["Again", "More"]
    with pytest.raises(ValueError, match="in front of them"):
        await slack.submit_view(ann, root, {"q": {"text": "x"}})  # it is under the pushed one
    await slack.submit_view(ann, slack.views(ann)[-1].id, {"q": {"text": "clear"}})
    assert slack.views(ann) == []


async def test_inputs_take_what_their_element_takes(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    bolt, seen = app
    bob = slack.add_user("Bob")
    pick = {
        "type": "input",
        "block_id": "p",
        "label": plain("Pick"),
        "element": {"type": "static_select", "action_id": "s", "options": options(2)},
    }
    who = {
        "type": "input",
        "block_id": "w",
        "label": plain("Who"),
        "optional": True,
        "element": {"type": "users_select", "action_id": "u"},
    }
    day = {"type": "input", "block_id": "d", "label": plain("Day"),
           "element": {"type": "datepicker", "action_id": "dp"}}  # fmt: skip
    view_id = await open_modal(slack, client, ann, modal(text_input(max_length=5), pick, who,
                                                         day))  # fmt: skip
    bolt.view("ask")(recorder(seen))
    good = {"q": {"text": "hello"}, "p": {"s": "o1"}, "d": {"dp": "2026-12-01"}}

    with pytest.raises(ValueError, match="0 to 5 characters"):
        await slack.submit_view(ann, view_id, good | {"q": {"text": "too long"}})
    with pytest.raises(ValueError, match="no option"):
        await slack.submit_view(ann, view_id, good | {"p": {"s": "o7"}})
    with pytest.raises(ValueError, match="dispatch_action"):
        await slack.click_view(ann, view_id, "s", "o1")  # a pick in an input is no click
    with pytest.raises(ValueError, match="no input"):
        await slack.submit_view(ann, view_id, good | {"x": {"y": "?"}})
    await slack.submit_view(ann, view_id, good | {"w": {"u": bob}})

    values = (await seen.next())["view"]["state"]["values"]
    assert values["p"]["s"]["selected_option"] == {"text": plain("o1"), "value": "o1"}
    assert values["w"]["u"] == {"type": "users_select", "selected_user": bob}
    assert values["d"]["dp"] == {"type": "datepicker", "selected_date": "2026-12-01"}


async def test_closing_a_modal_tells_the_app_only_if_it_asked(
    slack: SlackEmulator, app: App, client: AsyncWebClient, ann: str
) -> None:
    bolt, seen = app
    bolt.view_closed("ask")(recorder(seen))
    quiet = await open_modal(slack, client, ann, modal())

    assert await slack.close_view(ann, quiet) is None
    assert slack.views(ann) == []
    noisy = await open_modal(slack, client, ann, modal(notify_on_close=True))
    result = await slack.close_view(ann, noisy)

    assert result is not None
    assert (result.kind, result.failed) == ("view_closed", False)
    body = await seen.next()
    assert (body["type"], body["view"]["id"], body["is_cleared"]) == ("view_closed", noisy, False)
    assert slack.views(ann) == []


# --- the Home tab --------------------------------------------------------------------------


async def test_opening_the_home_tab_sends_the_event_and_its_buttons_work(
    slack: SlackEmulator, app: App, ann: str
) -> None:
    bolt, seen = app

    @bolt.event("app_home_opened")
    async def publish_home(event: Json, client: AsyncWebClient) -> None:
        seen.add(event)
        await client.views_publish(user_id=event["user"], view={
            "type": "home", "blocks": [section("Your tasks"), actions(button("refresh"))],
        })  # fmt: skip

    bolt.action("refresh")(recorder(seen))

    result = await slack.open_home(ann)

    assert (result.kind, result.status, result.failed) == ("event", 200, False)
    event = await seen.next()
    assert (event["type"], event["user"], event["tab"], event["channel"]) == (
        "app_home_opened", ann, "home", slack.dm_channel(ann),
    )  # fmt: skip
    assert result.payload["type"] == "event_callback"
    home = await slack.wait_for_view(ann, lambda v: v.kind == "home")
    again = await slack.open_home(ann)
    assert again.payload["event"]["view"]["id"] == home.id
    await seen.next()
    await slack.click_view(ann, home.id, "refresh")
    clicked = await seen.next()
    assert clicked["container"] == {"type": "view", "view_id": home.id}
    assert clicked["view"]["type"] == "home"
    assert "response_url" not in clicked  # Slack gives none for a click in a view
