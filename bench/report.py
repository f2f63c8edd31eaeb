"""What ``/report`` and ``/export`` cost over a month of a 50-person team's log, next to merely
reading that log from the store: the ratio is how much the counting, drawing and writing add.
Also what logging adds to a delivery (one store write), and how long the event loop stalls
while a report is built (the work runs in threads; Slack wants its ack within 3 s).

    python bench/report.py [--quick]

A SQLite store in a temporary directory; deterministic data (a fixed seed): per person and day
about 14 notices and 9 presses. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path

from bot.core import load_catalogue
from bot.reports import (
    ActivityLog,
    ExportData,
    chart_png,
    csv_bytes,
    figures,
    tables,
    workbook_xlsx,
)
from bot.store import SqliteStore

SEED = 20261203
PEOPLE = 50
DAY = 86400.0
START = 1_790_000_000.0


class FixedClock:
    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


async def fill(log: ActivityLog, clock: FixedClock, days: int, rng: random.Random) -> int:
    """Notices and presses as a team makes them; returns how many lines were written."""
    lines = 0
    for day in range(days):
        for person in range(1, PEOPLE + 1):
            for n in range(rng.randint(10, 18)):
                subject = f"task:{day * 1000 + person * 20 + n}"
                at = START + day * DAY + rng.uniform(9, 19) * 3600
                await log.sent(person, rng.choice(("telegram", "slack")), subject, "reminder",
                               at=at)  # fmt: skip
                lines += 1
                if rng.random() < 0.65:
                    clock.at = at + rng.expovariate(1 / 600)
                    press = rng.choice(("complete", "complete", "snooze", "reassign", "take"))
                    await log.pressed(person, "telegram", subject, press)  # type: ignore[arg-type]
                    lines += 1
    return lines


async def stall_while(work: asyncio.Future[bytes]) -> float:
    """The longest the event loop went without running a 5 ms ticker while ``work`` ran."""
    worst = 0.0
    while not work.done():
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        worst = max(worst, time.perf_counter() - before - 0.005)
    return worst


async def measure(days: int) -> dict[str, float]:
    t = load_catalogue()
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as where:
        store = await SqliteStore.open(str(Path(where) / "bench.db"))
        clock = FixedClock(START)
        log = ActivityLog(store, clock)
        began = time.perf_counter()
        lines = await fill(log, clock, days, rng)
        write_s = time.perf_counter() - began
        until = START + days * DAY

        began = time.perf_counter()
        raw = await store.read_log("activity", START, until, limit=10_000_000)
        read_s = time.perf_counter() - began
        assert len(raw) == lines

        names = {p: f"Person {p}" for p in range(1, PEOPLE + 1)}

        async def report() -> bytes:
            entries = await log.between(START, until)
            rows, _ = await asyncio.to_thread(figures, entries, names)
            return await asyncio.to_thread(chart_png, rows, "Reactions", t, "en")

        async def export() -> bytes:
            entries = await log.between(START, until)
            rows, totals = await asyncio.to_thread(figures, entries, names)
            data = ExportData(rows=rows, totals=totals, tasks=(), entries=entries, names=names)
            return await asyncio.to_thread(workbook_xlsx, data, "Europe/Moscow", t, "en")

        async def export_csv() -> bytes:
            """The log sheet alone as CSV: its largest."""
            entries = await log.between(START, until)
            rows, totals = await asyncio.to_thread(figures, entries, names)

            def write() -> bytes:
                data = ExportData(rows=rows, totals=totals, tasks=(), entries=entries, names=names)
                return csv_bytes(tables(data, "Europe/Moscow", t, "en")["log"])

            return await asyncio.to_thread(write)

        timings: dict[str, float] = {}
        for name, build in (("report", report), ("export", export), ("export_csv", export_csv)):
            began = time.perf_counter()
            task = asyncio.ensure_future(build())
            stall = await stall_while(task)
            size = len(await task)
            timings[f"{name}_s"] = time.perf_counter() - began
            timings[f"{name}_stall_ms"] = stall * 1000
            timings[f"{name}_bytes"] = size
        await store.close()
    return {"lines": lines, "log_write_us": write_s / lines * 1e6, "read_s": read_s, **timings}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="7 days instead of 30")
    args = parser.parse_args()
    days = 7 if args.quick else 30
    got = asyncio.run(measure(days))
    lines = got["lines"]
    print(f"{lines:,.0f} log lines over {days} days, {PEOPLE} people")
    print(f"logging a delivery or press: {got['log_write_us']:8.0f} µs (one store write)")
    read_s = got["read_s"]
    print(f"reading the log:             {read_s:8.2f} s  {lines / read_s:>10,.0f} lines/s")
    for name in ("report", "export", "export_csv"):
        took, stall, size = got[f"{name}_s"], got[f"{name}_stall_ms"], got[f"{name}_bytes"]
        print(f"/{name}:{' ' * (22 - len(name))}{took:8.2f} s  {lines / took:>10,.0f} lines/s, "
              f"loop stalled at most {stall:.0f} ms, file {size / 1024:.0f} KB")  # fmt: skip
    print(json.dumps({
        "lines": round(lines), "days": days, "people": PEOPLE,
        "log_write_us": round(got["log_write_us"]), "read_s": round(got["read_s"], 3),
        "report_s": round(got["report_s"], 3), "export_s": round(got["export_s"], 3),
        "report_stall_ms": round(got["report_stall_ms"], 1),
        "export_stall_ms": round(got["export_stall_ms"], 1),
        "export_csv_s": round(got["export_csv_s"], 3),
        "export_csv_stall_ms": round(got["export_csv_stall_ms"], 1),
        "ratio": round(got["read_s"] / got["report_s"], 3),
        "ratio_export": round(got["read_s"] / got["export_s"], 3),
        "ratio_export_csv": round(got["read_s"] / got["export_csv_s"], 3),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
