"""What a Slack user sees and does, for the end-to-end tests: bounded waits, never sleeps."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.slack import SlackEmulator

JsonDict = dict[str, Any]


def shown(blocks: list[JsonDict] | None, text: str = "") -> str:
    """Every text a person sees in a message or view: its blocks' texts, or its plain text."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                found.append(node["text"])
                return
            for key, value in node.items():
                if key not in ("options", "placeholder"):  # what a menu offers is not shown
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks or [])
    return "\n".join(found) if found else text


def message_text(message: Any) -> str:
    return shown(message.blocks, message.text)


def elements(blocks: list[JsonDict] | None) -> list[JsonDict]:
    return [e for b in blocks or [] if b.get("type") == "actions" for e in b["elements"]]


def button(message: Any, label: str) -> JsonDict:
    """The button labelled ``label`` on a message (or in a view's blocks)."""
    blocks = message.blocks if hasattr(message, "blocks") else message["blocks"]
    for element in elements(blocks):
        if element["type"] == "button" and element["text"]["text"] == label:
            return element
    pytest.fail(f"no button {label!r} in {[e.get('action_id') for e in elements(blocks)]}")


def menu(message: Any, kind: str) -> JsonDict:
    """The ``overflow`` or ``static_select`` element of a message."""
    found = [e for e in elements(message.blocks) if e["type"] == kind]
    if not found:
        pytest.fail(f"no {kind} on the message")
    return found[0]


def option(message: Any, kind: str, label: str) -> tuple[str, str]:
    """(action_id, value) of the option labelled ``label`` in the ``kind`` menu
    (``overflow`` or ``static_select``)."""
    blocks = message.blocks if hasattr(message, "blocks") else message["blocks"]
    for element in elements(blocks):
        if element["type"] == kind:
            for choice in element["options"]:
                if choice["text"]["text"] == label:
                    return element["action_id"], choice["value"]
    pytest.fail(f"no {kind} option {label!r}")


async def slack_says(slack: SlackEmulator, channel: str, fragment: str) -> Any:
    """The next bot message (or edit) in ``channel`` showing ``fragment``."""
    try:
        return await slack.wait_for_message(
            channel, lambda m: fragment in message_text(m), timeout_s=15
        )
    except TimeoutError:
        seen = "\n---\n".join(message_text(m) for m in slack.messages(channel))
        pytest.fail(f"the bot never said {fragment!r} in {channel}; it holds:\n{seen}")


async def tells(slack: SlackEmulator, user: str, fragment: str) -> Any:
    """The next ephemeral message to ``user`` showing ``fragment``."""
    try:
        return await slack.wait_for_ephemeral(
            user, lambda m: fragment in message_text(m), timeout_s=15
        )
    except TimeoutError:
        seen = "\n---\n".join(message_text(m) for m in slack.ephemerals(user))
        pytest.fail(f"{user} was never told {fragment!r}; they were told:\n{seen}")


def acked_in_time(result: Any) -> None:
    assert result.status == 200, result
    assert not result.failed, result


async def slack_admin(slack: SlackEmulator) -> str:
    """Anna, amoCRM admin, linked in Slack by her e-mail and speaking English."""
    anna = slack.add_user("Anna Admin", email="anna@demo.example", is_admin=True)
    acked_in_time(await slack.slash_command(anna, "/amo", "link"))
    await tells(slack, anna, "✔")
    acked_in_time(await slack.slash_command(anna, "/amo", "lang en"))
    await tells(slack, anna, "Language: English.")
    return anna
