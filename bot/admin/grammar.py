"""The admin commands' grammar: ``/subscribe won pipeline:"Sales" price>=500000 to supervisors``.

Parsing only: names stay as typed (``pipeline:"Sales"``) and are resolved against amoCRM by
``bot.admin.names``, which can suggest the right one. Quoted words keep their spaces; keys and
event names are case-insensitive.

Just over 400 lines on purpose: every admin command's value and its parser sit in one file so
the whole grammar (which the help texts and the YAML config mirror) can be read at once.
"""

from __future__ import annotations

import re
import shlex
from typing import Literal

from bot.alerts import MAX_ESCALATE_MIN, MIN_ESCALATE_MIN, WEEKDAYS, AlertKind, ReportSchedule
from bot.core import ParseError, Value, parse_duration
from bot.people import (
    MAX_OTHER_MESSENGER_MIN,
    MIN_OTHER_MESSENGER_MIN,
    HoursError,
    WorkingHours,
    parse_hours,
)


class GrammarError(Exception):
    """What was wrong (a catalogue key and its values) and the usage example to show."""

    def __init__(self, code: str, usage: str, **params: object) -> None:
        super().__init__(code)
        self.code = code
        self.usage = usage
        self.params = params


EVENT_WORDS: dict[str, AlertKind] = {
    "deal_created": AlertKind.DEAL_CREATED, "new_deal": AlertKind.DEAL_CREATED,
    "deal_moved": AlertKind.DEAL_STATUS, "deal_status": AlertKind.DEAL_STATUS,
    "moved": AlertKind.DEAL_STATUS,
    "won": AlertKind.DEAL_WON, "deal_won": AlertKind.DEAL_WON,
    "lost": AlertKind.DEAL_LOST, "deal_lost": AlertKind.DEAL_LOST,
    "handed": AlertKind.DEAL_RESPONSIBLE, "deal_handed": AlertKind.DEAL_RESPONSIBLE,
    "deal_responsible": AlertKind.DEAL_RESPONSIBLE,
    "big": AlertKind.BIG_DEAL, "big_deal": AlertKind.BIG_DEAL,
    "stale": AlertKind.STALE_DEAL, "stale_deal": AlertKind.STALE_DEAL,
    "close_date": AlertKind.CLOSE_DATE_NEAR, "close_date_near": AlertKind.CLOSE_DATE_NEAR,
    "task_created": AlertKind.TASK_CREATED, "new_task": AlertKind.TASK_CREATED,
    "task_completed": AlertKind.TASK_COMPLETED, "task_done": AlertKind.TASK_COMPLETED,
    "task_overdue": AlertKind.TASK_OVERDUE, "overdue": AlertKind.TASK_OVERDUE,
    "escalated": AlertKind.TASK_ESCALATED, "task_escalated": AlertKind.TASK_ESCALATED,
    "escalation": AlertKind.TASK_ESCALATED,
    "task_handed": AlertKind.TASK_REASSIGNED, "task_reassigned": AlertKind.TASK_REASSIGNED,
    "report": AlertKind.REPORT, "отчёт": AlertKind.REPORT, "отчет": AlertKind.REPORT,
}  # fmt: skip
EVENT_NAMES = ("new_deal", "moved", "won", "lost", "handed", "big_deal", "stale", "close_date",
               "new_task", "task_done", "task_handed", "overdue", "escalated",
               "report")  # fmt: skip
FILTER_KEYS = ("pipeline", "status", "user", "group", "type", "tag", "fields")
TARGET_WORDS = ("me", "responsible", "author", "supervisors", "here")
_PRICE = re.compile(r"^price(>=|<=|>|<)(\d[\d_ ]*)$", re.IGNORECASE | re.ASCII)


class FilterSpec(Value):
    pipeline: str | None = None
    status: str | None = None
    user: str | None = None  # the responsible
    group: str | None = None
    task_type: str | None = None
    tags: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    by_others: bool = False


class TargetSpec(Value):
    """``me``, ``responsible``, ``author``, ``supervisors`` (of ``name``'s group, if given),
    ``user``/``group`` by name, ``here`` (the chat the command came from), or a chat by id."""

    kind: Literal["me", "responsible", "author", "supervisors", "user", "group", "here", "chat"]
    name: str | None = None


class Subscribe(Value):
    name: Literal["subscribe"] = "subscribe"
    kind: AlertKind
    filters: FilterSpec = FilterSpec()
    target: TargetSpec = TargetSpec(kind="responsible")
    fields: tuple[str, ...] | None = None
    mode: Literal["instant", "digest"] = "instant"
    report: ReportSchedule | None = None  # kind REPORT: when


class ListSubscriptions(Value):
    name: Literal["subscriptions"] = "subscriptions"


class Unsubscribe(Value):
    name: Literal["unsubscribe"] = "unsubscribe"
    id: str


class SetSupervisor(Value):
    name: Literal["supervisor"] = "supervisor"
    group: str
    user: str | None  # None: back to the default (the group's G viewers)


class SetThreshold(Value):
    name: Literal["threshold"] = "threshold"
    amount: int | None  # None: off


class SetEscalation(Value):
    """``/escalate 2h``: an overdue task nobody reacted to this long is escalated."""

    name: Literal["escalate"] = "escalate"
    minutes: int | None  # None: off


class SetStale(Value):
    name: Literal["stale"] = "stale"
    status: str
    days: int | None  # None: off


class Preview(Value):
    name: Literal["preview"] = "preview"
    id: str
    days: int = 7


class ConfigExport(Value):
    name: Literal["config_export"] = "config_export"


class ConfigImport(Value):
    """``text``: the YAML typed after the command; None: it comes as a file (or a form)."""

    name: Literal["config_import"] = "config_import"
    text: str | None = None


class ConfigSet(Value):
    """One account setting: ``/config hours 09:00-18:00 mon-fri``, ``/config control_tasks on``,
    ``/config other_messenger 30m``; ``off`` turns it off (hours: amobridge's default)."""

    name: Literal["config_set"] = "config_set"
    key: Literal["hours", "control_tasks", "other_messenger"]
    hours: WorkingHours | None = None
    on: bool = False
    minutes: int | None = None


class Health(Value):
    name: Literal["health"] = "health"


class ShowReport(Value):
    """``/report [week|month|<n>d] [group]``: reactions as a chart."""

    name: Literal["report"] = "report"
    days: int = 7
    group: str | None = None


class ExportActivity(Value):
    """``/export [week|month|<n>d] [group]``: the figures and the log as a workbook."""

    name: Literal["export"] = "export"
    days: int = 7
    group: str | None = None


AdminCommand = (
    Subscribe | ListSubscriptions | Unsubscribe | SetSupervisor | SetThreshold | SetStale | Preview
    | ConfigExport | ConfigImport | ConfigSet | Health | ShowReport | ExportActivity
    | SetEscalation
)  # fmt: skip
ADMIN_COMMANDS = (
    Subscribe, ListSubscriptions, Unsubscribe, SetSupervisor, SetThreshold, SetStale, Preview,
    ConfigExport, ConfigImport, ConfigSet, Health, ShowReport, ExportActivity, SetEscalation,
)  # fmt: skip
ADMIN_NAMES = (
    "subscribe", "subscriptions", "unsubscribe", "supervisor", "threshold", "stale", "preview",
    "config", "health", "report", "export", "escalate",
)  # fmt: skip
MAX_PREVIEW_DAYS = 30
MAX_REPORT_DAYS = 366  # the log keeps a little more (bot.reports.log.KEEP_DAYS)
PERIOD_WORDS = {"week": 7, "неделя": 7, "month": 30, "месяц": 30, "year": 365, "год": 365}


def _words(args: str, usage: str) -> list[str]:
    try:
        return shlex.split(args.replace("“", '"').replace("”", '"').replace("«", '"')
                           .replace("»", '"'))  # fmt: skip
    except ValueError:
        raise GrammarError("admin_unbalanced_quotes", usage) from None


MAX_AMOUNT_DIGITS = 15  # a price up to 10^15; int() refuses over 4,300 digits


def _amount(text: str, usage: str) -> int:
    digits = text.replace("_", "").replace(" ", "")
    # ASCII only: "²".isdigit() is true, and int("²") raises.
    if not (0 < len(digits) <= MAX_AMOUNT_DIGITS and digits.isascii() and digits.isdigit()):
        raise GrammarError("admin_bad_amount", usage, value=text)
    return int(digits)


def parse_admin(name: str, args: str) -> AdminCommand:
    if name == "subscribe":
        return _subscribe(args)
    if name == "subscriptions":
        return ListSubscriptions()
    if name == "health":
        return Health()
    if name == "unsubscribe":
        words = _words(args, "usage_unsubscribe")
        if len(words) != 1:
            raise GrammarError("admin_which_subscription", "usage_unsubscribe")
        return Unsubscribe(id=words[0].lower())
    if name == "supervisor":
        return _supervisor(args)
    if name == "threshold":
        words = _words(args, "usage_threshold")
        if len(words) != 2 or words[0].lower() != "big":
            raise GrammarError("admin_bad_threshold", "usage_threshold")
        off = words[1].lower() in ("off", "выкл")
        return SetThreshold(amount=None if off else _amount(words[1], "usage_threshold"))
    if name == "stale":
        words = _words(args, "usage_stale")
        if len(words) != 2:
            raise GrammarError("admin_bad_stale", "usage_stale")
        if words[1].lower() in ("off", "выкл"):
            return SetStale(status=words[0], days=None)
        try:
            days = parse_duration(words[1]).total_seconds() / 86400
        except ParseError:
            raise GrammarError("admin_bad_stale", "usage_stale") from None
        if days < 1 or days != int(days):
            raise GrammarError("admin_bad_stale", "usage_stale")
        return SetStale(status=words[0], days=int(days))
    if name == "preview":
        return _preview(args)
    if name == "escalate":
        return _escalate(args)
    if name == "config":
        return _config(args)
    if name in ("report", "export"):
        days, group = _period_and_group(args, f"usage_{name}")
        if name == "report":
            return ShowReport(days=days, group=group)
        return ExportActivity(days=days, group=group)
    raise GrammarError("unknown_command", "usage_help")


def _period_and_group(args: str, usage: str) -> tuple[int, str | None]:
    """``[week|month|year|<n>d] [group:"Sales A" | Sales A]``, either part optional."""
    words = _words(args, usage)
    days = 7
    if words and (words[0].lower() in PERIOD_WORDS or words[0][:1].isdigit()):
        first = words.pop(0)
        days = PERIOD_WORDS.get(first.lower(), 0)
        if not days:
            try:
                span = parse_duration(first).total_seconds() / 86400
            except ParseError:
                raise GrammarError("admin_bad_period", usage, word=first) from None
            if span != int(span) or not 1 <= span <= MAX_REPORT_DAYS:
                raise GrammarError("admin_bad_period", usage, word=first)
            days = int(span)
    group = " ".join(words)
    key, sep, value = group.partition(":")
    if sep and key.lower() in ("group", "группа"):
        group = value.strip()
    return days, group or None


_OFF = ("off", "выкл", "no", "нет")
_ON = ("on", "вкл", "yes", "да")


def _config(args: str) -> ConfigExport | ConfigImport | ConfigSet:
    words = args.split(maxsplit=1)
    verb = words[0].lower() if words else ""
    if verb in ("export", "экспорт") and len(words) == 1:
        return ConfigExport()
    if verb in ("hours", "control_tasks", "other_messenger"):
        return _config_set(verb, words[1].strip().lower() if len(words) > 1 else "")
    if verb in ("import", "импорт"):
        # The YAML after the word keeps its lines and indents (split() would eat the first).
        text = args.lstrip()[len(verb) :].lstrip(" \t").removeprefix("\r").removeprefix("\n")
        return ConfigImport(text=text if text.strip() else None)
    raise GrammarError("admin_bad_config", "usage_config")


def _config_set(key: str, value: str) -> ConfigSet:
    usage = f"usage_config_{key}"
    if value in _OFF:
        return ConfigSet(key=key)
    if key == "hours":
        try:
            return ConfigSet(key=key, hours=parse_hours(value))
        except HoursError as exc:
            raise GrammarError(exc.code, usage) from None
    if key == "control_tasks":
        if value not in _ON:
            raise GrammarError("admin_bad_on_off", usage)
        return ConfigSet(key=key, on=True)
    try:
        minutes = parse_duration(value).total_seconds() / 60
    except ParseError:
        raise GrammarError("admin_bad_other_messenger", usage) from None
    if minutes != int(minutes) or not (
        MIN_OTHER_MESSENGER_MIN <= minutes <= MAX_OTHER_MESSENGER_MIN
    ):
        raise GrammarError("admin_bad_other_messenger", usage)
    return ConfigSet(key=key, minutes=int(minutes))


def _escalate(args: str) -> SetEscalation:
    words = _words(args, "usage_escalate")
    if len(words) != 1:
        raise GrammarError("admin_bad_escalate", "usage_escalate")
    if words[0].lower() in ("off", "выкл"):
        return SetEscalation(minutes=None)
    try:
        minutes = parse_duration(words[0]).total_seconds() / 60
    except ParseError:
        raise GrammarError("admin_bad_escalate", "usage_escalate") from None
    if minutes != int(minutes) or not MIN_ESCALATE_MIN <= minutes <= MAX_ESCALATE_MIN:
        raise GrammarError("admin_bad_escalate", "usage_escalate")
    return SetEscalation(minutes=int(minutes))


def _preview(args: str) -> Preview:
    words = _words(args, "usage_preview")
    if not 1 <= len(words) <= 2:
        raise GrammarError("admin_which_subscription", "usage_preview")
    if len(words) == 1:
        return Preview(id=words[0].lower())
    try:
        days = parse_duration(words[1]).total_seconds() / 86400
    except ParseError:
        raise GrammarError("admin_bad_preview", "usage_preview") from None
    if days != int(days) or not 1 <= days <= MAX_PREVIEW_DAYS:
        raise GrammarError("admin_bad_preview", "usage_preview")
    return Preview(id=words[0].lower(), days=int(days))


def _supervisor(args: str) -> SetSupervisor:
    group: str | None = None
    user: str | None = None
    off = False
    for word in _words(args, "usage_supervisor"):
        key, sep, value = word.partition(":")
        if sep and key.lower() == "group" and value:
            group = value
        elif sep and key.lower() == "user" and value:
            user = value
        elif word.lower() in ("off", "default", "выкл"):
            off = True
        elif not sep and user is None:
            user = word.lstrip("@")
        else:
            raise GrammarError("admin_bad_supervisor", "usage_supervisor")
    if group is None or (user is None and not off):
        raise GrammarError("admin_bad_supervisor", "usage_supervisor")
    return SetSupervisor(group=group, user=None if off else user)


def _subscribe(args: str) -> Subscribe:
    usage = "usage_subscribe"
    words = _words(args, usage)
    if not words:
        raise GrammarError("admin_which_event", usage, events=", ".join(EVENT_NAMES))
    kind = EVENT_WORDS.get(words[0].lower())
    if kind is None:
        raise GrammarError("admin_unknown_event", usage, word=words[0],
                           events=", ".join(EVENT_NAMES))  # fmt: skip
    if kind is AlertKind.REPORT:
        return _subscribe_report(words[1:])
    spec: dict[str, object] = {}
    tags: list[str] = []
    target = TargetSpec(kind="responsible")
    fields: tuple[str, ...] | None = None
    mode: Literal["instant", "digest"] = "instant"
    rest = words[1:]
    while rest:
        word = rest.pop(0)
        lower = word.lower()
        if lower == "to":
            if not rest:
                raise GrammarError("admin_bad_target", usage, word="to")
            target = _target(rest.pop(0), usage)
            continue
        if lower in ("by_others", "by-others"):
            spec["by_others"] = True
            continue
        if lower in ("digest", "дайджест", "instant", "сразу"):
            mode = "digest" if lower in ("digest", "дайджест") else "instant"
            continue
        price = _PRICE.match(word)
        if price is not None:
            amount = _amount(price.group(2), usage)
            if price.group(1) in (">=", ">"):
                spec["price_min"] = amount + (1 if price.group(1) == ">" else 0)
            else:
                spec["price_max"] = amount - (1 if price.group(1) == "<" else 0)
            continue
        key, sep, value = word.partition(":")
        key = key.lower()
        if not sep or not value or key not in FILTER_KEYS:
            raise GrammarError("admin_bad_filter", usage, word=word)
        if key == "tag":
            tags.append(value)
        elif key == "fields":
            fields = tuple(f.strip().lower() for f in value.split(",") if f.strip())
        else:
            spec["task_type" if key == "type" else key] = value
    return Subscribe(kind=kind, filters=FilterSpec(tags=tuple(tags), **spec),
                     target=target, fields=fields, mode=mode)  # fmt: skip


_EVERY: dict[str, Literal["daily", "weekly"]] = {
    "weekly": "weekly", "еженедельно": "weekly", "daily": "daily", "ежедневно": "daily",
}  # fmt: skip
_DAY_WORDS = {
    **{day: n for n, day in enumerate(WEEKDAYS)},
    **{day: n for n, day in enumerate(("пн", "вт", "ср", "чт", "пт", "сб", "вс"))},
    **{day: n for n, day in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday",
                                       "saturday", "sunday"))},
}  # fmt: skip
_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$", re.ASCII)


def _subscribe_report(rest: list[str]) -> Subscribe:
    """``report [daily|weekly] [mon] [09:00] [group:"Sales A"] [to …]``: weekly on Monday at
    09:00 unless said otherwise; to the chat it is typed in (a private one: to the admin)."""
    usage = "usage_subscribe_report"
    every: Literal["daily", "weekly"] = "weekly"
    weekday: int | None = None
    at, group = "09:00", None
    target = TargetSpec(kind="here")
    while rest:
        word = rest.pop(0)
        lower = word.lower()
        key, sep, value = word.partition(":")
        if lower in _EVERY:
            every = _EVERY[lower]
        elif lower in _DAY_WORDS:
            weekday = _DAY_WORDS[lower]
        elif (moment := _AT.match(word)) is not None:
            at = f"{int(moment.group(1)):02d}:{moment.group(2)}"
        elif sep and value and key.lower() in ("group", "группа"):
            group = value
        elif lower == "to" and rest:
            target = _target(rest.pop(0), usage)
            if target.kind in ("responsible", "author"):
                raise GrammarError("admin_report_target", usage, word=target.kind)
        else:
            raise GrammarError("admin_bad_report", usage, word=word)
    if every == "daily" and weekday is not None:
        raise GrammarError("admin_report_daily_day", usage)
    schedule = ReportSchedule(every=every, weekday=weekday or 0, at=at)
    return Subscribe(kind=AlertKind.REPORT, filters=FilterSpec(group=group), target=target,
                     report=schedule)  # fmt: skip


def _target(word: str, usage: str) -> TargetSpec:
    lower = word.lower()
    if lower in TARGET_WORDS:
        return TargetSpec(kind=lower)  # one of TARGET_WORDS (checked by pydantic too)
    key, sep, value = word.partition(":")
    if sep and value and key.lower() in ("user", "group", "supervisors"):
        return TargetSpec(kind=key.lower(), name=value)
    if sep and value and key.lower() in ("slack", "telegram"):
        return TargetSpec(kind="chat", name=f"{key.lower()}:{value}")
    raise GrammarError("admin_bad_target", usage, word=word)


def wants_here(command: AdminCommand) -> bool:
    """A subscription "to here": the chat it was typed in must take the bot's messages."""
    return isinstance(command, Subscribe) and command.target.kind == "here"
