"""``amobridge demo --interactive``: the person at the terminal plays Ivan after the story."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from bot.core import ParseError, parse_duration
from sandbox.demo.people import (
    DemoClock,
    DemoFailed,
    Echo,
    Manager,
    buttons,
    describe,
    transcript,
    until,
)
from sandbox.telegram import TelegramEmulator

HELP = """You are Ivan now. Type:
  say <text>     send a message or a command (say /tasks, say /remind 30m)
  press <label>  press a button on the bot's latest message that has it (press Complete)
  wait <30m>     move the clock ahead (reminders come due)
  show           print the chat
  quit           stop the demo"""


async def play(
    ivan: Manager, tg: TelegramEmulator, clock: DemoClock, echo: Echo,
    read_line: Callable[[], Awaitable[str | None]],
) -> None:  # fmt: skip
    echo("\n" + HELP)
    while True:
        line = await read_line()
        if line is None or line.strip() in ("quit", "exit"):
            return
        verb, _, rest = line.strip().partition(" ")
        before = _versions(tg, ivan)
        if verb == "show":
            echo("\n".join(transcript(tg, ivan)))
            continue
        if verb == "say" and rest:
            await ivan.types(rest)
        elif verb == "press" and rest:
            if not await _press(ivan, tg, rest, echo):
                continue
        elif verb == "wait" and rest:
            try:
                clock.offset += parse_duration(rest).total_seconds()
            except ParseError:
                echo("  wait takes a duration: 30m, 2h, 1d")
                continue
        else:
            echo(HELP)
            continue
        await _answered(tg, ivan, before)
        changed = [m for m in tg.transcript(ivan.user)
                   if before.get(m.message_id) != len(m.edits)]  # fmt: skip
        echo("\n".join(line for m in changed for line in describe(m, ivan)) or "  (nothing new)")


def _versions(tg: TelegramEmulator, manager: Manager) -> dict[int, int]:
    """Each message of the chat and how often it was edited: what changed since is news."""
    return {m.message_id: len(m.edits) for m in tg.transcript(manager.user)}


async def _answered(tg: TelegramEmulator, manager: Manager, before: dict[int, int]) -> None:
    """Wait (a few seconds at most) until the bot has answered or edited, then until the chat
    stays still for a moment (an edit follows a press, cards follow ``/tasks``)."""

    async def changed() -> bool:
        return _versions(tg, manager) != before

    with contextlib.suppress(DemoFailed):
        await until(changed, "an answer")
    settled = _versions(tg, manager)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        await asyncio.sleep(1.2)  # Telegram's pace is one message a second per chat
        now = _versions(tg, manager)
        if now == settled:
            return
        settled = now


async def _press(ivan: Manager, tg: TelegramEmulator, label: str, echo: Echo) -> bool:
    for message in reversed(tg.transcript(ivan.user)):
        match = next((b for b in buttons(message) if label.lower() in b.lower()), None)
        if match is not None:
            await ivan.presses(message, match)
            return True
    echo(f"  no button like {label!r} in the chat")
    return False
