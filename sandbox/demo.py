"""``amobridge demo``: the real service, unchanged, against the emulators, playing a sales morning.

A manager links Telegram by the code amobridge puts in amoCRM, gets a reminder, snoozes one task,
completes another and hands a third to a colleague, who works in Slack: she links by e-mail, is
reminded of it there and completes it with a comment. Both chats and the changes in amoCRM are
printed; with ``--interactive`` the person at the terminal plays the manager afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from datetime import time as dt_time
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import (
    AmoCrmSettings,
    HttpSettings,
    Service,
    Settings,
    SlackSettings,
    TelegramSettings,
    register_amocrm_webhook,
    running_service,
)
from bot.core import ParseError, parse_duration
from sandbox.amocrm import AmoEmulator, DemoIds, seed_demo_account
from sandbox.slack import SlackEmulator, SlackMessage
from sandbox.telegram import ChatMessage, TelegramEmulator

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


class Manager:
    """The person in Telegram: what they type and press, and what they see."""

    def __init__(self, tg: TelegramEmulator, user: int, name: str) -> None:
        self.tg = tg
        self.user = user
        self.name = name

    async def types(self, text: str) -> None:
        if text.startswith("/"):
            command, _, payload = text[1:].partition(" ")
            await self.tg.send_command(self.user, command, payload or None)
        else:
            await self.tg.send_text(self.user, text)

    async def sees(self, fragment: str) -> ChatMessage:
        try:
            return await self.tg.wait_for_message(
                self.user, lambda m: fragment in m.text, timeout_s=STEP_TIMEOUT_S
            )
        except TimeoutError:
            raise DemoFailed(f"the bot never said {fragment!r}") from None

    async def finds(self, fragment: str) -> ChatMessage:
        """The latest message showing ``fragment``, whenever it came (cards come in any order)."""

        def latest() -> ChatMessage | None:
            hits = [m for m in self.tg.transcript(self.user) if fragment in m.text]
            return hits[-1] if hits else None

        await _until(lambda: _present(latest()), f"a message with {fragment!r}")
        found = latest()
        assert found is not None
        return found

    async def sees_buttons(self, label: str) -> ChatMessage:
        try:
            return await self.tg.wait_for_message(
                self.user, lambda m: label in buttons(m), timeout_s=STEP_TIMEOUT_S
            )
        except TimeoutError:
            raise DemoFailed(f"no button {label!r} appeared") from None

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


async def morning(
    service: Service, amo: AmoEmulator, tg: TelegramEmulator, ids: DemoIds, clock: DemoClock,
    echo: Echo,
) -> tuple[Manager, list[int]]:  # fmt: skip
    ivan = Manager(tg, tg.add_user(first_name="Ivan", language_code="en"), "Ivan")
    echo("1. Ivan links his Telegram: he gives his amoCRM e-mail, amobridge puts a code in an")
    echo("   amoCRM task only he can see, and he types it back.")
    await ivan.types("/start")
    await ivan.sees("e-mail")
    await ivan.types("ivan@demo.example")
    await ivan.sees("6-digit code")
    code_task = next(
        amo.task(e["entity_id"]) for e in reversed(amo.events())
        if e["type"] == "task_added" and "amobridge" in amo.task(e["entity_id"])["text"]
    )  # fmt: skip
    code = re.search(r"\b(\d{6})\b", code_task["text"])
    if code is None:
        raise DemoFailed("no code in the amoCRM task")
    await ivan.types(code.group(1))
    await ivan.sees("Ivan Petrov")
    await ivan.types("/lang en")
    await ivan.sees("Language: English.")

    echo("2. Anna, the admin, gives Ivan a task due in an hour; the demo's clock skips ahead.")
    queued = await service.store.count_due("reminders")
    call = amo.add_task(
        "Call Hooli back about the pilot", responsible_user_id=ids.ivan,
        complete_till=int(clock.now()) + 62 * 60, entity_id=ids.leads[2], by_user=ids.admin,
    )  # fmt: skip
    await _until(lambda: _more_than(service, queued), "the reminder to be planned")
    clock.offset += 3 * 60
    reminder = await ivan.sees("Due in 1 h")

    echo("3. Ivan snoozes it by an hour.")
    await ivan.presses(reminder, "⏸ Snooze")
    menu = await ivan.sees_buttons("1 hour")
    await ivan.presses(menu, "1 hour")
    await ivan.sees("Moved to")

    echo("4. He opens today's tasks, completes the overdue one, and hands the call to Maria.")
    await ivan.types("/tasks")
    overdue = await ivan.finds("Follow up on the Globex renewal")
    acme = await ivan.finds("Call Acme about the license count")
    await ivan.presses(overdue, "✔ Complete")
    await ivan.presses(acme, "↪ Reassign")
    people = await ivan.sees_buttons("Maria Ivanova")
    await ivan.presses(people, "Maria Ivanova")
    await _until(lambda: _done(tg, ivan, "Completed by Ivan Petrov"), "the completion to show")
    await _until(lambda: _done(tg, ivan, "Handed to Maria Ivanova"), "the hand-over to show")
    return ivan, [call, ids.task_overdue, ids.task_due_15m]


class SlackManager:
    """The person in Slack: her slash commands, clicks and modal answers, and her DM."""

    def __init__(self, slack: SlackEmulator, user: str, name: str) -> None:
        self.slack = slack
        self.user = user
        self.name = name
        self.dm = slack.dm_channel(user)

    async def types(self, text: str) -> None:
        command, _, rest = text.partition(" ")
        await self.slack.slash_command(self.user, command, rest)

    async def is_told(self, fragment: str) -> None:
        try:
            await self.slack.wait_for_ephemeral(
                self.user, lambda m: fragment in m.text, timeout_s=STEP_TIMEOUT_S
            )
        except TimeoutError:
            raise DemoFailed(f"Slack never told {self.name} {fragment!r}") from None

    async def sees(self, fragment: str) -> SlackMessage:
        try:
            return await self.slack.wait_for_message(
                self.dm, lambda m: fragment in slack_text(m), timeout_s=STEP_TIMEOUT_S
            )
        except TimeoutError:
            raise DemoFailed(f"the bot never said {fragment!r} in Slack") from None

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
        try:
            modal = await self.slack.wait_for_view(self.user, timeout_s=STEP_TIMEOUT_S)
        except TimeoutError:
            raise DemoFailed("no modal opened in Slack") from None
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


async def slack_morning(
    amo: AmoEmulator, slack: SlackEmulator, tg: TelegramEmulator, ids: DemoIds, ivan: Manager,
    clock: DemoClock, echo: Echo,
) -> SlackManager:  # fmt: skip
    maria = SlackManager(slack, slack.add_user("Maria Ivanova", email="maria@demo.example"),
                         "Maria")  # fmt: skip
    echo("5. Maria works in Slack. She types /amo link: amobridge finds her amoCRM account by")
    echo("   the e-mail Slack has for her.")
    await maria.types("/amo link")
    await maria.is_told("Maria Ivanova")
    await maria.types("/amo lang en")
    await maria.is_told("Language: English.")
    echo(
        "6. The Acme call Ivan handed her comes due; Slack reminds her, and she completes it with"
    )
    echo("   a comment in a modal. Ivan's copy in Telegram says so too.")
    due = int(amo.task(ids.task_due_15m)["complete_till"])
    clock.offset += max(0.0, due - clock.now()) + 5  # to its deadline
    reminder = await maria.sees("Call Acme about the license count")
    await maria.clicks(reminder, "💬 With comment")
    await maria.answers_modal("Called: they want 60 licenses, not 50")
    await maria.sees("Completed by Maria Ivanova (Slack)")
    await _until(lambda: _done(tg, ivan, "Completed by Maria Ivanova (Slack)"),
                 "Ivan's copy to show Maria's completion")  # fmt: skip
    return maria


async def admin_report(service: Service, tg: TelegramEmulator, ids: DemoIds, echo: Echo) -> str:
    """Anna, the admin, asks how the team reacted this morning; the chart's caption."""
    assert service.services is not None
    echo("7. Anna, the admin, asks in Telegram how people reacted today: /report 1d draws a")
    echo("   chart per person (what they did with their reminders, how soon) for her.")
    code = await service.services.linking.create_invite(ids.admin)
    anna = Manager(tg, tg.add_user(first_name="Anna", language_code="en"), "Anna")
    await anna.types(f"/start {code}")
    await anna.sees("Anna Admin")
    await anna.types("/lang en")
    await anna.sees("Language: English.")
    await anna.types("/report 1d")
    chart = await anna.sees("📊 Reactions")
    if chart.photo is None:
        raise DemoFailed("the report came without its chart")
    size = f"{chart.photo.width}×{chart.photo.height} PNG, {chart.photo.size // 1024} KB"
    return f"{chart.text}\n        [{size}]"


async def _present(message: ChatMessage | None) -> bool:
    return message is not None


async def _more_than(service: Service, count: int) -> bool:
    return await service.store.count_due("reminders") > count


async def _done(tg: TelegramEmulator, manager: Manager, fragment: str) -> bool:
    return any(fragment in m.text for m in tg.transcript(manager.user))


async def _until(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while not await check():
        if time.monotonic() > deadline:
            raise DemoFailed(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def amocrm_changes(
    service: Service, amo: AmoEmulator, ids: DemoIds, tasks: list[int]
) -> list[str]:
    assert service.services is not None
    directory = service.services.directory
    zone = ZoneInfo((await directory.account()).timezone)
    lines = []
    for task_id in tasks:
        task = amo.task(task_id)
        due = datetime.fromtimestamp(task["complete_till"], zone).strftime("%H:%M")
        state = (
            f"completed, result {task['result']['text']!r}" if task["is_completed"]
            else f"open, due {due}"
        )  # fmt: skip
        owner = await directory.user(task["responsible_user_id"])
        lines.append(f"  {task['text']!r}: {state}, responsible {owner.name if owner else '?'}")
    for lead in ids.leads:
        for note in amo.notes(lead):
            text = str(note["params"]["text"]).replace("\n", " / ")
            lines.append(f"  note on {amo.lead(lead)['name']!r}: {text}")
    return lines


async def run_demo(
    echo: Echo, *, interactive: bool, read_line: Callable[[], Awaitable[str | None]]
) -> int:
    clock = DemoClock()
    clock.offset = seconds_until(time.time(), MORNING, "Europe/Moscow")  # the demo plays a morning
    amo = AmoEmulator(subdomain="demo", clock=clock.now)
    ids = seed_demo_account(amo)
    tg = TelegramEmulator(clock=clock.now)
    slack = SlackEmulator(clock=clock.now)
    with tempfile.TemporaryDirectory(prefix="amobridge-demo-") as tmp:
        async with amo.serve() as amo_url, tg.serve() as tg_url, slack.serve() as slack_url:
            settings = Settings(
                _env_file=None,
                amocrm=AmoCrmSettings(
                    base_url=amo_url, long_lived_token=amo.long_lived_token,
                    webhook_secret="demo-secret", poll_interval_s=5,
                ),
                telegram=TelegramSettings(token=tg.token, api_base=tg_url),
                slack=SlackSettings(
                    bot_token=slack.bot_token, signing_secret=slack.signing_secret,
                    api_base=slack.api_base,
                ),
                http=HttpSettings(host="127.0.0.1", port=0),
                store_url=f"sqlite:///{tmp}/demo.db",
            )  # fmt: skip
            async with running_service(settings, clock=clock) as service:
                await register_amocrm_webhook(
                    service.settings.model_copy(update={"public_url": service.base_url})
                )
                slack.request_url = service.base_url + "/slack/events"
                echo(f"amobridge is running on {service.base_url}, with amoCRM emulated at "
                     f"{amo_url}, Telegram at {tg_url} and Slack at {slack_url}.\n")  # fmt: skip
                try:
                    ivan, touched = await morning(service, amo, tg, ids, clock, echo)
                    maria = await slack_morning(amo, slack, tg, ids, ivan, clock, echo)
                    report = await admin_report(service, tg, ids, echo)
                except DemoFailed as exc:
                    echo(f"\nThe demo stopped: {exc}.")
                    return 1
                echo("\nIvan's chat with the bot in Telegram:")
                for line in transcript(tg, ivan):
                    echo(line)
                echo("\nMaria's direct messages with the app in Slack:")
                for line in slack_transcript(maria):
                    echo(line)
                echo("\nAnna's report:")
                echo("    " + report)
                echo("\nThe three tasks in amoCRM now, and the notes amobridge left on the deals:")
                for line in await amocrm_changes(service, amo, ids, touched):
                    echo(line)
                if interactive:
                    await play(ivan, tg, clock, echo, read_line)
    return 0


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
        await _until(changed, "an answer")
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
