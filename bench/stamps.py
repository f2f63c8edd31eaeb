"""What lands in the emulators' chats, stamped as it lands, and the latency figures made of it:
the measuring half of ``bench/latency.py``."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

WAIT_S = 15.0  # an action whose effect is not seen by then counts as missing


@dataclass
class Stamps:
    """Every bot message event (send or edit) seen in some chats, stamped as it lands; an
    expectation registered before the action is resolved with the moment its event landed."""

    _expected: list[tuple[Any, Callable[[Any], bool], asyncio.Future[tuple[float, Any]]]] = field(
        default_factory=list
    )
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def watch(self, key: Any, wait: Callable[..., Awaitable[Any]]) -> None:
        async def consume() -> None:
            while True:
                try:
                    event = await wait(key, None, timeout_s=3600)
                except TimeoutError:
                    continue
                landed = time.perf_counter()
                for entry in list(self._expected):
                    place, match, future = entry
                    if place == key and not future.done() and match(event):
                        future.set_result((landed, event))
                        self._expected.remove(entry)

        self._tasks.append(asyncio.create_task(consume()))

    def expect(self, key: Any, match: Callable[[Any], bool]) -> asyncio.Future[tuple[float, Any]]:
        future: asyncio.Future[tuple[float, Any]] = asyncio.get_running_loop().create_future()
        self._expected.append((key, match, future))
        return future

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def arrival(started: float, *futures: asyncio.Future[tuple[float, Any]]) -> float | None:
    """Seconds from ``started`` until every future's event landed; None if one never did."""
    try:
        async with asyncio.timeout(WAIT_S):
            landed = [at for at, _ in await asyncio.gather(*futures)]
    except TimeoutError:
        return None
    return max(landed) - started


def slack_text(message: Any) -> str:
    """What a person reads in a Slack message: its blocks' texts, else its plain text."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                found.append(node["text"])
            else:
                for value in node.values():
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks or [])
    return "\n".join(found) or str(message.text)


@dataclass
class Figures:
    samples: dict[str, list[float | None]] = field(default_factory=dict)
    pending: list[asyncio.Task[None]] = field(default_factory=list)

    def track(self, kind: str, measuring: Awaitable[float | None]) -> None:
        async def run() -> None:
            self.samples.setdefault(kind, []).append(await measuring)

        self.pending.append(asyncio.create_task(run()))

    async def settle(self) -> None:
        await asyncio.gather(*self.pending)

    def summary(self, kind: str) -> dict[str, float | int]:
        values = sorted(v for v in self.samples.get(kind, []) if v is not None)
        missing = sum(v is None for v in self.samples.get(kind, []))
        if not values:
            return {"n": 0, "missing": missing}
        p99 = statistics.quantiles(values, n=100)[98] if len(values) >= 100 else values[-1]
        return {
            "n": len(values),
            "p50_ms": round(statistics.median(values) * 1000, 1),
            "p99_ms": round(p99 * 1000, 1),
            "max_ms": round(values[-1] * 1000, 1),
            "missing": missing,
        }


def report(ours: Figures, bare: Figures, heading: str, amo_requests: int) -> dict[str, object]:
    """Print both runs' figures; the JSON object of ours, with the bare ones and the ratios."""
    print(heading)
    print(f"{'':<34}{'n':>5}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'missing':>9}")
    for name, figures in (("amobridge", ours), ("bare", bare)):
        for kind in ("task_created", "deal_moved", "press"):
            s = figures.summary(kind)
            cells = [s.get(key, 0) for key in ("p50_ms", "p99_ms", "max_ms")]
            print(f"{name + ' ' + kind:<34}{s['n']:>5}" + "".join(f"{c:>10}" for c in cells)
                  + f"{s['missing']:>9}")  # fmt: skip
    changes = Figures({"all": ours.samples["task_created"] + ours.samples["deal_moved"]})
    bare_changes = Figures({"all": bare.samples["task_created"] + bare.samples["deal_moved"]})
    ch, bch = changes.summary("all"), bare_changes.summary("all")
    pr, bpr = ours.summary("press"), bare.summary("press")
    result: dict[str, object] = {
        "webhook_to_message_p50_ms": ch.get("p50_ms"),
        "webhook_to_message_p99_ms": ch.get("p99_ms"),
        "webhook_to_message_max_ms": ch.get("max_ms"),
        "press_to_edited_p50_ms": pr.get("p50_ms"),
        "press_to_edited_p99_ms": pr.get("p99_ms"),
        "press_to_edited_max_ms": pr.get("max_ms"),
        "bare_webhook_to_message_p50_ms": bch.get("p50_ms"),
        "bare_webhook_to_message_p99_ms": bch.get("p99_ms"),
        "bare_press_to_edited_p99_ms": bpr.get("p99_ms"),
        "ratio_webhook_p99": ratio(ch.get("p99_ms"), bch.get("p99_ms")),
        "ratio_press_p99": ratio(pr.get("p99_ms"), bpr.get("p99_ms")),
        "task_created": ours.summary("task_created"),
        "deal_moved": ours.summary("deal_moved"),
        "missing": ch["missing"] + pr["missing"],
        "amocrm_requests": amo_requests,
    }
    print(f"webhook → message p99: {ch.get('p99_ms')} ms (bare {bch.get('p99_ms')} ms); "
          f"press → every copy edited p99: {pr.get('p99_ms')} ms "
          f"(bare {bpr.get('p99_ms')} ms)")  # fmt: skip
    return result


def ratio(ours: float | int | None, bare: float | int | None) -> float | None:
    return round(ours / bare, 1) if ours is not None and bare else None
