"""``/config export`` and ``/config import``: the account's alert configuration as YAML.

The file speaks in names, not ids (``pipeline: Sales``), and each subscription is the
``/subscribe`` rule that makes it, so an admin can read and edit it, and keep it in git. An
import is checked as a whole first: one bad entry and nothing changes, and the answer lists
every mistake with where it is. A good file replaces the whole configuration.
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.admin.grammar import GrammarError, Subscribe, parse_admin
from bot.admin.names import Names, UnknownName
from bot.alerts import (
    DEFAULT_SHARED_FIELDS,
    DEFAULTS,
    DIGEST_AT,
    FIELDS,
    MAX_ESCALATE_MIN,
    MIN_ESCALATE_MIN,
    AlertSettings,
    Subscription,
    Subscriptions,
    new_id,
)
from bot.core import Catalogue, Clock, Lang, User, Value
from bot.crm import Directory
from bot.people import (
    MAX_OTHER_MESSENGER_MIN,
    MIN_OTHER_MESSENGER_MIN,
    AccountPrefs,
    HoursError,
    Prefs,
    format_hours,
    parse_hours,
)

MAX_FILE_BYTES = 256 * 1024
MAX_AMOUNT = 10**15
# A wrong value is quoted back briefly: reprlib stops at a few items and levels, so a value
# built from YAML aliases (a "billion laughs" file) is never expanded into text.
_QUOTE = reprlib.Repr()
_QUOTE.maxlevel, _QUOTE.maxlist, _QUOTE.maxdict = 2, 4, 4
_QUOTE.maxstring = _QUOTE.maxother = 40
_ID = re.compile(r"^s[0-9a-f]{6}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StaleEntry(_Strict):
    status: str
    pipeline: str | None = None
    days: int = Field(ge=1, le=365)


class SupervisorEntry(_Strict):
    group: str
    users: list[str] = Field(min_length=1)


class SubscriptionEntry(_Strict):
    id: str | None = None
    rule: str
    lang: Lang | None = None


class ConfigFile(_Strict):
    version: Literal[1] = 1
    big_deal_threshold: int | None = Field(default=None, ge=0, le=MAX_AMOUNT)
    close_date_days: int = Field(default=AlertSettings().close_date_days, ge=1, le=90)
    digest_at: str = Field(default=AlertSettings().digest_at, pattern=DIGEST_AT)
    escalate_after_min: int | None = Field(
        default=AlertSettings().escalate_after_min, ge=MIN_ESCALATE_MIN, le=MAX_ESCALATE_MIN
    )
    control_tasks: bool = False
    # "09:00-18:00 mon-fri" (the /config hours grammar); absent: amobridge's default.
    working_hours: str | None = Field(default=None, max_length=100)
    other_messenger_after_min: int | None = Field(
        default=None, ge=MIN_OTHER_MESSENGER_MIN, le=MAX_OTHER_MESSENGER_MIN
    )
    stale: list[StaleEntry] = Field(default_factory=list)
    supervisors: list[SupervisorEntry] = Field(default_factory=list)
    defaults_off: list[str] = Field(default_factory=list)
    subscriptions: list[SubscriptionEntry] = Field(default_factory=list)


MAX_DEPTH = 20  # the file's own structure is 4 levels deep


class _Loader(yaml.SafeLoader):
    """``yaml.safe_load`` with the nesting bounded: PyYAML's composer recurses once per level, so
    50,000 ``[`` would spin for seconds into a RecursionError; past MAX_DEPTH it stops at once."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self._depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(None, None, "nested too deeply", mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class ConfigFileError(ValueError):
    """The text is not a configuration file: each mistake as a catalogue key and its values."""

    def __init__(self, problems: list[tuple[str, dict[str, object]]]) -> None:
        super().__init__(", ".join(code for code, _ in problems))
        self.problems = problems


def read_config(text: str) -> ConfigFile:
    """The file's structure checked (names are resolved later), or ``ConfigFileError``."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        raise ConfigFileError([("config_too_big", {"kb": MAX_FILE_BYTES // 1024})])
    try:
        raw = yaml.load(text, Loader=_Loader)  # a SafeLoader: no Python objects built
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        raise ConfigFileError([("config_not_yaml", {"line": line})]) from None
    except (RecursionError, ValueError):
        # PyYAML recurses per nesting level, and int() refuses a number of 4,300+ digits.
        raise ConfigFileError([("config_not_yaml", {"line": "?"})]) from None
    if not isinstance(raw, dict):
        raise ConfigFileError([("config_not_mapping", {})])
    try:
        return ConfigFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigFileError([_schema_problem(e) for e in exc.errors()]) from None


def _schema_problem(error: Any) -> tuple[str, dict[str, object]]:
    """One pydantic error in the admin's words: where, and what kind of mistake."""
    where = ".".join(
        f"[{part + 1}]" if isinstance(part, int) else str(part) for part in error["loc"]
    ).replace(".[", "[")
    kind = error["type"]
    if kind == "missing":
        return "config_missing", {"where": where}
    if kind == "extra_forbidden":
        return "config_unknown_key", {"where": where}
    value = error.get("input")
    shown = value if isinstance(value, str) else _QUOTE.repr(value)
    return "config_bad_value", {"where": where, "value": shown[:40]}


class ImportPlan(Value):
    settings: AlertSettings
    account: AccountPrefs
    subscriptions: tuple[Subscription, ...]


@dataclass(frozen=True, slots=True, eq=False)
class ConfigIO:
    _directory: Directory
    _subscriptions: Subscriptions
    _prefs: Prefs
    _names: Names
    _clock: Clock
    _t: Catalogue

    async def export(self, lang: Lang) -> str:
        settings = await self._subscriptions.settings()
        stale: list[dict[str, Any]] = []
        for status_id, days in sorted(settings.stale_days.items()):
            place = await self._names.status_place(status_id)
            if place is not None:  # a stage deleted in amoCRM is dropped, not exported
                stale.append({"pipeline": place[0], "status": place[1], "days": days})
        active = {u.id for u in await self._directory.active_users()}
        supervisors = [
            {"group": await self._names.group_name(group),
             "users": [await self._names.user_name(u) for u in users if u in active]}
            for group, users in sorted(settings.supervisors.items())
            if any(u in active for u in users)  # a departed supervisor is not written back
        ]  # fmt: skip
        subscriptions: list[dict[str, Any]] = []
        for s in await self._subscriptions.configured():
            entry: dict[str, Any] = {"id": s.id, "rule": await self._names.rule(s)}
            if s.lang is not None:
                entry["lang"] = s.lang
            subscriptions.append(entry)
        account_prefs = await self._prefs.account()
        hours = account_prefs.hours
        document = {
            "version": 1,
            "big_deal_threshold": settings.big_deal_price,
            "close_date_days": settings.close_date_days,
            "digest_at": settings.digest_at,
            "escalate_after_min": settings.escalate_after_min,
            "control_tasks": settings.control_tasks,
            "working_hours": format_hours(hours) if hours is not None else None,
            "other_messenger_after_min": account_prefs.other_messenger_after_min,
            "stale": stale,
            "supervisors": supervisors,
            "defaults_off": list(settings.disabled_defaults),
            "subscriptions": subscriptions,
        }
        account = await self._directory.account()
        header = self._t(lang, "config_file_header", account=account.name,
                         defaults=", ".join(s.id for s in DEFAULTS))  # fmt: skip
        body = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=1000)
        return "".join(f"# {line}\n" for line in header.splitlines()) + body

    async def plan(self, text: str, importer: User, lang: Lang) -> ImportPlan | list[str]:
        """The configuration ``text`` describes, or every mistake in it (nothing is applied)."""
        t = self._t
        try:
            file = read_config(text)
        except ConfigFileError as exc:
            return [t(lang, code, **params) for code, params in exc.problems]
        problems: list[str] = []
        subscriptions = await self._subscription_entries(file, importer, lang, problems)
        stale = await self._stale_entries(file, lang, problems)
        supervisors = await self._supervisor_entries(file, lang, problems)
        known_defaults = {s.id for s in DEFAULTS}
        for off in file.defaults_off:
            if off not in known_defaults:
                problems.append(t(lang, "config_bad_default", id=off,
                                  known=", ".join(sorted(known_defaults))))  # fmt: skip
        try:
            hours = parse_hours(file.working_hours) if file.working_hours is not None else None
        except HoursError as exc:
            problems.append(f"working_hours: {t(lang, exc.code)}")
        if problems:
            return problems
        settings = AlertSettings(
            big_deal_price=file.big_deal_threshold,
            close_date_days=file.close_date_days,
            digest_at=file.digest_at,
            escalate_after_min=file.escalate_after_min,
            control_tasks=file.control_tasks,
            stale_days=stale,
            supervisors=supervisors,
            disabled_defaults=tuple(dict.fromkeys(file.defaults_off)),
        )
        account = AccountPrefs(
            hours=hours, other_messenger_after_min=file.other_messenger_after_min
        )
        return ImportPlan(settings=settings, account=account, subscriptions=tuple(subscriptions))

    async def apply(self, plan: ImportPlan) -> None:
        await self._subscriptions.replace_all(plan.subscriptions, plan.settings)
        await self._prefs.update_account(**plan.account.model_dump())

    # --- the parts --------------------------------------------------------------------------

    async def _subscription_entries(
        self, file: ConfigFile, importer: User, lang: Lang, problems: list[str]
    ) -> list[Subscription]:
        t = self._t
        made: list[Subscription] = []
        seen: set[str] = set()
        for number, entry in enumerate(file.subscriptions, start=1):
            where = t(lang, "config_where_subscription", n=number, id=entry.id or "—")
            if entry.id is not None and (not _ID.match(entry.id) or entry.id in seen):
                problems.append(f"{where}: {t(lang, 'config_bad_id', id=entry.id)}")
                continue
            try:
                command = parse_admin("subscribe", entry.rule)
                assert isinstance(command, Subscribe)
                if command.target.kind == "here":
                    problems.append(f"{where}: {t(lang, 'config_here')}")
                    continue
                unknown = [f for f in command.fields or () if f not in FIELDS]
                if unknown:
                    bad = t(lang, "admin_bad_fields", fields=", ".join(unknown),
                            known=", ".join(FIELDS))  # fmt: skip
                    problems.append(f"{where}: {bad}")
                    continue
                subscription = Subscription(
                    id=entry.id or new_id(),
                    kind=command.kind,
                    filters=await self._names.filters(command.filters),
                    target=await self._names.target(command.target, me=importer.id, here=None),
                    fields=command.fields or DEFAULT_SHARED_FIELDS,
                    mode=command.mode,
                    created_by=importer.id,
                    lang=entry.lang or lang,
                    report=command.report,
                )
            except GrammarError as exc:
                problems.append(f"{where}: {t(lang, exc.code, **exc.params)}")
                continue
            except UnknownName as exc:
                problems.append(f"{where}: {self._unknown(lang, exc)}")
                continue
            seen.add(subscription.id)
            made.append(subscription)
        return made

    async def _stale_entries(
        self, file: ConfigFile, lang: Lang, problems: list[str]
    ) -> dict[int, int]:
        days: dict[int, int] = {}
        for number, entry in enumerate(file.stale, start=1):
            where = self._t(lang, "config_where_stale", n=number)
            try:
                pipeline = await self._names.pipeline(entry.pipeline) if entry.pipeline else None
                for status in await self._names.statuses(entry.status, pipeline):
                    days[status] = entry.days
            except UnknownName as exc:
                problems.append(f"{where}: {self._unknown(lang, exc)}")
        return days

    async def _supervisor_entries(
        self, file: ConfigFile, lang: Lang, problems: list[str]
    ) -> dict[int, tuple[int, ...]]:
        chosen: dict[int, tuple[int, ...]] = {}
        for number, entry in enumerate(file.supervisors, start=1):
            where = self._t(lang, "config_where_supervisors", n=number)
            try:
                group = await self._names.group(entry.group)
                users = [await self._names.user(name) for name in entry.users]
            except UnknownName as exc:
                problems.append(f"{where}: {self._unknown(lang, exc)}")
                continue
            chosen[group] = tuple(dict.fromkeys((*chosen.get(group, ()), *users)))
        return chosen

    def _unknown(self, lang: Lang, exc: UnknownName) -> str:
        t = self._t
        return t(lang, "admin_unknown_name", what=t(lang, f"what_{exc.what}"), typed=exc.typed,
                 suggestions=", ".join(f"“{s}”" for s in exc.suggestions))  # fmt: skip
