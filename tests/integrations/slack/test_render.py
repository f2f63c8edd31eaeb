"""Cards as Block Kit: escaped, clipped to Slack's limits, and with Slack's own controls."""

from __future__ import annotations

from bot.core.views import Button, TaskCard, TextMessage
from integrations.slack.render import (
    SECTION_LIMIT,
    render_card,
    render_home,
    slack_commands,
)

CARD = TaskCard(
    task_id=7, heading="⏰ Due in 15 min", type_name="Call", text="Call back <ACME> & co",
    due_text="Due: today 15:00", deal_name="ACME & Sons",
    deal_url="https://demo.amocrm.ru/leads/detail/5",
    rows=(
        (Button(label="✔ Complete", payload="t:c:7", primary=True),
         Button(label="💬 With comment", payload="t:m:7")),
        (Button(label="⏸ Snooze", payload="t:s:7"), Button(label="↪ Reassign", payload="t:r:7:0")),
        (Button(label="Open in amoCRM", url="https://demo.amocrm.ru/leads/detail/5"),),
    ),
    snooze_choices=(
        Button(label="15 min", payload="t:z:7:15"), Button(label="1 hour", payload="t:z:7:60"),
        Button(label="Tomorrow 09:00", payload="t:z:7:tm"),
        Button(label="Other time…", payload="t:z:7:cu"),
    ),
    assignees=(
        Button(label="Maria", payload="t:a:7:12"), Button(label="Oleg", payload="t:a:7:13"),
    ),
)  # fmt: skip


def test_it_shows_the_task_escaped_with_a_deal_link() -> None:
    section = render_card(CARD).blocks[0]

    assert section["text"]["text"] == (
        "*⏰ Due in 15 min*\n*Call:* Call back &lt;ACME&gt; &amp; co\n"
        "💼 <https://demo.amocrm.ru/leads/detail/5|ACME &amp; Sons>\n🕒 Due: today 15:00"
    )
    assert render_card(CARD).text == "⏰ Due in 15 min: Call: Call back <ACME> & co"


def test_it_puts_snooze_in_an_overflow_and_reassign_in_a_select() -> None:
    actions = render_card(CARD).blocks[-1]
    kinds = [(e["type"], e["action_id"]) for e in actions["elements"]]

    assert kinds == [
        ("button", "t:c:7"), ("button", "t:m:7"), ("overflow", "t:s:7"),
        ("static_select", "t:r:7:0"), ("button", "link:7"),
    ]  # fmt: skip
    complete, _, overflow, select, link = actions["elements"]
    assert (complete["style"], complete["value"]) == ("primary", "t:c:7")
    assert [(o["text"]["text"], o["value"]) for o in overflow["options"]] == [
        ("⏸ Snooze: 15 min", "t:z:7:15"), ("⏸ Snooze: 1 hour", "t:z:7:60"),
        ("⏸ Snooze: Tomorrow 09:00", "t:z:7:tm"), ("⏸ Snooze: Other time…", "t:z:7:cu"),
    ]  # fmt: skip
    assert [o["value"] for o in select["options"]] == ["t:a:7:12", "t:a:7:13"]
    assert select["placeholder"]["text"] == "↪ Reassign…"
    assert link["url"] == "https://demo.amocrm.ru/leads/detail/5"


def test_it_leaves_out_reassign_when_there_is_nobody_to_give_the_task_to() -> None:
    alone = CARD.model_copy(update={"assignees": ()})

    types = [e["type"] for e in render_card(alone).blocks[-1]["elements"]]

    assert "static_select" not in types


def test_an_outcome_replaces_the_buttons() -> None:
    done = CARD.model_copy(update={"outcome": "✔ Completed by Ann <admin>", "rows": (),
                                   "snooze_choices": (), "assignees": ()})  # fmt: skip

    blocks = render_card(done).blocks

    assert [b["type"] for b in blocks] == ["section", "context"]
    assert blocks[1]["elements"][0]["text"] == "✔ Completed by Ann &lt;admin&gt;"


def test_a_huge_text_is_clipped_to_the_section_limit_without_cutting_an_entity() -> None:
    huge = CARD.model_copy(update={"text": "&" * 5000})

    text = render_card(huge).blocks[0]["text"]["text"]

    assert len(text) <= SECTION_LIMIT
    assert "🕒 Due: today 15:00" in text  # the last line survives the cut
    body = text.split("*Call:* ", 1)[1].split("\n", 1)[0]
    assert body.endswith("&amp;…")


def test_long_labels_are_clipped_to_slack_limits() -> None:
    long_name = "Мария " * 30
    card = CARD.model_copy(update={"assignees": (Button(label=long_name, payload="t:a:7:12"),)})

    select = render_card(card).blocks[-1]["elements"][3]

    assert len(select["options"][0]["text"]["text"]) == 75


def test_a_text_message_is_one_escaped_section() -> None:
    message = render_card(TextMessage(text="a < b"))

    assert message.blocks == [{"type": "section", "text": {"type": "mrkdwn", "text": "a &lt; b"}}]


def test_the_home_tab_stays_within_a_hundred_blocks() -> None:
    view = render_home("Your tasks", "Updated: 10:00", [CARD] * 60, "none")

    assert view["type"] == "home"
    assert len(view["blocks"]) <= 100
    assert view["blocks"][0]["type"] == "header"


def test_commands_in_answers_are_spelled_as_slack_has_them() -> None:
    assert slack_commands("Link first: /start") == "Link first: /amo link"
    assert slack_commands("Open it again: /tasks") == "Open it again: /amo tasks"
    assert slack_commands("/amo remind 60m") == "/amo remind 60m"  # already Slack's
    assert slack_commands("https://x.amocrm.ru/tasks") == "https://x.amocrm.ru/tasks"
