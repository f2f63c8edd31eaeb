"""What a Slack user sees and does, for the end-to-end tests: bounded waits, never sleeps."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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


async def _next_showing(
    wait: Callable[..., Awaitable[Any]],
    held: Callable[[str], list[Any]],
    place: str,
    fragment: str,
    never: str,
) -> Any:
    """The next message ``wait`` sees in ``place`` showing ``fragment``; else a failure that
    says ``never`` and shows what ``place`` ``held``."""
    try:
        return await wait(place, lambda m: fragment in message_text(m), timeout_s=15)
    except TimeoutError:
        seen = "\n---\n".join(message_text(m) for m in held(place))
        pytest.fail(f"{never}:\n{seen}")


async def slack_says(slack: SlackEmulator, channel: str, fragment: str) -> Any:
    """The next bot message (or edit) in ``channel`` showing ``fragment``."""
    never = f"the bot never said {fragment!r} in {channel}; it holds"
    return await _next_showing(slack.wait_for_message, slack.messages, channel, fragment, never)


async def tells(slack: SlackEmulator, user: str, fragment: str) -> Any:
    """The next ephemeral message to ``user`` showing ``fragment``."""
    never = f"{user} was never told {fragment!r}; they were told"
    return await _next_showing(slack.wait_for_ephemeral, slack.ephemerals, user, fragment, never)


def acked_in_time(result: Any) -> None:
    assert result.status == 200, result
    assert not result.failed, result


async def amo_tells(
    slack: SlackEmulator, user: str, text: str, fragment: str, *, channel_id: str | None = None
) -> Any:
    """``user`` runs ``/amo text`` (in ``channel_id``), Slack has its answer in time, and they
    are told ``fragment``: that message."""
    acked_in_time(await slack.slash_command(user, "/amo", text, channel_id=channel_id))
    return await tells(slack, user, fragment)


async def slack_card_of(slack: SlackEmulator, user: str, text: str) -> Any:
    """``user`` runs ``/amo tasks``; the card of the task ``text`` in their direct messages."""
    acked_in_time(await slack.slash_command(user, "/amo", "tasks"))
    return await slack_says(slack, slack.dm_channel(user), text)


async def slack_link(
    slack: SlackEmulator, name: str, email: str, *, is_admin: bool = False
) -> str:
    """A Slack user who ran ``/amo link`` and then ``/amo lang en``; returns their id."""
    user = slack.add_user(name, email=email, is_admin=is_admin)
    await amo_tells(slack, user, "link", "✔")  # in their amoCRM language (unless they chose)
    await amo_tells(slack, user, "lang en", "Language: English.")
    return user


async def slack_admin(slack: SlackEmulator) -> str:
    """Anna, amoCRM admin, linked in Slack by her e-mail and speaking English."""
    return await slack_link(slack, "Anna Admin", "anna@demo.example", is_admin=True)
