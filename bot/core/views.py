"""What a channel shows, decided by the core and already in the reader's language.

A card says what to show (texts, which buttons, in which rows); each channel's renderer says how
(Telegram HTML and an inline keyboard, Slack Block Kit). Texts here are raw: CRM text is escaped
by the renderer for its own markup, and clipped to its limits there.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from bot.core.domain import Value


class Button(Value):
    """A button: an action payload (``bot.tasks.buttons``), or a link when ``url`` is set."""

    label: str
    payload: str | None = None
    url: str | None = None
    primary: bool = False


class TaskCard(Value):
    """One task as a message: a reminder, a line of ``/tasks``, or the same after an action."""

    task_id: int
    heading: str  # "⏰ Due in 15 min", "❗ Overdue by 2 h", "✔ Completed"
    type_name: str  # "Call", "Meeting"
    text: str  # the task's text in amoCRM
    due_text: str  # "today 15:00" in the reader's timezone
    deal_name: str | None = None
    deal_url: str | None = None
    overdue: bool = False
    outcome: str | None = None  # "✔ Completed by Ivan Petrov in Telegram"
    rows: tuple[tuple[Button, ...], ...] = ()
    # The menus behind Snooze and Reassign, for messengers that show them in the message itself
    # (Slack's overflow and select); Telegram opens them on a press instead.
    snooze_choices: tuple[Button, ...] = ()
    assignees: tuple[Button, ...] = ()  # whom the reader may hand the task to


class DealCard(Value):
    """An alert about a deal: what happened, the deal, and the lines its reader may see."""

    deal_id: int
    heading: str  # "🏆 Deal won"
    title: str  # the deal's name
    url: str | None = None
    lines: tuple[str, ...] = ()  # "Negotiation → Won (Sales)", "Responsible: Ivan Petrov"
    outcome: str | None = None
    rows: tuple[tuple[Button, ...], ...] = ()


class TextMessage(Value):
    """A plain message (answers to commands, prompts); ``rows`` as on a card."""

    text: str
    rows: tuple[tuple[Button, ...], ...] = ()


class DigestItem(Value):
    text: str  # "09:12 🏆 Deal won: Umbrella LLC rollout"
    url: str | None = None


class DigestCard(Value):
    """Alerts of digest subscriptions, sent together once a day."""

    heading: str  # "📰 Digest: 12 alerts"
    items: tuple[DigestItem, ...]
    more: str | None = None  # "…and 30 more"
    rows: tuple[tuple[Button, ...], ...] = ()


Card = TaskCard | DealCard | TextMessage | DigestCard
DeliveryOp = Literal["send", "edit"]


# What an admin command answers: a text, buttons under it, and maybe a file.
class ReplyFile(Value):
    # Base64 in JSON: a scheduled report's chart waits in the outbox as JSON (PNG is no UTF-8).
    model_config = ConfigDict(frozen=True, extra="forbid", ser_json_bytes="base64",
                              val_json_bytes="base64")  # fmt: skip

    name: str
    content: bytes
    photo: bool = False  # an image to show (Telegram: a photo), not a document to download


class Reply(Value):
    text: str
    rows: tuple[tuple[Button, ...], ...] = ()
    file: ReplyFile | None = None
    failed: bool = False  # a change that was refused as a whole (nothing changed)
