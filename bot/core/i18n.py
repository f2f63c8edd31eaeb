"""Every user-facing string, in Russian and English, from one catalogue file.

``bot/core/locales/messages.toml`` keeps both languages of a message side by side, so a translator
sees what they translate; a test checks that each message has both and the same placeholders.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime, timedelta
from importlib import resources
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core.domain import Value

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
    text = resources.files("bot.core").joinpath("locales/messages.toml").read_text("utf-8")
    return Catalogue(tomllib.loads(text))


class Reader(Value):
    """Who a card is for: their language and timezone."""

    lang: Lang
    timezone: str


def human_duration(t: Catalogue, lang: Lang, minutes: int) -> str:
    hours, rest = divmod(abs(minutes), 60)
    if hours == 0:
        return t(lang, "dur_min", m=rest)
    if rest == 0:
        return t(lang, "dur_h", h=hours)
    return t(lang, "dur_h_min", h=hours, m=rest)


def human_moment(t: Catalogue, reader: Reader, at: int, now: int) -> str:
    zone = ZoneInfo(reader.timezone)
    local, today = datetime.fromtimestamp(at, zone), datetime.fromtimestamp(now, zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return t(reader.lang, "when_today", time=clock)
    if local.date() == today + timedelta(days=1):
        return t(reader.lang, "when_tomorrow", time=clock)
    return t(reader.lang, "when_date", date=local.strftime("%d.%m"), time=clock)
