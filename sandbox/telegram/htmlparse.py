"""Telegram's HTML parse mode, ported from tdlib's `parse_html` (td/telegram/MessageEntity.cpp).

It walks the UTF-8 bytes as tdlib does, so error texts and byte offsets match the real server;
entity offsets and lengths are in UTF-16 code units, as in the Bot API.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from sandbox.telegram.records import JsonDict

_TAGS = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SPACE = frozenset(b" \t\r\n\0\v")  # tdlib's is_space, NUL included
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_ALPHA = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_NAMED: Final = MappingProxyType(
    {b"lt": ord("<"), b"gt": ord(">"), b"amp": ord("&"), b"quot": ord('"')}
)
_DATE_FORMAT = frozenset("tTdDwW")
_LT, _GT, _AMP, _SLASH, _EQ = (ord(c) for c in "<>&/=")
# The order tdlib sorts entities that start and end together (outer kinds first).
_TYPE_ORDER = (
    "blockquote",
    "expandable_blockquote",
    "pre",
    "code",
    "text_link",
    "custom_emoji",
    "date_time",
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
)


class HtmlError(ValueError):
    """The text tdlib gives; the Bot API prefixes it with "can't parse entities: "."""


@dataclass(frozen=True, slots=True)
class Entity:
    type: str
    offset: int  # UTF-16 code units
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    unix_time: int | None = None
    date_time_format: str | None = None

    def to_json(self) -> JsonDict:
        body: JsonDict = {"type": self.type, "offset": self.offset, "length": self.length}
        for key in ("url", "language", "custom_emoji_id", "unix_time", "date_time_format"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        return body


@dataclass(slots=True)
class _Open:
    tag: str
    argument: str
    date: int
    offset: int  # UTF-16 offset in the output
    begin: int  # byte offset in the output


def _decode_entity(data: bytes, pos: int) -> tuple[int, int] | None:
    """(code point, position after the reference), or None when `&` is a literal ampersand."""
    end = pos + 1
    code = 0
    if data[pos + 1] == ord("#"):
        end += 1
        if data[pos + 2] == ord("x"):
            end += 1
            while data[end] in _HEX:
                code = code * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while data[end] in _DIGITS:
                code = code * 10 + data[end] - ord("0")
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return None
    else:
        while data[end] in _ALPHA:
            end += 1
        named = _NAMED.get(data[pos + 1 : end])
        if named is None:
            return None  # unsupported named entities stay literal text
        code = named
    if data[end] == ord(";"):
        end += 1
    return code, end


def _utf8(code: int) -> bytes:
    return chr(code).encode("utf-8", "surrogatepass")


def _lower(raw: bytes) -> str:
    return raw.lower().decode("utf-8", "replace")  # ASCII lowering, as tdlib's to_lower


def _valid_date_format(fmt: str) -> bool:
    return fmt in ("r", "R") or all(c in _DATE_FORMAT for c in fmt)


class _Parser:
    def __init__(self, source: str) -> None:
        # A NUL sentinel: tdlib reads a C string and tests for the terminator.
        self.data = source.encode("utf-8", "surrogatepass") + b"\0"
        self.size = len(self.data) - 1
        self.out = bytearray()
        self.utf16 = 0
        self.stack: list[_Open] = []
        self.entities: list[Entity] = []
        self.had_surrogate = False

    def parse(self) -> tuple[str, list[Entity]]:
        i = 0
        data = self.data
        while i < self.size:
            c = data[i]
            if c == _AMP:
                decoded = _decode_entity(data, i)
                if decoded is not None:
                    code, i = decoded
                    self.utf16 += 2 if code > 0xFFFF else 1
                    self.had_surrogate |= 0xD800 <= code <= 0xDFFF
                    self.out += _utf8(code)
                    continue
            if c != _LT:
                if c & 0xC0 != 0x80:  # the first byte of a character
                    self.utf16 += 2 if c >= 0xF0 else 1
                self.out.append(c)
                i += 1
                continue
            i = self._start_tag(i) if data[i + 1] != _SLASH else self._end_tag(i)
        if self.stack:
            raise HtmlError(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"'
            )
        if self.had_surrogate:
            raise HtmlError(
                "Text contains invalid Unicode characters after decoding HTML entities, check "
                "for unmatched surrogate code units"
            )
        entities = [
            Entity(
                e.type,
                e.offset,
                e.length,
                url=e.url,
                custom_emoji_id=e.custom_emoji_id,
                unix_time=e.unix_time,
                date_time_format=e.date_time_format,
                language=e.language if e.type == "pre" else None,
            )
            for e in self.entities
        ]
        entities.sort(key=lambda e: (e.offset, -e.length, _TYPE_ORDER.index(e.type)))
        return self.out.decode("utf-8"), entities

    def _skip_spaces(self, i: int) -> int:
        while self.data[i] != 0 and self.data[i] in _SPACE:
            i += 1
        return i

    def _start_tag(self, begin: int) -> int:
        data = self.data
        i = begin + 1
        while data[i] not in _SPACE and data[i] != _GT:
            i += 1
        if data[i] == 0:
            raise HtmlError(f"Unclosed start tag at byte offset {begin}")
        tag = _lower(data[begin + 1 : i])
        if tag not in _TAGS:
            raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {begin}')
        argument = ""
        date = 0
        while data[i] != _GT:
            i = self._skip_spaces(i)
            if data[i] == _GT:
                break
            name_begin = i
            while data[i] not in _SPACE and data[i] not in b"=>/\"'":
                i += 1
            name = data[name_begin:i]
            if not name:
                raise HtmlError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
            i = self._skip_spaces(i)
            if data[i] != _EQ:
                if data[i] == 0:
                    raise HtmlError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if tag == "blockquote" and name == b"expandable":
                    argument = "1"
                continue
            i = self._skip_spaces(i + 1)
            if data[i] == 0:
                raise HtmlError(f'Unclosed start tag "{tag}" at byte offset {begin}')
            value, i = self._attribute_value(i)
            if data[i] == 0:
                raise HtmlError(f"Unclosed start tag at byte offset {begin}")
            argument, date = _apply_attribute(tag, name, value, argument, date)
        if tag == "span" and argument != "spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        self.stack.append(_Open(tag, argument, date, self.utf16, len(self.out)))
        return i + 1

    def _attribute_value(self, i: int) -> tuple[str, int]:
        data = self.data
        if data[i] not in b"'\"":
            # A name token: letters, digits, periods or hyphens, not case-sensitive.
            token_begin = i
            while data[i] in _ALNUM or data[i] in b".-":
                i += 1
            if data[i] not in _SPACE and data[i] != _GT:
                raise HtmlError(f"Unexpected end of name token at byte offset {token_begin}")
            return _lower(data[token_begin:i]), i
        quote = data[i]
        i += 1
        value = bytearray()
        while data[i] != quote and data[i] != 0:
            if data[i] == _AMP:
                decoded = _decode_entity(data, i)
                if decoded is not None:
                    code, i = decoded
                    value += _utf8(code)
                    continue
            value.append(data[i])
            i += 1
        if data[i] == quote:
            i += 1
        return value.decode("utf-8", "replace"), i

    def _end_tag(self, begin: int) -> int:
        data = self.data
        if not self.stack:
            raise HtmlError(f"Unexpected end tag at byte offset {begin}")
        i = begin + 1
        while data[i] not in _SPACE and data[i] != _GT:
            i += 1
        end_name = _lower(data[begin + 2 : i])
        while data[i] in _SPACE and data[i] != 0:
            i += 1
        if data[i] != _GT:
            raise HtmlError(f"Unclosed end tag at byte offset {begin}")
        opened = self.stack[-1]
        if end_name and end_name != opened.tag:
            raise HtmlError(
                f'Unmatched end tag at byte offset {begin}, expected "</{opened.tag}>", '
                f'found "</{end_name}>"'
            )
        if self.utf16 > opened.offset:
            self._close(opened)
        self.stack.pop()
        return i + 1

    def _close(self, opened: _Open) -> None:
        offset, length = opened.offset, self.utf16 - opened.offset
        tag, argument = opened.tag, opened.argument
        simple = {
            "i": "italic",
            "em": "italic",
            "b": "bold",
            "strong": "bold",
            "s": "strikethrough",
            "strike": "strikethrough",
            "del": "strikethrough",
            "u": "underline",
            "ins": "underline",
            "tg-spoiler": "spoiler",
            "span": "spoiler",
        }
        last = self.entities[-1] if self.entities else None
        same_span = last is not None and last.offset == offset and last.length == length
        if tag in simple:
            self.entities.append(Entity(simple[tag], offset, length))
        elif tag == "tg-emoji":
            if not argument.isdigit() or int(argument) == 0:
                raise HtmlError("Invalid custom emoji identifier specified")
            self.entities.append(Entity("custom_emoji", offset, length, custom_emoji_id=argument))
        elif tag == "tg-time":
            if not _valid_date_format(argument):
                raise HtmlError("Invalid date format used")
            if opened.date > 0:
                self.entities.append(
                    Entity(
                        "date_time",
                        offset,
                        length,
                        unix_time=opened.date,
                        date_time_format=argument or None,
                    )
                )
        elif tag == "a":
            url = argument or bytes(self.out[opened.begin :]).decode("utf-8", "replace")
            if url.strip():
                self.entities.append(Entity("text_link", offset, length, url=url))
        elif tag == "pre":
            if same_span and last is not None and last.type == "code" and last.language:
                self.entities[-1] = Entity("pre", offset, length, language=last.language)
            else:
                self.entities.append(Entity("pre", offset, length))
        elif tag == "code":
            if same_span and last is not None and last.type == "pre" and argument:
                self.entities[-1] = Entity("pre", offset, length, language=argument)
            else:
                self.entities.append(Entity("code", offset, length, language=argument or None))
        else:  # blockquote
            kind = "expandable_blockquote" if argument else "blockquote"
            self.entities.append(Entity(kind, offset, length))


def _apply_attribute(
    tag: str, name: bytes, value: str, argument: str, date: int
) -> tuple[str, int]:
    if tag == "a" and name == b"href":
        return value, date
    if tag == "code" and name == b"class" and value.startswith("language-"):
        return value[len("language-") :], date
    if tag == "span" and name == b"class" and value.startswith("tg-"):
        return value[len("tg-") :], date
    if tag == "tg-emoji" and name == b"emoji-id":
        return value, date
    if tag == "blockquote" and name == b"expandable":
        return "1", date
    if tag == "tg-time" and name == b"unix":
        try:
            return argument, int(value)
        except ValueError:
            return argument, 0
    if tag == "tg-time" and name == b"format":
        return value, date
    return argument, date


def parse_html(source: str) -> tuple[str, list[Entity]]:
    """Plain text and entities, or HtmlError with tdlib's description."""
    return _Parser(source).parse()
