"""Message text as the Bot API takes it: parse mode, explicit entities, trimming and limits.

The limits apply to the text after parsing and trimming (tdlib's fix_formatted_text), counted in
characters; entity offsets are UTF-16 code units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from sandbox.telegram.errors import bad_request
from sandbox.telegram.htmlparse import HtmlError, parse_html
from sandbox.telegram.records import JsonDict

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
_RAW_BYTES_LIMIT = 1 << 15  # the server refuses longer raw texts before parsing
_TRIMMED = " \t\r\n\v"
_COMMAND = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")

TextKind = Literal["message", "caption"]


@dataclass(frozen=True, slots=True)
class FormattedText:
    text: str
    entities: tuple[JsonDict, ...]
    html: str | None  # the raw text, when it was sent as HTML


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _explicit_entities(value: Any, text_len16: int) -> list[JsonDict]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("can't parse entities JSON object")
    entities: list[JsonDict] = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse MessageEntity: Object expected as MessageEntity")
        kind, offset, length = item.get("type"), item.get("offset"), item.get("length")
        if not isinstance(kind, str) or not isinstance(offset, int) or not isinstance(length, int):
            raise bad_request("can't parse MessageEntity: type, offset and length are required")
        # The server drops entities that do not fit the text rather than failing.
        if offset >= 0 and length > 0 and offset + length <= text_len16:
            entities.append(dict(item))
    return entities


def _trim(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    """Right-trim whitespace, then left-trim spaces and newlines before the first entity."""
    text = text.rstrip(_TRIMMED)
    end16 = utf16_len(text)
    kept: list[JsonDict] = []
    for entity in entities:
        if entity["offset"] >= end16:
            continue
        kept.append({**entity, "length": min(entity["length"], end16 - entity["offset"])})
    first = min((e["offset"] for e in kept), default=end16)
    cut = 0
    while cut < first and text[cut] in " \n":
        cut += 1
    if cut:
        text = text[cut:]
        kept = [{**e, "offset": e["offset"] - cut} for e in kept]
    return text, kept


def format_text(
    raw: str | None, parse_mode: str | None, entities: Any, *, kind: TextKind = "message"
) -> FormattedText:
    """The text a send or edit would store, or the Bot API's 400 for it."""
    if not raw:
        if kind == "caption":
            return FormattedText("", (), None)
        raise bad_request("message text is empty")
    try:
        size = len(raw.encode("utf-8"))
    except UnicodeEncodeError:
        raise bad_request("strings must be encoded in UTF-8") from None
    if size > _RAW_BYTES_LIMIT:
        raise bad_request("text is too long")
    mode = (parse_mode or "").strip().lower()
    html: str | None = None
    if mode in ("", "none"):
        text, found = raw, _explicit_entities(entities, utf16_len(raw))
    elif mode == "html":
        try:
            text, parsed = parse_html(raw)
        except HtmlError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
        found = [e.to_json() for e in parsed]
        html = raw
    elif mode in ("markdown", "markdownv2"):
        # Deliberately not emulated: amobridge renders HTML only.
        raise bad_request("can't parse entities: the emulator implements parse_mode HTML only")
    else:
        raise bad_request("unsupported parse_mode")
    text, found = _trim(text, found)
    if not text.strip(_TRIMMED):
        if kind == "caption":
            return FormattedText("", (), html)
        raise bad_request("text must be non-empty")
    limit = MESSAGE_LIMIT if kind == "message" else CAPTION_LIMIT
    if len(text) > limit:
        raise bad_request(
            "message is too long" if kind == "message" else "message caption is too long"
        )
    return FormattedText(text, tuple(found), html)


def command_entities(text: str) -> tuple[JsonDict, ...]:
    """The bot_command entities Telegram adds to a user's text ("/start payload")."""
    found: list[JsonDict] = []
    for match in _COMMAND.finditer(text):
        offset = utf16_len(text[: match.start()])
        found.append({"type": "bot_command", "offset": offset, "length": utf16_len(match[0])})
    return tuple(found)
