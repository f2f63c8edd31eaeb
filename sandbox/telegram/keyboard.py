"""reply_markup: parsed, checked as Telegram checks it, kept as sent."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sandbox.telegram.errors import ApiError, bad_request
from sandbox.telegram.params import Params
from sandbox.telegram.records import JsonDict

CALLBACK_DATA_MAX_BYTES = 64
# Fields that give an inline button its kind; the Bot API says exactly one must be used.
_BUTTON_KINDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _button_error(message: str) -> ApiError:
    return bad_request(f"can't parse inline keyboard button: {message}")


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "tg" and (parts.netloc or parts.path):
        return
    if scheme not in ("http", "https"):
        raise bad_request(
            f"inline keyboard button URL '{url}' is invalid: Unsupported URL protocol"
        )
    if not parts.hostname:
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _is_set(button: JsonDict, kind: str) -> bool:
    # The server reads an empty url or callback_data as absent.
    if kind in ("url", "callback_data"):
        return bool(button.get(kind))
    return kind in button


def _check_button(button: Any) -> JsonDict:
    if not isinstance(button, dict):
        raise _button_error("InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise _button_error('Can\'t find field "text"')
    if not text:
        raise bad_request("inline keyboard button text must be non-empty")
    kinds = [kind for kind in _BUTTON_KINDS if _is_set(button, kind)]
    if not kinds:
        raise _button_error("Text buttons are unallowed in the inline keyboard")
    if len(kinds) > 1:
        raise _button_error(
            "exactly one of the optional fields must be used to specify type of the button, "
            f"got {', '.join(kinds)}"
        )
    data = button.get("callback_data")
    if data is not None:
        if not isinstance(data, str):
            raise _button_error('Field "callback_data" must be of type String')
        if len(data.encode("utf-8")) > CALLBACK_DATA_MAX_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    url = button.get("url")
    if url is not None:
        if not isinstance(url, str):
            raise _button_error('Field "url" must be of type String')
        _check_url(url)
    return dict(button)


def _inline(rows: Any) -> JsonDict | None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request(
            'Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
        )
    checked = [[_check_button(button) for button in row] for row in rows]
    if not any(checked):
        return None  # an empty keyboard is no keyboard
    return {"inline_keyboard": checked}


def _reply_keyboard(value: JsonDict) -> JsonDict:
    rows = value["keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('Field "keyboard" must be an Array of Arrays')
    for row in rows:
        for button in row:
            if not isinstance(button, str | dict):
                raise bad_request(
                    "can't parse keyboard button: KeyboardButton must be a String or an Object"
                )
    return dict(value)


def read_reply_markup(params: Params, *, inline_only: bool = False) -> JsonDict | None:
    """The markup to store, None when none was sent. Edits take inline keyboards only."""
    value = params.json("reply_markup", invalid="can't parse reply keyboard markup JSON object")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" in value:
        return _inline(value["inline_keyboard"])
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in value:
        return _reply_keyboard(value)
    if value.get("remove_keyboard") or value.get("force_reply"):
        return dict(value)
    return None


def has_callback_button(markup: JsonDict | None, data: str) -> bool:
    if markup is None:
        return False
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list):
        return False
    return any(
        isinstance(button, dict) and button.get("callback_data") == data
        for row in rows
        if isinstance(row, list)
        for button in row
    )


def inline_part(markup: JsonDict | None) -> JsonDict | None:
    """What a Message object shows: only an inline keyboard is part of the message."""
    if markup is None or "inline_keyboard" not in markup:
        return None
    return markup
