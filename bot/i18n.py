"""Every user-facing string, in Russian and English, from one catalogue file.

``bot/locales/messages.toml`` keeps both languages of a message side by side, so a translator
sees what they translate; a test checks that each message has both and the same placeholders.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Literal

Lang = Literal["ru", "en"]
LANGUAGES: tuple[Lang, ...] = ("ru", "en")
DEFAULT_LANG: Lang = "ru"


def as_lang(value: str | None, default: Lang = DEFAULT_LANG) -> Lang:
    """amoCRM and Telegram language codes ("en-US", "ru") to one of ours."""
    code = (value or "").lower()[:2]
    return "en" if code == "en" else "ru" if code == "ru" else default


class Catalogue:
    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        self._messages = messages

    def __call__(self, lang: Lang, key: str, /, **params: object) -> str:
        """The message ``key`` in ``lang`` with its placeholders filled (KeyError if unknown)."""
        return self._messages[key][lang].format(**params)

    def keys(self) -> frozenset[str]:
        return frozenset(self._messages)

    def raw(self, key: str, lang: Lang) -> str:
        return self._messages[key][lang]


def load_catalogue() -> Catalogue:
    text = resources.files("bot").joinpath("locales/messages.toml").read_text("utf-8")
    return Catalogue(tomllib.loads(text))
