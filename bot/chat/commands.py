"""The command grammar, parsed once for Telegram (``/remind 60m``) and Slack (``/amo remind 60m``).

A parse either gives a typed command or a ``CommandError`` naming the catalogue message that says
what was wrong, with the usage example of that command.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.admin import ADMIN_NAMES, AdminCommand, GrammarError, parse_admin
from bot.core import Channel, Lang, ParseError, Value, as_lang, parse_duration
from bot.people import MAX_MUTE_MINUTES, HoursError, WorkingHours, parse_hours

MIN_DIGEST_MINUTES = 15
MAX_DIGEST_MINUTES = 12 * 60

MAX_LEAD_TIMES = 5
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Start(Value):
    name: Literal["start"] = "start"
    payload: str | None = None


class Help(Value):
    name: Literal["help"] = "help"


class Tasks(Value):
    name: Literal["tasks"] = "tasks"


class Remind(Value):
    name: Literal["remind"] = "remind"
    lead_minutes: tuple[int, ...]


class SetTimezone(Value):
    name: Literal["tz"] = "tz"
    timezone: str | None  # None: show the current one


class SetLanguage(Value):
    name: Literal["lang"] = "lang"
    lang: Lang | None  # None: show the current one


class SetMessenger(Value):
    """Which linked messenger alerts and reminders go to; ``everywhere``: all of them."""

    name: Literal["messenger"] = "messenger"
    channel: Channel | None = None
    everywhere: bool = False  # with no channel and not everywhere: show the current choice


class Quiet(Value):
    """Quiet hours every day, in the user's timezone; neither set nor ``off``: show them."""

    name: Literal["quiet"] = "quiet"
    start: time | None = None
    end: time | None = None
    off: bool = False


class Hours(Value):
    """``/hours 10:00-19:00 mon-fri``: the person's working hours; ``off``: the account's;
    neither: show them."""

    name: Literal["hours"] = "hours"
    hours: WorkingHours | None = None
    off: bool = False


class Mute(Value):
    """Hold alerts and reminders for a while; neither set nor ``off``: show the mute."""

    name: Literal["mute"] = "mute"
    minutes: int | None = None
    off: bool = False


class Digest(Value):
    """``/digest 30m`` or ``/digest daily 09:00``: alerts come together; ``off``: at once.
    Nothing set and not ``off``: show the choice."""

    name: Literal["digest"] = "digest"
    every_min: int | None = None
    daily: time | None = None
    off: bool = False


class Unlink(Value):
    name: Literal["unlink"] = "unlink"


class Invite(Value):
    """Admins: a one-time deep link that links a given amoCRM user's Telegram."""

    name: Literal["invite"] = "invite"
    email: str


class Link(Value):
    """Slack: link the caller by their Slack e-mail; ``everyone``: an admin links every match."""

    name: Literal["link"] = "link"
    everyone: bool = False


UserCommand = (
    Start | Help | Tasks | Remind | SetTimezone | SetLanguage | SetMessenger | Quiet | Hours
    | Mute | Digest | Unlink | Invite | Link
)  # fmt: skip
Command = UserCommand | AdminCommand

# Commands shown in Telegram's menu (setMyCommands), in this order; catalogue key "cmd_<name>".
MENU = ("tasks", "mute", "quiet", "digest", "remind", "tz", "lang", "help", "unlink")


class CommandError(Exception):
    """``code`` is a catalogue key explaining the mistake (``params`` fill it in); ``usage``
    the key of an example."""

    def __init__(self, code: str, usage: str | None = None, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.usage = usage
        self.params = params


def parse_command(text: str) -> Command:
    """``/remind 60m,15m`` (a leading slash and a ``@botname`` suffix are optional)."""
    words = text.strip().split(maxsplit=1)
    if not words:
        raise CommandError("unknown_command", "usage_help")
    name = words[0].lstrip("/").split("@", 1)[0].lower()
    args = words[1].strip() if len(words) > 1 else ""
    if name == "start":
        return Start(payload=args or None)
    if name == "help":
        return Help()
    if name == "tasks":
        return Tasks()
    if name == "remind":
        return Remind(lead_minutes=_lead_times(args))
    if name == "tz":
        return SetTimezone(timezone=_timezone(args) if args else None)
    if name == "lang":
        return SetLanguage(lang=_lang(args) if args else None)
    if name == "messenger":
        return _messenger(args)
    if name == "quiet":
        return _quiet(args)
    if name in ("hours", "часы"):
        return _hours(args)
    if name == "mute":
        return _mute(args)
    if name == "digest":
        return _digest(args)
    if name == "unlink":
        return Unlink()
    if name == "link":
        if args.lower() in ("", "me"):
            return Link()
        if args.lower() in ("all", "everyone", "все", "всех"):
            return Link(everyone=True)
        raise CommandError("bad_link_args", "usage_link")
    if name in ADMIN_NAMES:
        try:
            return parse_admin(name, args)
        except GrammarError as exc:
            raise CommandError(exc.code, exc.usage, **exc.params) from None
    if name == "invite":
        if not _EMAIL.match(args):
            raise CommandError("bad_email", "usage_invite")
        return Invite(email=args.lower())
    raise CommandError("unknown_command", "usage_help")


def _lead_times(args: str) -> tuple[int, ...]:
    if not args:
        raise CommandError("remind_missing", "usage_remind")
    if args.lower() in ("off", "выкл", "0"):
        return ()
    minutes: list[int] = []
    for part in re.split(r"[,\s]+", args):
        if not part:
            continue
        try:
            value = int(parse_duration(part).total_seconds() // 60)
        except ParseError as exc:
            raise CommandError(exc.code, "usage_remind") from None
        if value > 7 * 24 * 60:
            raise CommandError("remind_too_early", "usage_remind")
        minutes.append(value)
    if len(minutes) > MAX_LEAD_TIMES:
        raise CommandError("remind_too_many", "usage_remind")
    return tuple(sorted(set(minutes), reverse=True))


MAX_ZONE_CHARS = 64  # the longest IANA name is 32 characters


def _timezone(args: str) -> str:
    """An IANA zone name ZoneInfo can load, or ``CommandError("bad_timezone")``."""
    candidate = args.strip()
    if len(candidate) > MAX_ZONE_CHARS or not candidate.isascii():
        # ZoneInfo reads a file of that name: a long one raises OSError (name too long).
        raise CommandError("bad_timezone", "usage_tz")
    try:
        ZoneInfo(candidate)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder
        # Accept a different case ("europe/moscow") when it names exactly one zone.
        matches = [z for z in available_timezones() if z.lower() == candidate.lower()]
        if len(matches) != 1:
            raise CommandError("bad_timezone", "usage_tz") from None
        candidate = matches[0]
    return candidate


_MESSENGERS: dict[str, Channel | None] = {
    "telegram": "telegram", "tg": "telegram", "телеграм": "telegram", "телеграмм": "telegram",
    "slack": "slack", "слак": "slack", "слэк": "slack",
    "both": None, "all": None, "оба": None, "все": None, "везде": None,
}  # fmt: skip


def _messenger(args: str) -> SetMessenger:
    word = args.strip().lower()
    if not word:
        return SetMessenger()
    if word not in _MESSENGERS:
        raise CommandError("bad_messenger", "usage_messenger")
    channel = _MESSENGERS[word]
    return SetMessenger(channel=channel, everywhere=channel is None)


_OFF = ("off", "выкл", "нет", "no", "none")
_WINDOW = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*[-–—]\s*(\d{1,2})(?::(\d{2}))?$", re.ASCII)


def _quiet(args: str) -> Quiet:
    text = args.strip().lower()
    if not text:
        return Quiet()
    if text in _OFF:
        return Quiet(off=True)
    found = _WINDOW.match(text)
    if found is None:
        raise CommandError("bad_quiet", "usage_quiet")
    h1, m1, h2, m2 = (int(g) if g else 0 for g in found.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise CommandError("bad_quiet", "usage_quiet")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise CommandError("quiet_empty", "usage_quiet")
    return Quiet(start=start, end=end)


def _hours(args: str) -> Hours:
    text = args.strip().lower()
    if not text or text in _OFF:
        return Hours(off=bool(text))
    try:
        return Hours(hours=parse_hours(text))
    except HoursError as exc:
        raise CommandError(exc.code, "usage_hours") from None


def _mute(args: str) -> Mute:
    text = args.strip().lower()
    if not text:
        return Mute()
    if text in _OFF:
        return Mute(off=True)
    try:
        minutes = int(parse_duration(text).total_seconds() // 60)
    except ParseError as exc:
        raise CommandError(exc.code, "usage_mute") from None
    if minutes < 1:
        raise CommandError("bad_duration", "usage_mute")
    if minutes > MAX_MUTE_MINUTES:
        raise CommandError("mute_too_long", "usage_mute")
    return Mute(minutes=minutes)


_DAILY = ("daily", "day", "ежедневно", "утром", "день")
_CLOCK = re.compile(r"^(\d{1,2})(?::(\d{2}))?$", re.ASCII)
DEFAULT_DIGEST_AT = time(9, 0)


def _digest(args: str) -> Digest:
    words = args.strip().lower().split()
    if not words:
        return Digest()
    if len(words) == 1 and words[0] in _OFF:
        return Digest(off=True)
    if words[0] in _DAILY:
        if len(words) == 1:
            return Digest(daily=DEFAULT_DIGEST_AT)
        found = _CLOCK.match(words[1]) if len(words) == 2 else None
        if found is None or int(found[1]) > 23 or int(found[2] or 0) > 59:
            raise CommandError("bad_digest", "usage_digest")
        return Digest(daily=time(int(found[1]), int(found[2] or 0)))
    if len(words) != 1:
        raise CommandError("bad_digest", "usage_digest")
    try:
        minutes = int(parse_duration(words[0]).total_seconds() // 60)
    except ParseError:
        raise CommandError("bad_digest", "usage_digest") from None
    if not MIN_DIGEST_MINUTES <= minutes <= MAX_DIGEST_MINUTES:
        raise CommandError("digest_out_of_range", "usage_digest")
    return Digest(every_min=minutes)


def _lang(args: str) -> Lang:
    code = args.strip().lower()
    if code not in ("ru", "en", "рус", "русский", "english"):
        raise CommandError("bad_lang", "usage_lang")
    return as_lang("ru" if code.startswith("р") else "en" if code == "english" else code)
