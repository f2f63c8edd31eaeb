"""``amobridge export``: the ``/export`` files from the command line, read from the same store and
the same amoCRM account as ``run``, by the same settings (names, groups and the account's
timezone come from amoCRM).

Every set-up mistake is an ``ExportError`` whose message says what to fix: the command prints
it as one line and exits with its code (2: the configuration, 1: amoCRM refused or is away).
"""

from __future__ import annotations

import os
from typing import cast

from bot.app.amocrm import build_command_client
from bot.app.checks import AMOCRM_NOT_CONFIGURED, STORE_SETTING, explain_amo_error
from bot.app.settings import Settings
from bot.core import Group, Lang, Reader, SystemClock, load_catalogue
from bot.crm import Directory
from bot.reports import ExportFile, ExportFormat, Sheet, build_reports
from bot.store import StoreOpenError, open_store
from integrations.amocrm import AmoError, AmoTransportError

__all__ = ["ExportError", "export_report"]


class ExportError(Exception):
    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


async def export_report(
    settings: Settings,
    *,
    days: int,
    fmt: ExportFormat,
    sheet: Sheet,
    group: str | None,
    lang: Lang | None,
) -> ExportFile:
    """The export for the ``days`` up to now; ``lang`` None: the language of the token's
    amoCRM user."""
    if not settings.amocrm.configured:
        raise ExportError(f"amoCRM is {AMOCRM_NOT_CONFIGURED}")
    _require_sqlite_file(settings.store_url)
    try:
        store = await open_store(settings.store_url, key_prefix=settings.redis_key_prefix)
    except StoreOpenError as exc:
        raise ExportError(f"store: {exc} ({STORE_SETTING})") from None
    try:
        if settings.amocrm.uses_oauth and await store.load_tokens("amocrm") is None:
            raise ExportError(
                "amoCRM is not authorised yet: run `amobridge authorize` first", exit_code=1
            )
        client, http = await build_command_client(settings, store, "export")
        try:
            clock = SystemClock()
            directory = Directory(client, clock, base_url=str(settings.amocrm.base_url))
            try:
                account = await directory.account()
                me = await directory.user(account.current_user_id or 0)
            except AmoTransportError:
                raise ExportError(
                    "cannot reach amoCRM: check AMOBRIDGE_AMOCRM__BASE_URL and the network",
                    exit_code=1,
                ) from None
            except AmoError as exc:
                raise ExportError(f"amoCRM: {explain_amo_error(exc)}", exit_code=1) from None
            chosen = _group(group, account.groups) if group is not None else None
            if lang is None:
                lang = cast(Lang, me.lang) if me is not None and me.lang in ("ru", "en") else "en"
            reports = build_reports(store, directory, clock, load_catalogue()).reports
            reader = Reader(lang=lang, timezone=account.timezone)
            return await reports.export_file(reader, days, chosen, fmt=fmt, sheet=sheet)
        finally:
            await http.aclose()
    finally:
        await store.close()


def _require_sqlite_file(url: str) -> None:
    """An export reads what ``run`` recorded: a SQLite file that is not there is a wrong path,
    not an empty history (and opening it would leave an empty store behind)."""
    if not url.startswith("sqlite://"):
        return
    path = url.removeprefix("sqlite://").removeprefix("/")
    if path != ":memory:" and not os.path.isfile(path):
        raise ExportError(
            f"store: no SQLite store at {os.path.abspath(path)}: point {STORE_SETTING} at the "
            "file `amobridge run` uses"
        )


def _group(typed: str, groups: tuple[Group, ...]) -> Group:
    """The group named ``typed`` (any case), or the one whose name it starts."""
    wanted = typed.strip().casefold()
    exact = [g for g in groups if g.name.casefold() == wanted]
    starting = [g for g in groups if g.name.casefold().startswith(wanted)]
    found = exact or (starting if len(starting) == 1 else [])
    if not found:
        known = ", ".join(f"“{g.name}”" for g in groups) or "none"
        raise ExportError(f"no group “{typed}” in amoCRM; its groups: {known}")
    return found[0]
