"""Cards as Slack Block Kit: a section with the task, and its actions in Slack's own controls
(Complete as a primary button, Snooze as an overflow menu, Reassign as a select). Pure functions.

Every text is escaped for mrkdwn (``&``, ``<``, ``>``) and clipped to Block Kit's limits, so a CRM
text can neither break the markup nor make Slack refuse the message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.core import Button, Card, DealCard, DigestCard, TaskCard, TextMessage
from bot.tasks import Action, BadPayload, unpack

JsonDict = dict[str, Any]

SECTION_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
OPTION_TEXT_LIMIT = 75
OPTION_VALUE_LIMIT = 150
PLACEHOLDER_LIMIT = 150
SELECT_OPTIONS_LIMIT = 100
OVERFLOW_OPTIONS_LIMIT = 5
FALLBACK_LIMIT = 3000
HOME_BLOCKS_LIMIT = 100
ELLIPSIS = "…"
DEAL_MARK = "💼 "
DUE_MARK = "🕒 "
LINK_ACTION = "link:"  # URL buttons: Slack still reports the click, which only needs an ack


@dataclass(frozen=True, slots=True)
class SlackMessage:
    text: str  # the notification's fallback text
    blocks: list[JsonDict]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def esc(text: str) -> str:
    """Text shown as mrkdwn, as written (Slack's three control characters escaped)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int) -> JsonDict:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def render_card(card: Card) -> SlackMessage:
    if isinstance(card, TextMessage):
        return _render_text(card)
    if isinstance(card, DealCard):
        return _render_deal(card)
    if isinstance(card, DigestCard):
        return _render_digest(card)
    return SlackMessage(text=clip(_fallback(card), FALLBACK_LIMIT), blocks=task_blocks(card))


def _render_text(card: TextMessage) -> SlackMessage:
    blocks: list[JsonDict] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": esc_clip(card.text, SECTION_LIMIT)}}
    ]
    elements = [_button(b, f"msg:{n}") for n, b in enumerate(_flat(card.rows))]
    if elements:
        blocks.append({"type": "actions", "elements": elements[:25]})
    return SlackMessage(text=clip(card.text, FALLBACK_LIMIT), blocks=blocks)


def _render_digest(card: DigestCard) -> SlackMessage:
    """A section per run of lines that fits Block Kit's 3,000 characters, each line a link."""
    lines = []
    for item in card.items:
        text = esc_clip(item.text, 300)
        lines.append(f"• <{item.url}|{text}>" if item.url else f"• {text}")
    if card.more:
        lines.append(f"_{esc_clip(card.more, 300)}_")
    blocks: list[JsonDict] = [{"type": "header", "text": plain(card.heading, 150)}]
    chunks: list[list[str]] = [[]]
    for line in lines:
        if sum(len(x) + 1 for x in chunks[-1]) + len(line) > SECTION_LIMIT:
            chunks.append([])
        chunks[-1].append(line)
    blocks += [
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(chunk)}}
        for chunk in chunks
        if chunk
    ]
    return SlackMessage(text=clip(card.heading, FALLBACK_LIMIT), blocks=blocks[:50])


def _render_deal(card: DealCard) -> SlackMessage:
    title = esc_clip(card.title, 300)
    lines = [f"*{esc_clip(card.heading, 300)}*",
             DEAL_MARK + (f"<{card.url}|{title}>" if card.url else title)]  # fmt: skip
    lines += [esc_clip(line, 300) for line in card.lines[:8]]
    blocks: list[JsonDict] = [{
        "type": "section", "block_id": f"deal:{card.deal_id}",
        "text": {"type": "mrkdwn", "text": "\n".join(lines)},
    }]  # fmt: skip
    if card.outcome:
        blocks.append({
            "type": "context", "block_id": f"deal-outcome:{card.deal_id}",
            "elements": [{"type": "mrkdwn", "text": esc_clip(card.outcome, 2000)}],
        })  # fmt: skip
    elements = [_button(b, f"{LINK_ACTION}deal:{card.deal_id}") for b in _flat(card.rows)]
    if elements:
        blocks.append({"type": "actions", "block_id": f"deal-actions:{card.deal_id}",
                       "elements": elements[:25]})  # fmt: skip
    fallback = f"{card.heading}: {card.title}"
    return SlackMessage(text=clip(fallback, FALLBACK_LIMIT), blocks=blocks)


def _fallback(card: TaskCard) -> str:
    return f"{card.heading}: {card.type_name}: {card.text}"


def esc_clip(text: str, limit: int) -> str:
    """``text`` escaped, and cut so that the escaped form fits ``limit`` (never inside an
    entity such as ``&amp;``)."""
    escaped = esc(text)
    if len(escaped) <= limit:
        return escaped
    out: list[str] = []
    size = 0
    for char in text:
        piece = esc(char)
        if size + len(piece) > limit - 1:
            break
        out.append(piece)
        size += len(piece)
    return "".join(out) + ELLIPSIS


def _section_text(card: TaskCard) -> str:
    first = f"*{esc_clip(card.heading, 300)}*\n*{esc_clip(card.type_name, 300)}:* "
    rest = []
    if card.deal_name is not None:
        deal = esc_clip(card.deal_name, 300)
        rest.append(DEAL_MARK + (f"<{card.deal_url}|{deal}>" if card.deal_url else deal))
    rest.append(DUE_MARK + esc_clip(card.due_text, 300))
    after = "".join("\n" + line for line in rest)
    # The task text gets what the other lines leave of the section's room.
    return first + esc_clip(card.text, SECTION_LIMIT - len(first) - len(after)) + after


def task_blocks(card: TaskCard) -> list[JsonDict]:
    """The blocks of one task (a message, or one entry of the Home tab)."""
    blocks: list[JsonDict] = [
        {
            "type": "section",
            "block_id": f"card:{card.task_id}",
            "text": {"type": "mrkdwn", "text": _section_text(card)},
        }
    ]
    if card.outcome:
        blocks.append({
            "type": "context", "block_id": f"outcome:{card.task_id}",
            "elements": [{"type": "mrkdwn", "text": esc_clip(card.outcome, 2000)}],
        })  # fmt: skip
    elements = _task_elements(card)
    if elements:
        blocks.append(
            {"type": "actions", "block_id": f"task:{card.task_id}", "elements": elements}
        )
    return blocks


def _task_elements(card: TaskCard) -> list[JsonDict]:
    elements: list[JsonDict] = []
    for button in _flat(card.rows):
        action = _action(button)
        if action is Action.SNOOZE_MENU:
            if card.snooze_choices:
                elements.append(_overflow(button, card.snooze_choices))
        elif action is Action.REASSIGN_MENU:
            if card.assignees:
                elements.append(_select(button, card.assignees))
        else:
            elements.append(_button(button, f"{LINK_ACTION}{card.task_id}"))
    return elements[:25]


def _flat(rows: tuple[tuple[Button, ...], ...]) -> list[Button]:
    return [button for row in rows for button in row]


def _action(button: Button) -> Action | None:
    if button.payload is None:
        return None
    try:
        return unpack(button.payload).action
    except BadPayload:
        return None


def _button(button: Button, link_action_id: str) -> JsonDict:
    element: JsonDict = {"type": "button", "text": plain(button.label, BUTTON_TEXT_LIMIT)}
    if button.url is not None:
        element |= {"url": button.url, "action_id": link_action_id}
    else:
        assert button.payload is not None
        element |= {"action_id": button.payload, "value": button.payload}
    if button.primary:
        element["style"] = "primary"
    return element


def _option(label: str, payload: str | None) -> JsonDict:
    assert payload is not None  # payloads are at most 64 bytes, far under Slack's 150
    return {"text": plain(label, OPTION_TEXT_LIMIT), "value": payload}


def _overflow(menu: Button, choices: tuple[Button, ...]) -> JsonDict:
    """Snooze: Slack's overflow has no label of its own, so each option names the action."""
    options = [_option(f"{menu.label}: {c.label}", c.payload) for c in choices]
    assert menu.payload is not None
    return {
        "type": "overflow",
        "action_id": menu.payload,
        "options": options[:OVERFLOW_OPTIONS_LIMIT],
    }


def _select(menu: Button, people: tuple[Button, ...]) -> JsonDict:
    assert menu.payload is not None
    return {
        "type": "static_select",
        "action_id": menu.payload,
        "placeholder": plain(menu.label + "…", PLACEHOLDER_LIMIT),
        "options": [_option(p.label, p.payload) for p in people[:SELECT_OPTIONS_LIMIT]],
    }


def render_home(title: str, note: str, cards: list[TaskCard], empty: str) -> JsonDict:
    """The App Home tab: a header, when it was drawn, and the tasks with their buttons."""
    blocks: list[JsonDict] = [{"type": "header", "text": plain(title, 150)}]
    if note:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": esc_clip(note, 2000)}]}
        )
    if not cards:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": esc(empty)}})
    for card in cards:
        entry = [{"type": "divider"}, *task_blocks(card)]
        if len(blocks) + len(entry) > HOME_BLOCKS_LIMIT:
            break
        blocks += entry
    return {"type": "home", "blocks": blocks}


def render_modal(
    *,
    callback_id: str,
    metadata: str,
    title: str,
    submit: str,
    close: str,
    intro: str,
    block_id: str,
    label: str,
    hint: str,
    multiline: bool,
    max_length: int = 2000,
) -> JsonDict:
    """A modal asking one thing: a comment or a snooze time about one task, a YAML set-up."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain(close, 24),
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": esc_clip(intro, 3000)}},
            {
                "type": "input",
                "block_id": block_id,
                "label": plain(label, 2000),
                "hint": plain(hint, 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": multiline,
                    "max_length": min(max_length, 3000),  # Slack's cap for the input
                },
            },
        ],
    }


_COMMAND = re.compile(
    r"(?<![\w/])/(tasks|remind|tz|lang|help|unlink|start|link|subscribe|subscriptions"
    r"|unsubscribe|supervisor|threshold|stale|preview|config|messenger|quiet|mute|health)\b"
)


def slack_commands(text: str) -> str:
    """A catalogue answer with its commands spelled as Slack has them: ``/tasks`` is
    ``/amo tasks`` (one slash command carries the grammar), ``/start`` is ``/amo link``."""
    return _COMMAND.sub(lambda m: "/amo " + ("link" if m[1] == "start" else m[1]), text)
