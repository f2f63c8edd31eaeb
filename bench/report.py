"""What ``/report`` and ``/export`` cost over a month of a 50-person team's log, and ``/report``
over a year of a 200-person one, next to merely reading that log from the store: the ratio is
how much parsing, counting and drawing add. ``/report`` is measured twice: from the log's lines
alone (as before the job rolled up any week), and with its closed weeks rolled up (``LogWeeks``,
the service's way); the rollup itself is timed too (all the weeks at once, as the job's first
run after an upgrade does). Also what logging adds to a delivery (one store write), and how long
the event loop stalls while a report is built (the work runs in threads, the log is read a day
at a time; Slack wants its ack within 3 s). Goal: a year of 200 people under 5 s, stalling the
loop under 100 ms.

    python bench/report.py [--quick]

A SQLite store in a temporary directory; deterministic data (a fixed seed): per person and
working day about 5 tasks, each created, reminded (sometimes in both messengers), then pressed
on, snoozed, handed over, completed or deleted in amoCRM, or left overdue and escalated — the
lines the service writes. The month is written through ``ActivityLog`` (its write cost is a
figure); the year's million lines are inserted in bulk, the same JSON, to save minutes.
``--quick``: a week of 50 and a quarter of 200. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from bot.core import load_catalogue
from bot.reports import (
    Activity,
    ActivityLog,
    ExportData,
    LogWeeks,
    PeriodFigures,
    chart_png,
    day_ends,
    encode,
    figures,
    take,
    workbook_xlsx,
)
from bot.store import SqliteStore

SEED = 20261203
DAY, H = 86400.0, 3600.0
START = 1_790_000_000.0  # a Monday 00:00 UTC is near enough: weekends come from the index
TASKS_PER_DAY = 5
ZONE = "UTC"


class FixedClock:
    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


def history(people: int, days: int, rng: random.Random) -> Iterator[Activity]:
    """A team's log, task by task (not in time order: the store orders it)."""
    number = 0
    for day in range(days):
        if day % 7 in (5, 6):
            continue
        for person in range(1, people + 1):
            for _ in range(rng.randint(TASKS_PER_DAY - 2, TASKS_PER_DAY + 2)):
                number += 1
                yield from _task(number, person, people, START + day * DAY, rng)


def _task(
    number: int, person: int, people: int, day: float, rng: random.Random
) -> Iterator[Activity]:
    subject = f"task:{number}"
    deadline = int(day + rng.uniform(10, 19) * H)

    def line(at: float, what: str, who: int = person, **more: int) -> Activity:
        return Activity(id=f"{number}:{what}:{at:.0f}", at=at, kind="task", person=who,
                        subject=subject, what=what, deadline=more.get("deadline", deadline),
                        deal=number // 3, text="Call the client")  # fmt: skip

    yield line(day + rng.uniform(8, 9.5) * H, "created")
    told = deadline - H
    yield Activity(at=told, kind="sent", person=person, channel="telegram", subject=subject,
                   what="reminder", deadline=deadline)  # fmt: skip
    if rng.random() < 0.3:  # linked in both messengers
        yield Activity(at=told + 1, kind="sent", person=person, channel="slack",
                       subject=subject, what="reminder", deadline=deadline)  # fmt: skip
    roll = rng.random()
    pressed = told + rng.expovariate(1 / 600)
    if roll < 0.4:
        yield Activity(at=pressed, kind="pressed", person=person, channel="telegram",
                       subject=subject, what="complete")  # fmt: skip
        yield line(pressed + 1, "completed")
    elif roll < 0.55:
        later = deadline + int(rng.choice((H, 4 * H, DAY)))
        yield Activity(at=pressed, kind="pressed", person=person, channel="slack",
                       subject=subject, what="snooze")  # fmt: skip
        yield line(pressed + 1, "deadline", deadline=later)
        if rng.random() < 0.8:
            yield line(later + rng.uniform(-2, 1) * H, "completed", deadline=later)
    elif roll < 0.62:
        other = rng.randint(1, people)
        yield Activity(at=pressed, kind="pressed", person=person, channel="telegram",
                       subject=subject, what="reassign")  # fmt: skip
        yield line(pressed + 1, "reassigned", other)
        yield line(deadline + rng.uniform(-1, 3) * H, "completed", other)
    elif roll < 0.85:  # done in amoCRM itself, without a press
        yield line(deadline + rng.uniform(-3, 5) * H, "completed")
    elif roll < 0.88:
        yield line(deadline + rng.uniform(0, 2) * H, "deleted")
    else:  # left open: overdue, escalated
        yield Activity(id=f"esc:{number}", at=deadline + 2 * H, kind="escalated",
                       person=person, subject=subject, what="escalated")  # fmt: skip


async def write_through(log: ActivityLog, lines: list[Activity]) -> None:
    """The month, through the log's own write (one store write per line)."""
    for entry in lines:
        await log._add(entry)  # the write under measure


def write_bulk(path: str, lines: list[Activity]) -> None:
    """The year, in one transaction: the rows ``SqliteStore.add_log`` would write."""
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO log_items (ns, at, value) VALUES ('activity', ?, ?)",
            ((e.at, encode(e)) for e in lines),
        )
    db.close()


async def stall_while(work: asyncio.Future[bytes]) -> float:
    """The longest the event loop went without running a 5 ms ticker while ``work`` ran."""
    worst = 0.0
    while not work.done():
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        worst = max(worst, time.perf_counter() - before - 0.005)
    return worst


async def timed(build: Callable[[], Awaitable[bytes]]) -> tuple[float, float, int]:
    began = time.perf_counter()
    task = asyncio.ensure_future(build())
    stall = await stall_while(task)
    size = len(await task)
    return time.perf_counter() - began, stall * 1000, size


async def measure(people: int, days: int, *, bulk: bool) -> dict[str, float]:
    t = load_catalogue()
    lines = list(history(people, days, random.Random(SEED)))
    until = START + days * DAY
    with tempfile.TemporaryDirectory() as where:
        path = str(Path(where) / "bench.db")
        store = await SqliteStore.open(path)
        log = ActivityLog(store, FixedClock(START))
        began = time.perf_counter()
        if bulk:
            await store.close()
            await asyncio.to_thread(write_bulk, path, lines)
            store = await SqliteStore.open(path)
            log = ActivityLog(store, FixedClock(until))
        else:
            await write_through(log, lines)
        write_s = time.perf_counter() - began
        count = len(lines)
        # Our million generated lines must not stay alive: the collector would walk them all
        # during the report, a pause the service (which holds no such list) never has.
        del lines
        gc.collect()

        began = time.perf_counter()
        raw = await store.read_log("activity", START, until, limit=10_000_000)
        read_s = time.perf_counter() - began  # the baseline: the store's own read
        assert len(raw) <= count  # the last days' completions fall after the end
        names = {p: f"Manager {p:03d}" for p in range(1, people + 1)}
        # As /report does: the period, and the one before it for the changes (empty here).
        since, length = START, days * DAY

        log_weeks = LogWeeks(store, FixedClock(until))

        async def report() -> bytes:
            # As ReportService does: the log a week (or a day) at a time, a closed week rolled
            # up if it is, parsed and gathered in a thread.
            gathered = log_weeks.gathered()
            collecting = gc.isenabled()
            gc.disable()  # as ReportService does
            async for piece in log_weeks.weeks(START, until):
                await asyncio.to_thread(take, gathered, piece)
                gc.freeze()  # as ReportService does

            def count() -> tuple[PeriodFigures, PeriodFigures]:
                # As the chart is: without the task list.
                now = figures(gathered, names, since=since, until=until,
                              day_ends=day_ends(since, until, ZONE), tasks=False)  # fmt: skip
                before = figures(gathered, names, since=since - length, until=since,
                                 day_ends=day_ends(since - length, since, ZONE),
                                 tasks=False)  # fmt: skip
                return now, before

            now, _ = await asyncio.to_thread(count)
            gc.freeze()  # as ReportService does
            await asyncio.to_thread(gathered.clear)
            gc.unfreeze()
            if collecting:
                gc.enable()
            labels = [str(i) for i in range(len(now.day_ends))]
            return await asyncio.to_thread(chart_png, now, "Tasks", t, "en", labels)

        async def export() -> bytes:
            facts = await log.facts(START, until)
            period = await asyncio.to_thread(figures, facts, names, since=START, until=until)
            entries = await log.between(START, until)
            data = ExportData(period=period, entries=entries, names=names)
            return await asyncio.to_thread(workbook_xlsx, data, "Europe/Moscow", t, "en")

        got: dict[str, float] = {"lines": count, "write_s": write_s, "read_s": read_s,
                                 "log_write_us": write_s / count * 1e6}  # fmt: skip
        took, stall, size = await timed(report)  # no week rolled up yet: from the lines
        got |= {"report_lines_s": took, "report_lines_stall_ms": stall}
        began = time.perf_counter()
        got["rolled_weeks"] = await log_weeks.roll_up()
        got["rollup_s"] = time.perf_counter() - began
        for name, build in (("report", report), *(() if bulk else (("export", export),))):
            took, stall, size = await timed(build)
            got |= {f"{name}_s": took, f"{name}_stall_ms": stall, f"{name}_bytes": size}
        await store.close()
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a week of 50, a quarter of 200")
    args = parser.parse_args()
    small_days, big_days = (7, 91) if args.quick else (30, 365)
    small = asyncio.run(measure(50, small_days, bulk=False))
    big = asyncio.run(measure(200, big_days, bulk=True))
    for label, got, people, days in (("month", small, 50, small_days),
                                     ("year", big, 200, big_days)):  # fmt: skip
        lines, read_s = got["lines"], got["read_s"]
        print(f"{label}: {lines:,.0f} log lines over {days} days, {people} people")
        if label == "month":
            print(f"  logging a line:        {got['log_write_us']:8.0f} µs (one store write)")
        print(f"  reading the log:       {read_s:8.2f} s  {lines / read_s:>10,.0f} lines/s "
              "(baseline)")  # fmt: skip
        took = got["report_lines_s"]
        print(
            f"  /report from lines:    {took:8.2f} s  ×{took / read_s:.1f} the read, loop "
            f"stalled at most {got['report_lines_stall_ms']:.0f} ms (no week rolled up)"
        )
        print(f"  rolling up the weeks:  {got['rollup_s']:8.2f} s  "
              f"{got['rolled_weeks']:.0f} weeks "
              "(the job's first run)")  # fmt: skip
        for name in ("report", "export"):
            if f"{name}_s" not in got:
                continue
            took, stall, size = got[f"{name}_s"], got[f"{name}_stall_ms"], got[f"{name}_bytes"]
            print(f"  /{name}:{' ' * (20 - len(name))}{took:8.2f} s  {lines / took:>10,.0f} "
                  f"lines/s, ×{took / read_s:.1f} the read, loop stalled at most {stall:.0f} ms, "
                  f"file {size / 1024:.0f} KB")  # fmt: skip
    print(json.dumps({
        "month_lines": round(small["lines"]), "month_days": small_days,
        "log_write_us": round(small["log_write_us"]), "month_read_s": round(small["read_s"], 3),
        "month_report_s": round(small["report_s"], 3),
        "month_report_lines_s": round(small["report_lines_s"], 3),
        "month_export_s": round(small["export_s"], 3),
        "month_report_stall_ms": round(small["report_stall_ms"], 1),
        "month_export_stall_ms": round(small["export_stall_ms"], 1),
        "year_lines": round(big["lines"]), "year_days": big_days,
        "year_read_s": round(big["read_s"], 3), "year_report_s": round(big["report_s"], 3),
        "year_report_stall_ms": round(big["report_stall_ms"], 1),
        "year_report_lines_s": round(big["report_lines_s"], 3),
        "year_report_lines_stall_ms": round(big["report_lines_stall_ms"], 1),
        "year_rollup_s": round(big["rollup_s"], 3),
        "year_rolled_weeks": round(big["rolled_weeks"]),
        "ratio": round(small["read_s"] / small["report_s"], 3),
        "ratio_year": round(big["read_s"] / big["report_s"], 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
