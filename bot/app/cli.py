"""The ``amobridge`` command line: run the service, check the configuration, export reports, run
the emulators."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from bot.app.logs import configure_logging
from bot.app.settings import Settings, SettingsError, load_settings

log = logging.getLogger("amobridge")

app = typer.Typer(
    help="amoCRM task reminders and deal alerts in Telegram and Slack.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings_or_exit() -> Settings:
    try:
        return load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


def _stop_on_signals() -> asyncio.Event:
    """An event set by SIGINT or SIGTERM (installed at once, so a signal during start-up is
    not lost: the service starts, then stops cleanly)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _until_stopped() -> None:
    await _stop_on_signals().wait()


@app.command()
def run() -> None:
    """Run the service: the HTTP server (webhooks, health, metrics) and the scheduler."""
    settings = _settings_or_exit()
    if not settings.amocrm.configured:
        from bot.app.checks import AMOCRM_NOT_CONFIGURED

        typer.echo(
            f"amoCRM is {AMOCRM_NOT_CONFIGURED}. `amobridge check` says what else is missing; "
            "`amobridge demo` and `amobridge sandbox` run without any configuration.",
            err=True,
        )
        raise typer.Exit(2)
    configure_logging(settings.log_level, settings.log_format)
    from bot.app.checks import STORE_SETTING
    from bot.app.errors import StartupError
    from bot.app.wiring import running_service
    from bot.store import StoreOpenError

    async def main() -> None:
        stop = _stop_on_signals()
        async with running_service(settings) as service:
            for line in service.describe():
                typer.echo(line)
            if settings.amocrm.uses_oauth and await service.store.load_tokens("amocrm") is None:
                typer.echo(
                    "amoCRM: not authorised yet: run `amobridge authorize` and open the link "
                    "as an amoCRM administrator"
                )
            log.info("amobridge started, listening on port %s", service.port)
            await stop.wait()
            log.info("amobridge stopping")
        log.info("amobridge stopped")

    # A set-up mistake found while starting: one line saying what to fix, not a traceback.
    try:
        asyncio.run(main())
    except StoreOpenError as exc:
        typer.echo(f"store: {exc} ({STORE_SETTING})", err=True)
        raise typer.Exit(2) from None
    except StartupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command()
def check() -> None:
    """Check amoCRM and the messengers: exit 0 only when ready to go live."""
    settings = _settings_or_exit()
    from bot.app.checks import run_checks

    rows = asyncio.run(run_checks(settings))
    width = max(len(r.part) for r in rows)
    for row in rows:
        typer.echo(f"{row.mark.ljust(4)}  {row.part.ljust(width)}  {row.detail}")
    if any(row.ok is False for row in rows):
        raise typer.Exit(1)


@app.command()
def setup() -> None:
    """Register the amoCRM webhook at AMOBRIDGE_PUBLIC_URL (safe to run again)."""
    settings = _settings_or_exit()
    from bot.app.checks import explain_amo_error
    from bot.app.setup import SetupError, register_amocrm_webhook
    from integrations.amocrm import AmoError

    try:
        destination = asyncio.run(register_amocrm_webhook(settings))
    except SetupError as exc:
        typer.echo(f"setup: {exc}", err=True)
        raise typer.Exit(2) from None
    except AmoError as exc:
        typer.echo(f"setup: {explain_amo_error(exc)}", err=True)
        raise typer.Exit(1) from None
    # The secret is part of the URL: show only where it goes.
    typer.echo(f"amoCRM webhook registered: {destination.rsplit('/', 1)[0]}/<secret>")


@app.command()
def authorize(
    code: str | None = typer.Option(
        None,
        "--code",
        help="The code amoCRM gave (or the whole address it redirected to), for a server "
        "amoCRM cannot reach.",
    ),
) -> None:
    """Connect amoCRM by OAuth: print the link to open, or exchange a pasted code."""
    settings = _settings_or_exit()
    from bot.app.authorize import AuthorizeError, authorization_url, exchange_pasted_code

    try:
        if code is None:
            url = asyncio.run(authorization_url(settings))
        else:
            account = asyncio.run(exchange_pasted_code(settings, code))
    except AuthorizeError as exc:
        typer.echo(f"authorize: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    if code is None:
        typer.echo("Open this link as an amoCRM administrator and press Allow (valid 1 hour):")
        typer.echo(url)
        typer.echo(
            f"amoCRM then sends you to {settings.amocrm.redirect_uri}, which connects amobridge. "
            "If that server is not reachable from your browser, copy the code (or the whole "
            "address) from the browser and run: amobridge authorize --code '<code>'"
        )
    else:
        typer.echo(f"amoCRM account {account} is connected; tokens are stored.")


class ExportFormatOption(StrEnum):
    xlsx = "xlsx"
    csv = "csv"


class SheetOption(StrEnum):
    tasks = "tasks"
    people = "people"
    log = "log"


class LangOption(StrEnum):
    ru = "ru"
    en = "en"


def _days(period: str) -> int:
    from bot.admin import parse_period

    days = parse_period(period.strip())
    if days is None:
        raise typer.BadParameter(
            f"“{period}” is not a period: week, month, year, or 1 to 366 days such as 14d",
            param_hint="'--period' / '-p'",
        )
    return days


@app.command()
def export(
    period: str = typer.Option(
        "week", "--period", "-p", help="week, month (30 days), year, or a number of days: 14d.",
    ),
    fmt: Annotated[ExportFormatOption, typer.Option(
        "--format", "-f", help="xlsx: every sheet in a workbook; csv: one sheet (--sheet).",
    )] = ExportFormatOption.xlsx,
    sheet: Annotated[SheetOption, typer.Option(
        "--sheet", "-s", help="The sheet a CSV file holds.",
    )] = SheetOption.tasks,
    group: str | None = typer.Option(
        None, "--group", "-g", help="Only this amoCRM group's people (its name).",
    ),
    out: str = typer.Option(
        "-", "--out", "-o", help="The file to write; - (the default) for standard output.",
    ),
    lang: Annotated[LangOption | None, typer.Option(
        "--lang", help="Headers and words: ru or en (default: the token user's).",
    )] = None,
) -> None:  # fmt: skip
    """Export the report's figures, tasks and log for a period up to now, as XLSX or CSV."""
    days = _days(period)
    if fmt is ExportFormatOption.xlsx and out == "-" and sys.stdout.isatty():
        typer.echo("export: a workbook is binary: give --out FILE, or redirect the output",
                   err=True)  # fmt: skip
        raise typer.Exit(2)
    settings = _settings_or_exit()
    from bot.app.export import ExportError, export_report

    try:
        made = asyncio.run(export_report(
            settings, days=days, fmt=fmt.value, sheet=sheet.value, group=group,
            lang=lang.value if lang is not None else None,
        ))  # fmt: skip
    except ExportError as exc:
        typer.echo(f"export: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    if made.log_cut:
        typer.echo("export: the Log sheet holds the latest lines only, as many as Excel takes; "
                   "the whole log: --format csv --sheet log", err=True)  # fmt: skip
    if out == "-":
        sys.stdout.buffer.write(made.content)
        sys.stdout.buffer.flush()
        return
    try:
        Path(out).write_bytes(made.content)
    except OSError as exc:
        typer.echo(f"export: cannot write {out}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{out}: {made.period}{made.group}, {made.lines} log lines", err=True)


@app.command()
def demo(
    interactive: bool = typer.Option(
        False, "--interactive", "-i", help="After the script, play the manager yourself."
    ),
) -> None:
    """A sales morning end to end: the real service against emulated amoCRM, Telegram and
    Slack."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from sandbox.demo import run_demo

    async def read_line() -> str | None:
        line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        return line or None  # "" is the end of input

    raise typer.Exit(asyncio.run(run_demo(typer.echo, interactive=interactive,
                                          read_line=read_line)))  # fmt: skip


@app.command()
def sandbox(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    amocrm_port: int = typer.Option(8181, help="Port of the amoCRM emulator (0: any free)."),
    telegram_port: int = typer.Option(8182, help="Port of the Telegram emulator (0: any free)."),
    slack_port: int = typer.Option(8183, help="Port of the Slack emulator (0: any free)."),
) -> None:
    """Run the emulators alone, with a seeded demo account, until stopped (Ctrl-C)."""
    from sandbox.cli import serve_sandbox

    asyncio.run(serve_sandbox(host, amocrm_port, telegram_port, slack_port, typer.echo,
                              _until_stopped))  # fmt: skip


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
