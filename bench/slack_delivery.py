"""Messages/s the outbox achieves to Slack across 50 channels under Slack's 1 msg/s per channel,
its 429s, and how fast button clicks are acknowledged while that load runs.

The real service (``running_service``: bolt on its aiohttp server, the Slack outbox sender, the
amoCRM pipeline) runs in this process against the Slack and amoCRM emulators on loopback, with
Slack's limits on (chat.postMessage 1/s per channel with a burst of 3). 50 linked managers each
get N task cards in their DM, queued in one go; meanwhile a clicker presses "With comment" on
delivered cards (the app acks, then opens a modal) and the emulator times each acknowledgement.

Baselines, in the same run: the same messages sent with plain concurrent ``chat.postMessage``
calls (no pacing, one try each), and the same clicks on an idle service.

    python bench/slack_delivery.py [--quick]

``fraction_of_limit`` is the paced rate over 50/s (1/s for each of the 50 channels); the ack
ratio is p99 under load over p99 idle. The last line printed is one JSON object.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections import Counter
from typing import Any

from aiohttp import ClientSession
from common import Sized
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.app import AmoCrmSettings, HttpSettings, Service, Settings, SlackSettings, running_service
from bot.core import TaskCard
from bot.delivery import OutboxItem, outbox_queue
from bot.people import ChannelLink
from integrations.slack import render_card
from sandbox.amocrm import AmoEmulator, seed_demo_account
from sandbox.slack import SlackEmulator
from sandbox.slack.records import SlackMessage

CHANNELS = 50
LIMIT_PER_S = float(CHANNELS)  # 1 msg/s per channel
CLICKS_PER_S = 2.0
SIZE = Sized("--per-channel", "cards per channel", quick=10, full=30, quick_takes="~15 s")


def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


class Bench:
    """The service and both emulators, with 50 managers linked in Slack."""

    def __init__(self, tmp: str) -> None:
        self.tmp = tmp
        self.amo = AmoEmulator(subdomain="bench", rate_limit_per_s=7.0)
        seed_demo_account(self.amo)
        self.slack = SlackEmulator()
        self.people: list[tuple[int, str, int]] = []  # (amo user, slack user, amo task)

    def settings(self) -> Settings:
        return Settings(
            _env_file=None,
            amocrm=AmoCrmSettings(base_url=self.amo.base_url,
                                  long_lived_token=self.amo.long_lived_token),
            slack=SlackSettings(bot_token=self.slack.bot_token,
                                signing_secret=self.slack.signing_secret,
                                api_base=self.slack.api_base),
            http=HttpSettings(host="127.0.0.1", port=0),
            store_url=f"sqlite:///{self.tmp}/bench.db",
        )  # fmt: skip

    def prepare(self) -> None:
        """The managers, in amoCRM with a task each and in Slack, before the service starts
        (its first sync brings the tasks into its cache)."""
        due = int(time.time()) + 6 * 3600
        for n in range(CHANNELS):
            email = f"manager{n}@bench.example"
            amo_user = self.amo.add_user(f"Manager {n}", email, tasks_edit="M")
            task = self.amo.add_task(f"Call client #{n}", responsible_user_id=amo_user,
                                     complete_till=due)  # fmt: skip
            self.people.append((amo_user, self.slack.add_user(f"Manager {n}", email=email), task))

    async def setup(self, service: Service) -> None:
        assert service.services is not None
        self.slack.request_url = service.base_url + "/slack/events"
        for amo_user, slack_user, _ in self.people:
            await service.services.links.link(ChannelLink(
                channel="slack", amo_user_id=amo_user, account_id=slack_user,
                chat_id=self.slack.dm_channel(slack_user),
            ))  # fmt: skip

        async def cached() -> bool:
            return all([await service.store.get_task(t) for _, _, t in self.people])

        deadline = time.monotonic() + 60
        while not await cached():  # the first sync with amoCRM brings the tasks in
            if time.monotonic() > deadline:
                raise RuntimeError("the tasks never reached the cache")
            await asyncio.sleep(0.1)

    async def cards(self, service: Service, per_channel: int) -> list[OutboxItem]:
        assert service.services is not None
        items = []
        for amo_user, _, task_id in self.people:
            me = await service.services.conversation.speaker(
                "slack", self.slack_of(amo_user), None
            )
            cached = await service.store.get_task(task_id)
            assert cached is not None
            card = await service.services.cards.task_card(
                cached.value, me.reader, int(time.time()), actor=me.user
            )
            assert me.link is not None
            items += [
                OutboxItem(channel="slack", chat_id=me.link.chat_id, recipient=amo_user,
                           subject=f"task:{task_id}", card=card)
                for _ in range(per_channel)
            ]  # fmt: skip
        # Interleaved, as reminders for many people come: not one person's cards in a row.
        return [items[c * per_channel + k] for k in range(per_channel) for c in range(CHANNELS)]

    def slack_of(self, amo_user: int) -> str:
        return next(s for a, s, _ in self.people if a == amo_user)

    async def click(self, message: SlackMessage) -> float:
        """A manager presses "With comment" on a card in their DM; the ack time in ms."""
        slack_user = next(
            s for _, s, _ in self.people if self.slack.dm_channel(s) == message.channel
        )
        element = next(
            e for b in message.blocks if b["type"] == "actions" for e in b["elements"]
            if str(e.get("action_id", "")).startswith("t:m:")
        )  # fmt: skip
        result = await self.slack.click(
            slack_user, message.channel, message.ts, element["action_id"], element["value"]
        )
        if result.failed:
            raise RuntimeError(f"a click failed: {result.status}")
        return result.ack_ms

    async def click_first_card(self, service: Service) -> float:
        """Idle baseline: post a card through the outbox, wait for it, click it."""
        assert service.services is not None
        amo_user, slack_user, task_id = self.people[len(self.slack.interactions) % CHANNELS]
        me = await service.services.conversation.speaker("slack", slack_user, None)
        cached = await service.store.get_task(task_id)
        assert cached is not None
        assert me.link is not None
        card = await service.services.cards.task_card(cached.value, me.reader, int(time.time()),
                                                      actor=me.user)  # fmt: skip
        await service.services.outbox.enqueue([OutboxItem(
            channel="slack", chat_id=me.link.chat_id, recipient=amo_user,
            subject=f"task:{task_id}", card=card,
        )])  # fmt: skip
        posted = await self.slack.wait_for_message(me.link.chat_id, timeout_s=10)
        return await self.click(posted)


async def clicker(bench: Bench, stop: asyncio.Event, acks: list[float]) -> None:
    """Click delivered cards at CLICKS_PER_S until told to stop."""
    clicked: set[tuple[str, str]] = set()
    while not stop.is_set():
        started = time.monotonic()
        for _, slack_user, _ in bench.people:
            channel = bench.slack.dm_channel(slack_user)
            fresh = [m for m in bench.slack.messages(channel) if (channel, m.ts) not in clicked]
            if fresh:
                clicked.add((channel, fresh[0].ts))
                acks.append(await bench.click(fresh[0]))
                break
        await asyncio.sleep(max(0.0, 1 / CLICKS_PER_S - (time.monotonic() - started)))


async def loaded(per_channel: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="amobridge-bench-") as tmp:
        bench = Bench(tmp)
        bench.prepare()
        async with (
            bench.amo.serve(),
            bench.slack.serve(),
            running_service(bench.settings()) as service,
        ):
            assert service.services is not None
            await bench.setup(service)
            idle = [await bench.click_first_card(service) for _ in range(20)]
            items = await bench.cards(service, per_channel)
            total = len(items)
            posted_before = bench.slack.stats.messages_posted
            stop = asyncio.Event()
            acks: list[float] = []
            enqueued_at = time.time()
            await service.services.outbox.enqueue(items)
            clicks = asyncio.create_task(clicker(bench, stop, acks))
            deadline = time.monotonic() + total / LIMIT_PER_S * 3 + 30
            while bench.slack.stats.messages_posted - posted_before < total:
                if time.monotonic() > deadline:
                    raise RuntimeError("the outbox did not drain in time")
                await asyncio.sleep(0.05)
            stop.set()
            await clicks
            left = await service.store.count_due(outbox_queue("slack"))
        log = bench.slack.request_log
    posts = [r for r in log if r.method == "chat.postMessage" and r.at >= enqueued_at]
    delivered = [r.at for r in posts if r.status == 200]
    seconds = max(delivered) - enqueued_at
    ratelimited = sum(1 for r in posts if r.status == 429)
    waits = sorted(at - enqueued_at for at in delivered)
    rate = len(delivered) / seconds
    print(
        f"paced (the service's Slack outbox, SLACK_LIMITS): {len(delivered)} of {total} to"
        f" {CHANNELS} channels in {seconds:.1f}s = {rate:.2f}/s; {ratelimited} x 429; {left}"
        f" left; enqueue to posted p50 {percentile(waits, 50):.1f}s p99"
        f" {percentile(waits, 99):.1f}s"
    )
    print(
        f"clicks under that load: {len(acks)} acked, p50 {percentile(acks, 50):.0f} ms,"
        f" p99 {percentile(acks, 99):.0f} ms, max {max(acks):.0f} ms; idle (before the load):"
        f" p50 {percentile(idle, 50):.0f} ms, p99 {percentile(idle, 99):.0f} ms"
    )
    return {
        "delivered": len(delivered), "msg_per_s": round(rate, 2), "429s": ratelimited,
        "p50_s": round(percentile(waits, 50), 2), "p99_s": round(percentile(waits, 99), 2),
        "clicks": len(acks), "ack_p50_ms": round(percentile(acks, 50), 1),
        "ack_p99_ms": round(percentile(acks, 99), 1),
        "idle_ack_p99_ms": round(percentile(idle, 99), 1),
    }  # fmt: skip


async def baseline(per_channel: int) -> dict[str, int]:
    """The same messages through plain concurrent chat.postMessage calls: no pacing, one try."""
    slack = SlackEmulator()
    outcomes: Counter[str] = Counter()
    async with slack.serve(), ClientSession(trust_env=False) as session:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_base, session=session,
                                retry_handlers=[])  # fmt: skip
        channels = [slack.dm_channel(slack.add_user(f"M{n}")) for n in range(CHANNELS)]
        card = render_card(TaskCard(task_id=1, heading="⏰ Due in 15 min", type_name="Call",
                                    text="Call back", due_text="today 15:00"))  # fmt: skip

        async def one(channel: str) -> None:
            try:
                await client.chat_postMessage(channel=channel, text=card.text, blocks=card.blocks)
            except SlackApiError as exc:
                outcomes[str(exc.response.get("error"))] += 1
            else:
                outcomes["ok"] += 1

        await asyncio.gather(*(one(c) for _ in range(per_channel) for c in channels))
    print(f"baseline (concurrent chat.postMessage, no pacing, one try): {dict(outcomes)}")
    return {"ok": outcomes["ok"], "429s": outcomes["ratelimited"]}


async def run(per_channel: int) -> dict[str, Any]:
    ours = await loaded(per_channel)
    base = await baseline(per_channel)
    return {
        "messages": per_channel * CHANNELS,
        "channels": CHANNELS,
        "msg_per_s": ours["msg_per_s"],
        "fraction_of_limit": round(ours["msg_per_s"] / LIMIT_PER_S, 3),
        "429s": ours["429s"],
        "p50_s": ours["p50_s"],
        "p99_s": ours["p99_s"],
        "clicks": ours["clicks"],
        "ack_p50_ms": ours["ack_p50_ms"],
        "ack_p99_ms": ours["ack_p99_ms"],
        "idle_ack_p99_ms": ours["idle_ack_p99_ms"],
        "ack_ratio": round(ours["ack_p99_ms"] / max(ours["idle_ack_p99_ms"], 0.1), 2),
        "baseline_429s": base["429s"],
        "baseline_delivered": base["ok"],
    }


if __name__ == "__main__":
    SIZE.main(__doc__, run)
