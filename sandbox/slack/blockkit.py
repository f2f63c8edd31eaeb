"""Block Kit as Slack checks it: known block and element types, and their limits.

A violation raises ``BlockError`` with a JSON pointer to the offending field, as Slack's
``invalid_blocks`` answer names it in ``response_metadata.messages``.
"""

from __future__ import annotations

from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

MAX_BLOCKS = {"message": 50, "modal": 100, "home": 100}
BLOCK_TYPES = {"section", "actions", "context", "divider", "header", "input", "image"}
ELEMENT_TYPES = {
    "button", "overflow", "static_select", "users_select", "plain_text_input", "datepicker",
    "timepicker",
}  # fmt: skip
TEXT_TYPES = {"plain_text", "mrkdwn"}


class BlockError(ValueError):
    def __init__(self, pointer: str, reason: str) -> None:
        super().__init__(f"{reason} [json-pointer:{pointer}]")
        self.pointer = pointer
        self.reason = reason


class _Checker:
    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self.block_ids: set[str] = set()
        self.action_ids: set[str] = set()

    def fail(self, pointer: str, reason: str) -> BlockError:
        return BlockError(pointer, reason)

    def text(
        self,
        obj: Any,
        pointer: str,
        limit: int,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None and not required:
            return
        if not isinstance(obj, dict) or obj.get("type") not in TEXT_TYPES:
            raise self.fail(pointer, "must be a text object")
        if plain_only and obj["type"] != "plain_text":
            raise self.fail(pointer + "/type", "must be plain_text")
        value = obj.get("text")
        if not isinstance(value, str) or not value:
            raise self.fail(pointer + "/text", "must be a non-empty string")
        if len(value) > limit:
            raise self.fail(pointer + "/text", f"must be at most {limit} characters")

    def string(self, value: Any, pointer: str, limit: int, *, required: bool = True) -> None:
        if value is None and not required:
            return
        if not isinstance(value, str) or (required and not value):
            raise self.fail(pointer, "must be a non-empty string")
        if len(value) > limit:
            raise self.fail(pointer, f"must be at most {limit} characters")

    def action_id(self, element: dict[str, Any], pointer: str) -> None:
        value = element.get("action_id")
        if value is None:
            return  # Slack makes one up
        self.string(value, pointer + "/action_id", 255)
        if value in self.action_ids:
            raise self.fail(pointer + "/action_id", f"duplicate action_id {value!r}")
        self.action_ids.add(value)

    def options(self, options: Any, pointer: str, low: int, high: int) -> None:
        if not isinstance(options, list) or not low <= len(options) <= high:
            raise self.fail(pointer, f"must hold {low} to {high} options")
        for n, option in enumerate(options):
            at = f"{pointer}/{n}"
            if not isinstance(option, dict):
                raise self.fail(at, "must be an option object")
            self.text(option.get("text"), at + "/text", 75)
            self.string(option.get("value"), at + "/value", 150)

    def element(self, element: Any, pointer: str, *, in_input: bool = False) -> None:
        if not isinstance(element, dict) or element.get("type") not in ELEMENT_TYPES:
            raise self.fail(pointer + "/type", "unknown element type")
        kind = element["type"]
        if kind == "plain_text_input" and not in_input:
            raise self.fail(pointer, "plain_text_input only goes in an input block")
        self.action_id(element, pointer)
        if kind == "button":
            self.text(element.get("text"), pointer + "/text", 75, plain_only=True)
            self.string(element.get("value"), pointer + "/value", 2000, required=False)
            self.string(element.get("url"), pointer + "/url", 3000, required=False)
            if element.get("style") not in (None, "primary", "danger"):
                raise self.fail(pointer + "/style", "must be primary or danger")
        elif kind == "overflow":
            self.options(element.get("options"), pointer + "/options", 1, 5)
        elif kind == "static_select":
            self.text(element.get("placeholder"), pointer + "/placeholder", 150,
                      plain_only=True, required=False)  # fmt: skip
            self.options(element.get("options"), pointer + "/options", 1, 100)
        elif kind == "plain_text_input":
            self.text(element.get("placeholder"), pointer + "/placeholder", 150,
                      plain_only=True, required=False)  # fmt: skip
            maximum = element.get("max_length")
            if maximum is not None and (not isinstance(maximum, int) or not 1 <= maximum <= 3000):
                raise self.fail(pointer + "/max_length", "must be 1 to 3000")

    def block(self, block: Any, pointer: str) -> None:
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            raise self.fail(pointer + "/type", "unknown block type")
        block_id = block.get("block_id")
        if block_id is not None:
            self.string(block_id, pointer + "/block_id", 255)
            if block_id in self.block_ids:
                raise self.fail(pointer + "/block_id", f"duplicate block_id {block_id!r}")
            self.block_ids.add(block_id)
        kind = block["type"]
        if kind == "section":
            fields = block.get("fields")
            if block.get("text") is None and not fields:
                raise self.fail(pointer, "a section needs text or fields")
            self.text(block.get("text"), pointer + "/text", 3000, required=False)
            if fields is not None:
                if not isinstance(fields, list) or len(fields) > 10:
                    raise self.fail(pointer + "/fields", "at most 10 fields")
                for n, item in enumerate(fields):
                    self.text(item, f"{pointer}/fields/{n}", 2000)
            if block.get("accessory") is not None:
                self.element(block["accessory"], pointer + "/accessory")
        elif kind == "actions":
            items = block.get("elements")
            if not isinstance(items, list) or not 1 <= len(items) <= 25:
                raise self.fail(pointer + "/elements", "must hold 1 to 25 elements")
            for n, item in enumerate(items):
                self.element(item, f"{pointer}/elements/{n}")
        elif kind == "context":
            items = block.get("elements")
            if not isinstance(items, list) or not 1 <= len(items) <= 10:
                raise self.fail(pointer + "/elements", "must hold 1 to 10 elements")
            for n, item in enumerate(items):
                if isinstance(item, dict) and item.get("type") == "image":
                    continue
                self.text(item, f"{pointer}/elements/{n}", 3000)
        elif kind == "header":
            self.text(block.get("text"), pointer + "/text", 150, plain_only=True)
        elif kind == "input":
            if self.surface == "message":
                raise self.fail(pointer, "input blocks only go in views")
            self.text(block.get("label"), pointer + "/label", 2000, plain_only=True)
            self.text(block.get("hint"), pointer + "/hint", 2000, plain_only=True, required=False)
            self.element(block.get("element"), pointer + "/element", in_input=True)
        elif kind == "image":
            self.string(block.get("image_url"), pointer + "/image_url", 3000)
            self.string(block.get("alt_text"), pointer + "/alt_text", 2000)


def check_blocks(blocks: Any, surface: Surface) -> None:
    """Raise ``BlockError`` unless ``blocks`` is valid Block Kit for ``surface``."""
    if not isinstance(blocks, list):
        raise BlockError("/blocks", "must be an array")
    if len(blocks) > MAX_BLOCKS[surface]:
        raise BlockError("/blocks", f"must hold at most {MAX_BLOCKS[surface]} blocks")
    checker = _Checker(surface)
    for n, block in enumerate(blocks):
        checker.block(block, f"/blocks/{n}")


def check_view(view: Any) -> Literal["modal", "home"]:
    """Raise ``BlockError`` unless ``view`` is a valid modal or Home tab; returns which."""
    if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
        raise BlockError("/view/type", "must be modal or home")
    kind: Literal["modal", "home"] = view["type"]
    checker = _Checker(kind)
    if kind == "modal":
        checker.text(view.get("title"), "/view/title", 24, plain_only=True)
        checker.text(view.get("submit"), "/view/submit", 24, plain_only=True, required=False)
        checker.text(view.get("close"), "/view/close", 24, plain_only=True, required=False)
        has_input = any(isinstance(b, dict) and b.get("type") == "input"
                        for b in view.get("blocks") or [])  # fmt: skip
        if has_input and view.get("submit") is None:
            raise BlockError("/view/submit", "a modal with inputs needs a submit button")
    checker.string(view.get("callback_id"), "/view/callback_id", 255, required=False)
    checker.string(view.get("private_metadata"), "/view/private_metadata", 3000, required=False)
    check_blocks(view.get("blocks"), kind)
    return kind
