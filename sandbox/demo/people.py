"""The people the demo plays, in Telegram and in Slack, and what they see; the demo's clock
and its patience (a step that does not happen in time fails the demo)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dt_time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sandbox.slack import SlackEmulator, SlackMessage
from sandbox.telegram import ChatMessage, TelegramEmulator

T = TypeVar("T")
K = TypeVar("K")
Echo = Callable[[str], object]
STEP_TIMEOUT_S = 20.0


class DemoClock:
    """Real time plus an offset, shared by amobridge and both emulators, so the demo can skip
    the hour between a reminder and the deadline."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset


MORNING = dt_time(8, 55)


def seconds_until(now: float, at: dt_time, zone: str) -> float:
    """Seconds from ``now`` to the next ``at`` on the wall clock of ``zone``."""
    tz = ZoneInfo(zone)
    local = datetime.fromtimestamp(now, tz)
    target = datetime.combine(local.date(), at, tzinfo=tz)
    if target.timestamp() <= now:
        target = datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)
    return target.timestamp() - now


class DemoFailed(Exception):
    """A step did not happen in time; the message says which."""


async def in_time(step: Awaitable[T], failure: str) -> T:
    """What ``step`` (a wait for something to show) comes to; DemoFailed(``failure``) if it
    times out."""
    try:
        return await step
    except TimeoutError:
        raise DemoFailed(failure) from None


async def shown(
    wait: Callable[..., Awaitable[T]], key: K, shows: Callable[[T], bool], failure: str
) -> T:
    """The next thing an emulator's ``wait`` sees for ``key`` that ``shows`` what a step
    expects; DemoFailed(``failure``) if none comes in time."""
    return await in_time(wait(key, shows, timeout_s=STEP_TIMEOUT_S), failure)


@dataclass(frozen=True)
class Manager:
    """The person in Telegram: what they type and press, and what they see."""

    tg: TelegramEmulator
    user: int
    name: str

    async def types(self, text: str) -> None:
        if text.startswith("/"):
            command, _, payload = text[1:].partition(" ")
            await self.tg.send_command(self.user, command, payload or None)
        else:
            await self.tg.send_text(self.user, text)

    async def converses(self, *turns: tuple[str, str]) -> None:
        """Each turn: the person types the line, and the bot answers with the fragment."""
        for line, answer in turns:
            await self.types(line)
            await self.sees(answer)

    async def sees(self, fragment: str) -> ChatMessage:
        return await shown(self.tg.wait_for_message, self.user, lambda m: fragment in m.text,
                           f"the bot never said {fragment!r}")  # fmt: skip

    async def finds(self, fragment: str) -> ChatMessage:
        """The latest message showing ``fragment``, whenever it came (cards come in any order)."""

        def latest() -> ChatMessage | None:
            hits = [m for m in self.tg.transcript(self.user) if fragment in m.text]
            return hits[-1] if hits else None

        await until(lambda: present(latest()), f"a message with {fragment!r}")
        found = latest()
        assert found is not None
        return found

    async def sees_buttons(self, label: str) -> ChatMessage:
        return await shown(self.tg.wait_for_message, self.user, lambda m: label in buttons(m),
                           f"no button {label!r} appeared")  # fmt: skip

    async def presses(self, message: ChatMessage, label: str) -> None:
        current = self.tg.message(self.user, message.message_id)
        await self.tg.press_button(
            self.user, self.user, message.message_id, buttons(current)[label]
        )


def buttons(message: ChatMessage) -> dict[str, str]:
    markup: dict[str, Any] = message.reply_markup or {}
    return {
        b["text"]: b["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for b in row
        if "callback_data" in b
    }


def transcript(tg: TelegramEmulator, manager: Manager) -> list[str]:
    return [line for m in tg.transcript(manager.user) for line in describe(m, manager)]


def describe(m: ChatMessage, manager: Manager) -> list[str]:
    who = "bot" if m.from_bot else manager.name
    text = m.text.replace("\n", "\n      ")
    lines = [f"  {who:>4}: {text}"]
    if m.edits:
        lines.append("        (edited; it first read: " + m.edits[0].split("\n")[0] + ")")
    labels = list(buttons(m))
    if labels:
        lines.append("        [" + "] [".join(labels) + "]")
    return lines


@dataclass(eq=False)
class SlackManager:
    """The person in Slack: her slash commands, clicks and modal answers, and her DM."""

    slack: SlackEmulator
    user: str
    name: str
    dm: str = field(init=False)

    def __post_init__(self) -> None:
        self.dm = self.slack.dm_channel(self.user)  # made now, as Slack has it from the start

    async def types(self, text: str) -> None:
        command, _, rest = text.partition(" ")
        await self.slack.slash_command(self.user, command, rest)

    async def converses(self, *turns: tuple[str, str]) -> None:
        """Each turn: she types the command, and Slack shows her (only) the fragment."""
        for line, answer in turns:
            await self.types(line)
            await self.is_told(answer)

    async def is_told(self, fragment: str) -> None:
        await shown(self.slack.wait_for_ephemeral, self.user, lambda m: fragment in m.text,
                    f"Slack never told {self.name} {fragment!r}")  # fmt: skip

    async def sees(self, fragment: str) -> SlackMessage:
        return await shown(self.slack.wait_for_message, self.dm,
                           lambda m: fragment in slack_text(m),
                           f"the bot never said {fragment!r} in Slack")  # fmt: skip

    async def clicks(self, message: SlackMessage, label: str) -> None:
        current = self.slack.message(self.dm, message.ts)
        for block in current.blocks:
            for element in block.get("elements") or []:
                if element.get("type") == "button" and element["text"]["text"] == label:
                    await self.slack.click(
                        self.user, self.dm, current.ts, element["action_id"], element["value"]
                    )
                    return
        raise DemoFailed(f"no button {label!r} on the Slack message")

    async def answers_modal(self, text: str) -> None:
        opened = self.slack.wait_for_view(self.user, timeout_s=STEP_TIMEOUT_S)
        modal = await in_time(opened, "no modal opened in Slack")
        await self.slack.submit_view(self.user, modal.id, {"answer": {"value": text}})


def slack_text(message: SlackMessage) -> str:
    """What a Slack message shows: its sections and context lines."""
    lines = []
    for block in message.blocks:
        text = block.get("text")
        if isinstance(text, dict):
            lines.append(str(text.get("text", "")))
        for element in block.get("elements") or []:
            if element.get("type") in ("mrkdwn", "plain_text"):
                lines.append(str(element.get("text", "")))
    shown = "\n".join(lines) or message.text
    # As Slack draws it: *bold* without the stars, a <url|link> as its text, entities decoded.
    shown = re.sub(r"<[^|>]+\|([^>]+)>", r"\1", re.sub(r"\*([^*\n]+)\*", r"\1", shown))
    return shown.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slack_transcript(manager: SlackManager) -> list[str]:
    lines = []
    for note in manager.slack.ephemerals(manager.user):
        text = note.text.replace("\n", "\n      ")
        lines.append(f"  (only {manager.name} sees) {text}")
    for message in manager.slack.messages(manager.dm):
        shown = slack_text(message).replace("\n", "\n      ")
        lines.append(f"   bot: {shown}")
        if message.edits:
            first = slack_text(SlackMessage(
                channel=message.channel, ts=message.ts, text=message.edits[0].text,
                blocks=message.edits[0].blocks, user=None,
            )).split("\n")[0]  # fmt: skip
            lines.append(f"        (edited; it first read: {first})")
        labels = [
            e["text"]["text"] for b in message.blocks for e in b.get("elements") or []
            if e.get("type") == "button"
        ]  # fmt: skip
        if labels:
            lines.append("        [" + "] [".join(labels) + "] + Snooze and Reassign menus")
    return lines


async def present(message: ChatMessage | None) -> bool:
    return message is not None


async def done(tg: TelegramEmulator, manager: Manager, fragment: str) -> bool:
    return any(fragment in m.text for m in tg.transcript(manager.user))


async def until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while not await check():
        if time.monotonic() > deadline:
            raise DemoFailed(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
