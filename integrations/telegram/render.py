"""Cards as Telegram messages: HTML (parse_mode HTML) and an inline keyboard. Pure functions.

Every text of a card is escaped here, CRM text and catalogue text alike (the latter may quote
what a user typed). Telegram counts its 4096-character limit on the text after parsing, so the
clipping works on the plain texts before they are escaped and tagged: a cut can never land inside
a tag or an entity, and the markup stays balanced.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import Button, Card, DealCard, DigestCard, TaskCard, TextMessage
from bot.tasks import MAX_PAYLOAD_BYTES

MESSAGE_LIMIT = 4096  # characters after entity parsing (Bot API sendMessage)
ELLIPSIS = "…"
# Language-neutral markers: the card's texts come localised, these need no translation.
DEAL_MARK = "💼 "
DUE_MARK = "🕒 "
# The short fields are capped, so that whatever they hold the task text keeps most of the room
# (5 x 300 characters and the separators leave it more than 2500).
FIELD_LIMIT = 300
_SHORT_FIELDS = ("heading", "type_name", "due_text", "deal_name", "outcome")


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    keyboard: InlineKeyboardMarkup | None


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + ELLIPSIS if limit > 0 else ""


def _layout(f: dict[str, str | None], card: TaskCard) -> tuple[str, int]:
    """The HTML for the fields ``f`` and the length of its text after parsing."""
    lines: list[tuple[str, str]] = []  # (html, plain) per line
    heading = f["heading"] or ""
    lines.append((f"<b>{_esc(heading)}</b>", heading))
    task = f"{f['type_name']}: {f['text']}"
    lines.append((_esc(task), task))
    deal = f["deal_name"]
    if deal is not None:
        if card.deal_url:
            link = f'<a href="{html.escape(card.deal_url, quote=True)}">{_esc(deal)}</a>'
            lines.append((_esc(DEAL_MARK) + link, DEAL_MARK + deal))
        else:
            lines.append((_esc(DEAL_MARK + deal), DEAL_MARK + deal))
    due = DUE_MARK + (f["due_text"] or "")
    lines.append((f"<b>{_esc(due)}</b>" if card.overdue else _esc(due), due))
    outcome = f["outcome"]
    if outcome is not None:
        lines.append((f"<i>{_esc(outcome)}</i>", outcome))
    return "\n".join(h for h, _ in lines), len("\n".join(p for _, p in lines))


def _task_html(card: TaskCard) -> str:
    fields: dict[str, str | None] = {"text": ""}
    for name in _SHORT_FIELDS:
        value: str | None = getattr(card, name)
        fields[name] = None if value is None else clip(value, FIELD_LIMIT)
    _, rest = _layout(fields, card)
    # The task text counts once in the parsed length: the room it gets is exact.
    fields["text"] = clip(card.text, MESSAGE_LIMIT - rest)
    return _layout(fields, card)[0]


def _button(button: Button) -> InlineKeyboardButton:
    style = "primary" if button.primary else None
    if button.url is not None:
        return InlineKeyboardButton(text=button.label, url=button.url, style=style)
    if button.payload is None:
        raise ValueError(f"button {button.label!r} has neither a payload nor a url")
    if len(button.payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"button payload over {MAX_PAYLOAD_BYTES} bytes: {button.payload!r}")
    return InlineKeyboardButton(text=button.label, callback_data=button.payload, style=style)


def render_keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    kept = [[_button(b) for b in row] for row in rows if row]
    return InlineKeyboardMarkup(inline_keyboard=kept) if kept else None


def render_card(card: Card) -> Rendered:
    if isinstance(card, TextMessage):
        body = _esc(clip(card.text, MESSAGE_LIMIT))
    elif isinstance(card, DealCard):
        body = _deal_html(card)
    elif isinstance(card, DigestCard):
        body = _digest_html(card)
    else:
        body = _task_html(card)
    return Rendered(html=body, keyboard=render_keyboard(card.rows))


def _digest_html(card: DigestCard) -> str:
    """One line per alert, each a link to its deal; lines are dropped, never cut, to stay under
    the limit (a digest holds at most a few dozen, each under 300 characters)."""
    parts = [f"<b>{_esc(clip(card.heading, FIELD_LIMIT))}</b>"]
    room = MESSAGE_LIMIT - len(card.heading) - FIELD_LIMIT - 2
    for item in card.items:
        text = clip(item.text, FIELD_LIMIT)
        room -= len(text) + 3
        if room < 0:
            break
        line = _esc(text)
        if item.url:
            line = f'<a href="{html.escape(item.url, quote=True)}">{line}</a>'
        parts.append("• " + line)
    if card.more:
        parts.append(f"<i>{_esc(clip(card.more, FIELD_LIMIT))}</i>")
    return "\n".join(parts)


def _deal_html(card: DealCard) -> str:
    """Heading, the deal as a link, its lines, the outcome: each short field capped, so the
    whole stays far under Telegram's limit."""
    title = _esc(clip(card.title, FIELD_LIMIT))
    if card.url:
        title = f'<a href="{html.escape(card.url, quote=True)}">{title}</a>'
    parts = [f"<b>{_esc(clip(card.heading, FIELD_LIMIT))}</b>", _esc(DEAL_MARK) + title]
    parts += [_esc(clip(line, FIELD_LIMIT)) for line in card.lines[:8]]
    if card.outcome:
        parts.append(f"<i>{_esc(clip(card.outcome, FIELD_LIMIT))}</i>")
    return "\n".join(parts)
