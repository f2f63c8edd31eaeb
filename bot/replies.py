"""What an admin command answers: a text, buttons under it, and maybe a file."""

from __future__ import annotations

from bot.domain import Value
from bot.views import Button


class ReplyFile(Value):
    name: str
    content: bytes
    photo: bool = False  # an image to show (Telegram: a photo), not a document to download


class Reply(Value):
    text: str
    rows: tuple[tuple[Button, ...], ...] = ()
    file: ReplyFile | None = None
    failed: bool = False  # a change that was refused as a whole (nothing changed)
