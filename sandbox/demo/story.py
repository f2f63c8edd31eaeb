"""The story of ``amobridge demo``: the real service, unchanged, against the emulators,
playing a sales morning.

A manager links Telegram by the code amobridge puts in amoCRM, gets a reminder, snoozes one task,
completes another and hands a third to a colleague, who works in Slack: she links by e-mail, is
reminded of it there and completes it with a comment. Both chats and the changes in amoCRM are
printed; with ``--interactive`` the person at the terminal plays the manager afterwards.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
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
from sandbox.amocrm import AmoEmulator, DemoIds, seed_demo_account
from sandbox.demo.people import (
    MORNING,
    DemoClock,
    DemoFailed,
    Echo,
    Manager,
    SlackManager,
    done,
    seconds_until,
    slack_transcript,
    transcript,
    until,
)
from sandbox.demo.play import play
from sandbox.slack import SlackEmulator
from sandbox.telegram import TelegramEmulator


async def morning(
    service: Service, amo: AmoEmulator, tg: TelegramEmulator, ids: DemoIds, clock: DemoClock,
    echo: Echo,
) -> tuple[Manager, list[int]]:  # fmt: skip
    ivan = Manager(tg, tg.add_user(first_name="Ivan", language_code="en"), "Ivan")
    echo("1. Ivan links his Telegram: he gives his amoCRM e-mail, amobridge puts a code in an")
    echo("   amoCRM task only he can see, and he types it back.")
    await ivan.converses(("/start", "e-mail"), ("ivan@demo.example", "6-digit code"))
    code_task = next(
        amo.task(e["entity_id"]) for e in reversed(amo.events())
        if e["type"] == "task_added" and "amobridge" in amo.task(e["entity_id"])["text"]
    )  # fmt: skip
    code = re.search(r"\b(\d{6})\b", code_task["text"])
    if code is None:
        raise DemoFailed("no code in the amoCRM task")
    await ivan.converses((code.group(1), "Ivan Petrov"), ("/lang en", "Language: English."))

    echo("2. Anna, the admin, gives Ivan a task due in an hour; the demo's clock skips ahead.")
    queued = await service.store.count_due("reminders")
    call = amo.add_task(
        "Call Hooli back about the pilot", responsible_user_id=ids.ivan,
        complete_till=int(clock.now()) + 62 * 60, entity_id=ids.leads[2], by_user=ids.admin,
    )  # fmt: skip
    await until(lambda: _more_than(service, queued), "the reminder to be planned")
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
    await until(lambda: done(tg, ivan, "Completed by Ivan Petrov"), "the completion to show")
    await until(lambda: done(tg, ivan, "Handed to Maria Ivanova"), "the hand-over to show")
    return ivan, [call, ids.task_overdue, ids.task_due_15m]


async def slack_morning(
    amo: AmoEmulator, slack: SlackEmulator, tg: TelegramEmulator, ids: DemoIds, ivan: Manager,
    clock: DemoClock, echo: Echo,
) -> SlackManager:  # fmt: skip
    maria = SlackManager(slack, slack.add_user("Maria Ivanova", email="maria@demo.example"),
                         "Maria")  # fmt: skip
    echo("5. Maria works in Slack. She types /amo link: amobridge finds her amoCRM account by")
    echo("   the e-mail Slack has for her.")
    await maria.converses(("/amo link", "Maria Ivanova"), ("/amo lang en", "Language: English."))
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
    await until(lambda: done(tg, ivan, "Completed by Maria Ivanova (Slack)"),
                 "Ivan's copy to show Maria's completion")  # fmt: skip
    return maria


async def admin_report(
    service: Service, tg: TelegramEmulator, ids: DemoIds, echo: Echo, *,
    period: str = "1d", chart_to: Path | None = None,
) -> str:  # fmt: skip
    """Anna, the admin, asks how the team did with its tasks; the chart's caption (and the
    chart itself, into ``chart_to``)."""
    assert service.services is not None
    echo(f"7. Anna, the admin, asks in Telegram how the team did: /report {period} draws a")
    echo("   chart per person (tasks done on time, how soon they reacted, overdue) for her.")
    code = await service.services.linking.create_invite(ids.admin)
    anna = Manager(tg, tg.add_user(first_name="Anna", language_code="en"), "Anna")
    await anna.converses((f"/start {code}", "Anna Admin"), ("/lang en", "Language: English."))
    await anna.types(f"/report {period}")
    chart = await anna.sees("📊 Tasks")
    if chart.photo is None:
        raise DemoFailed("the report came without its chart")
    if chart_to is not None:
        await asyncio.to_thread(chart_to.write_bytes, chart.photo.data)
    size = f"{chart.photo.width}×{chart.photo.height} PNG, {chart.photo.size // 1024} KB"
    return f"{chart.text}\n        [{size}]"


async def _more_than(service: Service, count: int) -> bool:
    return await service.store.count_due("reminders") > count


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
    echo: Echo, *, interactive: bool, read_line: Callable[[], Awaitable[str | None]],
    report_period: str = "1d", chart_to: Path | None = None,
) -> int:  # fmt: skip
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
                    report = await admin_report(
                        service, tg, ids, echo, period=report_period, chart_to=chart_to
                    )
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
