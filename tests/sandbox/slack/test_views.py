"""Modals and Home tabs through the Web API: a trigger_id opens one modal within 3 s; views
are pushed, updated (by id or external_id, guarded by their hash) and published."""

from __future__ import annotations

import re

from slack_sdk.web.async_client import AsyncWebClient

from sandbox.slack import SlackEmulator
from tests.sandbox.slack.helpers import error_of, modal, plain, section, text_input

HOME = {"type": "home", "blocks": [section("home")]}


async def test_a_trigger_opens_one_modal(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    trigger = slack.issue_trigger(ann)

    opened = (await client.views_open(trigger_id=trigger, view=modal(text_input())))["view"]

    [shown] = slack.views(ann)
    assert re.fullmatch(r"V[0-9A-Z]+", opened["id"])
    assert (opened["id"], opened["hash"], opened["type"]) == (shown.id, shown.hash, "modal")
    assert (opened["team_id"], opened["app_id"], opened["bot_id"]) == (
        slack.team_id, slack.app_id, slack.bot_id,
    )  # fmt: skip
    assert opened["state"] == {"values": {}}
    assert (opened["callback_id"], opened["root_view_id"]) == ("ask", opened["id"])
    assert opened["title"] == plain("Ask")
    assert await error_of(client.views_open(trigger_id=trigger, view=modal())) == (
        "exchanged_trigger_id"
    )
    assert await error_of(client.views_open(trigger_id="1.2.abc", view=modal())) == (
        "invalid_trigger_id"
    )


async def test_a_trigger_expires(slack: SlackEmulator, client: AsyncWebClient, ann: str) -> None:
    slack.trigger_ttl_s = 0.0  # Slack's 3 s, run out at once

    stale = client.views_open(trigger_id=slack.issue_trigger(ann), view=modal())

    assert await error_of(stale) == "expired_trigger_id"
    assert slack.views(ann) == []


async def test_only_a_modal_is_opened_and_only_a_home_is_published(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    opening_home = client.views_open(trigger_id=slack.issue_trigger(ann), view=HOME)
    assert await error_of(opening_home) == "invalid_arguments"
    assert await error_of(client.views_publish(user_id=ann, view=modal())) == "invalid_arguments"


async def test_a_modal_is_updated_by_id_or_external_id_and_a_stale_hash_refused(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    first = (await client.views_open(trigger_id=slack.issue_trigger(ann),
                                     view=modal(external_id="task:7")))["view"]  # fmt: skip

    second = (await client.views_update(view_id=first["id"], hash=first["hash"],
                                        view=modal(section("two"))))["view"]  # fmt: skip
    third = (await client.views_update(external_id="task:7",
                                       view=modal(section("three"))))["view"]  # fmt: skip

    assert first["id"] == second["id"] == third["id"]
    assert len({first["hash"], second["hash"], third["hash"]}) == 3
    stale = client.views_update(view_id=first["id"], hash=first["hash"], view=modal())
    assert await error_of(stale) == "hash_conflict"
    assert await error_of(client.views_update(view_id="V404", view=modal())) == "not_found"
    [shown] = slack.views(ann)
    assert (shown.view["blocks"][0]["text"]["text"], shown.external_id) == ("three", "task:7")
    assert (await slack.wait_for_view(ann, lambda v: v.hash == third["hash"])).id == first["id"]


async def test_pushed_modals_stack_up_to_three(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    root = (await client.views_open(trigger_id=slack.issue_trigger(ann), view=modal()))["view"]
    pushed = []
    for n in range(2):
        view = modal(callback_id=f"step{n}")
        pushed.append((await client.views_push(trigger_id=slack.issue_trigger(ann),
                                               view=view))["view"])  # fmt: skip

    too_many = client.views_push(trigger_id=slack.issue_trigger(ann), view=modal())
    assert await error_of(too_many) == "push_limit_reached"
    assert [v.id for v in slack.views(ann)] == [root["id"], pushed[0]["id"], pushed[1]["id"]]
    assert (pushed[1]["root_view_id"], pushed[1]["previous_view_id"]) == (
        root["id"], pushed[0]["id"],
    )  # fmt: skip
    assert slack.stats.views_opened == 3


async def test_an_external_id_names_one_view_only(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    await client.views_open(trigger_id=slack.issue_trigger(ann), view=modal(external_id="x"))

    again = client.views_open(trigger_id=slack.issue_trigger(ann), view=modal(external_id="x"))
    assert await error_of(again) == "duplicate_external_id"


async def test_a_home_tab_is_published_per_person_and_a_stale_hash_refused(
    slack: SlackEmulator, client: AsyncWebClient, ann: str
) -> None:
    first = (await client.views_publish(user_id=ann, view=HOME))["view"]
    second = (await client.views_publish(user_id=ann, view=HOME, hash=first["hash"]))["view"]

    assert await error_of(client.views_publish(user_id=ann, view=HOME, hash="1.stale")) == (
        "hash_conflict"
    )
    unknown = client.views_publish(user_id="U404", view=HOME)
    assert await error_of(unknown) == "invalid_arguments"  # not user_not_found, as Slack says
    home = slack.home(ann)
    assert home is not None
    assert (home.id, home.hash, home.kind) == (first["id"], second["hash"], "home")
    assert first["type"] == "home"
