"""Block Kit as Slack checks it: the block and element types the emulator knows, and their
limits (the Block Kit reference at docs.slack.dev; slack_sdk's ``models/blocks`` validators
agree).

A violation raises ``BlockError``, whose text reads like the entry Slack puts in
``response_metadata.messages``: a reason, then the JSON pointer of the offending field ("must be
less than 76 characters [json-pointer:/blocks/1/elements/0/text/text]"). A type the emulator
does not know fails as Slack's schema check does: "failed to match all allowed schemas".
"""

from __future__ import annotations

import copy
import re
import secrets
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]
Place = Literal["actions", "accessory", "input"]

MAX_BLOCKS: dict[Surface, int] = {"message": 50, "modal": 100, "home": 100}
BLOCK_TYPES = frozenset({"section", "actions", "context", "divider", "header", "input", "image"})
# The elements people use; an ``image`` element also goes in context blocks and accessories.
ELEMENT_TYPES = frozenset({
    "button", "overflow", "static_select", "users_select", "plain_text_input", "datepicker",
    "timepicker",
})  # fmt: skip
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})
NO_SCHEMA = "failed to match all allowed schemas"

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # datepicker values
TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")  # timepicker values


class BlockError(ValueError):
    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{reason} [json-pointer:{pointer}]")
        self.pointer = pointer
        self.reason = reason


def _too_long(limit: int) -> str:
    return f"must be less than {limit + 1} characters"


class _Checker:
    """One message or view: its block_ids and action_ids must be unique across all of it."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self.block_ids: set[str] = set()
        self.action_ids: set[str] = set()

    # --- leaves -----------------------------------------------------------------------------

    def text(
        self, obj: Any, at: str, limit: int, *, plain_only: bool = False, required: bool = True
    ) -> None:
        if obj is None and not required:
            return
        if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
            raise BlockError(at, f"{NO_SCHEMA} (a text object: plain_text or mrkdwn)")
        if plain_only and obj["type"] != "plain_text":
            raise BlockError(at + "/type", "must be plain_text")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            raise BlockError(at + "/text", "must be more than 0 characters")
        if len(value) > limit:
            raise BlockError(at + "/text", _too_long(limit))

    def string(self, value: Any, at: str, limit: int, *, required: bool = True) -> None:
        if value is None and not required:
            return
        if not isinstance(value, str) or not value:
            raise BlockError(at, "must be more than 0 characters")
        if len(value) > limit:
            raise BlockError(at, _too_long(limit))

    def items(self, items: Any, at: str, low: int, high: int) -> list[Any]:
        if not isinstance(items, list):
            raise BlockError(at, "must be an array")
        if len(items) < low:
            raise BlockError(at, f"must provide at least {low} items")
        if len(items) > high:
            raise BlockError(at, f"must provide at most {high} items")
        return items

    def action_id(self, element: dict[str, Any], at: str) -> None:
        value = element.get("action_id")
        if value is None:
            return  # Slack makes one up
        self.string(value, at + "/action_id", 255)
        if value in self.action_ids:
            raise BlockError(at + "/action_id", f"duplicate action_id {value!r}")
        self.action_ids.add(value)

    def options(self, options: Any, at: str, low: int, high: int) -> None:
        for n, option in enumerate(self.items(options, at, low, high)):
            where = f"{at}/{n}"
            if not isinstance(option, dict):
                raise BlockError(where, f"{NO_SCHEMA} (an option object)")
            self.text(option.get("text"), where + "/text", 75, plain_only=True)
            self.string(option.get("value"), where + "/value", 150)

    def placeholder(self, element: dict[str, Any], at: str) -> None:
        self.text(element.get("placeholder"), at + "/placeholder", 150, plain_only=True,
                  required=False)  # fmt: skip

    def pattern(self, value: Any, at: str, pattern: re.Pattern[str], shape: str) -> None:
        if value is not None and not (isinstance(value, str) and pattern.match(value)):
            raise BlockError(at, f"must match format {shape}")

    # --- elements ---------------------------------------------------------------------------

    def image_element(self, element: dict[str, Any], at: str) -> None:
        self.string(element.get("image_url"), at + "/image_url", 3000)
        self.string(element.get("alt_text"), at + "/alt_text", 2000)

    def element(self, element: Any, at: str, place: Place) -> None:
        kind = element.get("type") if isinstance(element, dict) else None
        if kind == "image" and place == "accessory":
            assert isinstance(element, dict)
            self.image_element(element, at)
            return
        if kind not in ELEMENT_TYPES:
            raise BlockError(at, f"{NO_SCHEMA} (unknown element type {kind!r})")
        assert isinstance(element, dict)
        if kind == "plain_text_input" and place != "input":
            raise BlockError(at, f"{NO_SCHEMA} (plain_text_input only goes in an input block)")
        if kind in ("button", "overflow") and place == "input":
            raise BlockError(at, f"{NO_SCHEMA} ({kind} is not an input element)")
        self.action_id(element, at)
        if kind == "button":
            self.text(element.get("text"), at + "/text", 75, plain_only=True)
            self.string(element.get("value"), at + "/value", 2000, required=False)
            self.string(element.get("url"), at + "/url", 3000, required=False)
            if element.get("style") not in (None, "primary", "danger"):
                raise BlockError(at + "/style", "must be a valid enum value (primary, danger)")
        elif kind == "overflow":
            self.options(element.get("options"), at + "/options", 1, 5)
        elif kind == "static_select":
            self.placeholder(element, at)
            self.options(element.get("options"), at + "/options", 1, 100)
        elif kind == "plain_text_input":
            self.placeholder(element, at)
            for name in ("min_length", "max_length"):
                bound = element.get(name)
                if bound is not None and (not isinstance(bound, int) or not 0 <= bound <= 3000):
                    raise BlockError(f"{at}/{name}", "must be a number from 0 to 3000")
        else:  # users_select, datepicker, timepicker
            self.placeholder(element, at)
            self.pattern(element.get("initial_date"), at + "/initial_date", DATE, "YYYY-MM-DD")
            self.pattern(element.get("initial_time"), at + "/initial_time", TIME, "HH:mm")

    # --- blocks -----------------------------------------------------------------------------

    def block(self, block: Any, at: str) -> None:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind not in BLOCK_TYPES:
            raise BlockError(at, f"{NO_SCHEMA} (unknown block type {kind!r})")
        assert isinstance(block, dict)
        block_id = block.get("block_id")
        if block_id is not None:
            self.string(block_id, at + "/block_id", 255)
            if block_id in self.block_ids:
                raise BlockError(at + "/block_id", f"duplicate block_id {block_id!r}")
            self.block_ids.add(block_id)
        if kind == "section":
            self.section(block, at)
        elif kind == "actions":
            for n, item in enumerate(self.items(block.get("elements"), at + "/elements", 1, 25)):
                self.element(item, f"{at}/elements/{n}", "actions")
        elif kind == "context":
            for n, item in enumerate(self.items(block.get("elements"), at + "/elements", 1, 10)):
                if isinstance(item, dict) and item.get("type") == "image":
                    self.image_element(item, f"{at}/elements/{n}")
                else:
                    self.text(item, f"{at}/elements/{n}", 3000)
        elif kind == "header":
            self.text(block.get("text"), at + "/text", 150, plain_only=True)
        elif kind == "input":
            if self.surface == "message":
                raise BlockError(at, f"{NO_SCHEMA} (input blocks only go in views)")
            self.text(block.get("label"), at + "/label", 2000, plain_only=True)
            self.text(block.get("hint"), at + "/hint", 2000, plain_only=True, required=False)
            self.element(block.get("element"), at + "/element", "input")
        elif kind == "image":
            self.image_element(block, at)
            self.text(block.get("title"), at + "/title", 2000, plain_only=True, required=False)

    def section(self, block: dict[str, Any], at: str) -> None:
        fields = block.get("fields")
        if block.get("text") is None and fields is None:
            raise BlockError(at, "must provide text or fields")
        self.text(block.get("text"), at + "/text", 3000, required=False)
        if fields is not None:
            for n, item in enumerate(self.items(fields, at + "/fields", 1, 10)):
                self.text(item, f"{at}/fields/{n}", 2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], at + "/accessory", "accessory")


def check_blocks(blocks: Any, surface: Surface, at: str = "/blocks") -> None:
    """Raise ``BlockError`` unless ``blocks`` is valid Block Kit for ``surface``."""
    if not isinstance(blocks, list):
        raise BlockError(at, "must be an array")
    if len(blocks) > MAX_BLOCKS[surface]:
        raise BlockError(at, f"must provide at most {MAX_BLOCKS[surface]} items")
    checker = _Checker(surface)
    for n, block in enumerate(blocks):
        checker.block(block, f"{at}/{n}")


def check_view(view: Any) -> Literal["modal", "home"]:
    """Raise ``BlockError`` unless ``view`` is a valid modal or Home tab; returns which."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        raise BlockError("/view/type", f"{NO_SCHEMA} (a view is a modal or a home)")
    kind: Literal["modal", "home"] = view["type"]
    checker = _Checker(kind)
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", 24, plain_only=True)
        checker.text(view.get("submit"), "/view/submit", 24, plain_only=True, required=False)
        checker.text(view.get("close"), "/view/close", 24, plain_only=True, required=False)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, dict) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            raise BlockError("/view/submit", "must be provided when the view has input blocks")
    checker.string(view.get("callback_id"), "/view/callback_id", 255, required=False)
    checker.string(view.get("private_metadata"), "/view/private_metadata", 3000, required=False)
    checker.string(view.get("external_id"), "/view/external_id", 255, required=False)
    check_blocks(view.get("blocks"), kind, "/view/blocks")
    return kind


def _made_up_id() -> str:
    return secrets.token_hex(3)[:5]


def with_ids(blocks: list[Any]) -> list[Any]:
    """A copy of valid blocks as Slack stores them: a block without a ``block_id``, and an
    interactive element without an ``action_id``, gets a made-up one."""
    stored = copy.deepcopy(blocks)
    for block in stored:
        block.setdefault("block_id", _made_up_id())
        elements = list(block.get("elements") or [])
        elements += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
        for element in elements:
            if isinstance(element, dict) and element.get("type") in ELEMENT_TYPES:
                element.setdefault("action_id", _made_up_id())
    return stored
