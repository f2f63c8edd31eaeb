"""How long a change in amoCRM takes to reach Telegram and Slack, and a press to edit every copy.

The whole service (``running_service``, in this process as in ``bench/ingest.py``: the bench then
reads the service's store to link people, and the bare baseline shares its event loop, so the
ratio compares like with like) runs against the amoCRM, Telegram and Slack emulators. Ivan and
Maria are linked in both messengers. At a steady pace below every limit (amoCRM 7 requests/s,
Telegram and Slack 1 message/s per chat on average, with bursts of 2 where they allow 3), their
supervisor (not linked, so the "completed" notice to a task's author goes nowhere) moves one of
their deals and gives them a task on it at the same moment (as an amoCRM automation does on a
stage change), and each presses "Complete" on the card of the task they got the round before,
in turn. Measured:

- webhook → message: from the moment amoCRM sends the webhook (the emulator's change, which
  starts the POST) to the moment the card is in both the Telegram and the Slack emulator;
- press → every copy edited: from the Telegram press (the emulator queues the callback) through
  amoCRM's PATCH to both copies of the card showing it completed.

Baseline, same run, same pace, same emulators: a bare aiohttp handler that sends each webhook
straight to Telegram, and a bare long-poller that PATCHes the task and edits the message on a
press.

    python bench/latency.py [--quick] [--rounds N]

The last line printed is one JSON object (``webhook_to_message_p99_ms``,
``press_to_edited_p99_ms`` and the rest).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import time as dt_time
from typing import Any

import aiohttp
from aiohttp import web
from common import Sized
from stamps import WAIT_S, Figures, Stamps, arrival, report, slack_text

import bot.app as amobridge
from sandbox.amocrm import AmoEmulator, seed_demo_account
from sandbox.common.serving import serve_app
from sandbox.demo import seconds_until
from sandbox.slack import SlackEmulator
from sandbox.telegram import TelegramEmulator

SECRET = "bench-latency"
# Between two actions: each person has 3 cards or edits every 3.6 s (two of them at once), under
# Telegram's and Slack's 1 message/s per chat; amoCRM sees about 3 requests/s, under its 7.
GAP_S = 0.9
QUIET_S = 3.0  # after linking, before the first change
COMPLETE = "✔ Complete"
DONE = "Completed by"


class Clock:
    """Real time from 10:00 in the seeded account's timezone, so working and quiet hours hold
    nothing back whenever the bench runs."""

    def __init__(self) -> None:
        self.offset = seconds_until(time.time(), dt_time(10, 0), "Europe/Moscow")

    def now(self) -> float:
        return time.time() + self.offset


def complete_button(message: Any) -> str | None:
    rows = (message.reply_markup or {}).get("inline_keyboard", [])
    return next((b["callback_data"] for r in rows for b in r if b["text"] == COMPLETE), None)


@dataclass
class Person:
    amo: int
    tag: str
    tg_chat: int
    slack_dm: str | None
    deals: list[int]


# -- the scenario -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scene:
    """What a run acts on: amoCRM (its changes made by ``boss``, deals moved to ``stage``),
    Telegram (where the presses are made), and the stamps of what lands in the chats."""

    amo: AmoEmulator
    tg: TelegramEmulator
    stamps: Stamps
    stage: int
    boss: int


async def drive(
    scene: Scene, people: tuple[Person, Person], rounds: int, *, slack: bool
) -> Figures:
    """``rounds`` times, each person: has a deal moved by the boss and a task from the boss at
    once, presses Complete on the card of the task they got the round before. Every copy is watched
    in Telegram, and in Slack if ``slack``."""
    amo, stamps = scene.amo, scene.stamps
    figures = Figures()
    next_at = time.perf_counter()
    cards: dict[str, asyncio.Future[tuple[float, Any]]] = {}

    def copies(
        person: Person, tg_match: Callable[[Any], bool], slack_match: Callable[[str], bool]
    ) -> list[asyncio.Future[tuple[float, Any]]]:
        found = [stamps.expect(person.tg_chat, tg_match)]
        if slack and person.slack_dm is not None:
            found.append(stamps.expect(person.slack_dm, lambda m: slack_match(slack_text(m))))
        return found

    async def give_task(person: Person, n: int) -> None:
        marker = f"Bench task {person.tag}-{n}"
        futures = copies(person, lambda m: marker in m.text, lambda text: marker in text)
        cards[marker] = futures[0]
        started = time.perf_counter()
        amo.add_task(marker, responsible_user_id=person.amo, by_user=scene.boss,
                     complete_till=int(amo.clock()) + 6 * 3600)  # fmt: skip
        figures.track("task_created", arrival(started, *futures))

    async def move_deal(person: Person, n: int) -> None:
        marker = f"Bench deal {person.tag}-{n}"
        futures = copies(person, lambda m: marker in m.text, lambda text: marker in text)
        started = time.perf_counter()
        amo.move_lead(person.deals[n], scene.stage, by_user=scene.boss)
        figures.track("deal_moved", arrival(started, *futures))

    async def press(person: Person, n: int) -> None:
        marker = f"Bench task {person.tag}-{n}"
        try:
            async with asyncio.timeout(WAIT_S):
                _, card = await cards[marker]
        except TimeoutError:
            card = None
        data = None if card is None else complete_button(card)
        if card is None or data is None:
            figures.samples.setdefault("press", []).append(None)
            return
        message_id = card.message_id
        futures = copies(
            person,
            lambda m: m.message_id == message_id and DONE in m.text,
            lambda text: marker in text and DONE in text,
        )
        started = time.perf_counter()
        await scene.tg.press_button(person.tg_chat, person.tg_chat, message_id, data)
        figures.track("press", arrival(started, *futures))

    async def paced(action: Awaitable[None]) -> None:
        nonlocal next_at
        await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        next_at = time.perf_counter() + GAP_S
        await action

    async def both(*actions: Awaitable[None]) -> None:
        await asyncio.gather(*actions)

    async def nothing() -> None:
        return None

    for n in range(rounds):
        for person in people:
            await paced(both(move_deal(person, n), give_task(person, n)))
        # The first round has no card to press yet: its steps are kept as gaps all the same, so
        # that a chat's next pair of cards comes 3.6 s after the first, as in every other round
        # (1.8 s would be 4 messages where Telegram's pace allows 2 and then 1 a second).
        for person in people:
            await paced(press(person, n - 1) if n else nothing())
    for person in people:
        await paced(press(person, rounds - 1))
    await figures.settle()
    return figures


# -- the bare baseline --------------------------------------------------------------------------


@asynccontextmanager
async def bare_bridge(
    amo: AmoEmulator, tg: TelegramEmulator, chats: dict[int, int], names: dict[int, str]
) -> AsyncIterator[str]:
    """The least a bridge can do: on each webhook, one sendMessage to the responsible's chat
    (the task's text or the deal's name, read from the webhook itself, no amoCRM read); on each
    press, one PATCH of the task and one editMessageText. Yields its webhook URL."""
    session = aiohttp.ClientSession()
    bot = f"{tg.base_url}/bot{tg.token}"

    async def receive(request: web.Request) -> web.StreamResponse:
        form = {k: str(v) for k, v in (await request.post()).items()}
        if "task[add][0][text]" in form:
            who, text = form["task[add][0][responsible_user_id]"], form["task[add][0][text]"]
        elif "leads[status][0][id]" in form:
            who = form["leads[status][0][responsible_user_id]"]
            text = f"Deal moved: {names.get(int(form['leads[status][0][id]']), '?')}"
        else:
            return web.Response(text="ok")
        task_id = form.get("task[add][0][id]")
        markup = (
            {"inline_keyboard": [[{"text": COMPLETE, "callback_data": f"c:{task_id}"}]]}
            if task_id
            else None
        )
        body: dict[str, Any] = {"chat_id": chats[int(who)], "text": text}
        if markup:
            body["reply_markup"] = markup
        async with session.post(f"{bot}/sendMessage", json=body) as answer:
            await answer.read()
        return web.Response(text="ok")

    pressing: set[asyncio.Task[None]] = set()

    async def poll() -> None:
        offset = 0
        while True:
            params = {"offset": offset, "timeout": 30}
            async with session.post(f"{bot}/getUpdates", json=params) as answer:
                updates = (await answer.json())["result"]
            for update in updates:
                offset = update["update_id"] + 1
                query = update.get("callback_query")
                if query:
                    task = asyncio.create_task(on_press(query))
                    pressing.add(task)
                    task.add_done_callback(pressing.discard)

    async def on_press(query: dict[str, Any]) -> None:
        task_id = int(query["data"].split(":")[1])
        headers = {"Authorization": f"Bearer {amo.long_lived_token}"}
        patch = {"is_completed": True, "result": {"text": "Done"}}
        url = f"{amo.base_url}/api/v4/tasks/{task_id}"
        async with session.patch(url, json=patch, headers=headers) as answer:
            await answer.read()
        message = query["message"]
        edit = {"chat_id": message["chat"]["id"], "message_id": message["message_id"],
                "text": f"{message['text']}\n{DONE} bare"}  # fmt: skip
        async with session.post(f"{bot}/editMessageText", json=edit) as answer:
            await answer.read()

    app = web.Application()
    app.add_routes([web.post("/hook", receive)])
    hooks = f"{amo.base_url}/api/v4/webhooks"
    headers = {"Authorization": f"Bearer {amo.long_lived_token}"}
    async with session, serve_app(app, "127.0.0.1", 0) as base:
        url = f"{base}/hook"
        hook = {"destination": url, "settings": ["add_task", "status_lead"]}
        async with session.post(hooks, json=hook, headers=headers) as answer:
            answer.raise_for_status()
        poller = asyncio.create_task(poll())
        try:
            yield url
        finally:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)
            async with session.delete(hooks, json={"destination": url}, headers=headers) as gone:
                gone.raise_for_status()


# -- the service ------------------------------------------------------------------------------


def settings_for(
    amo: AmoEmulator, tg: TelegramEmulator, slack: SlackEmulator, db: str
) -> amobridge.Settings:
    return amobridge.Settings(
        _env_file=None,
        amocrm=amobridge.AmoCrmSettings(
            base_url=amo.base_url, long_lived_token=amo.long_lived_token, webhook_secret=SECRET
        ),
        telegram=amobridge.TelegramSettings(token=tg.token, api_base=tg.base_url),
        slack=amobridge.SlackSettings(
            bot_token=slack.bot_token,
            signing_secret=slack.signing_secret,
            api_base=slack.api_base,
        ),
        http=amobridge.HttpSettings(host="127.0.0.1", port=0),
        store_url=f"sqlite:///{db}",
    )


async def link(service: amobridge.Service, tg: TelegramEmulator, slack: SlackEmulator,
               amo_user: int, name: str, email: str) -> tuple[int, str]:  # fmt: skip
    """``amo_user`` linked in Telegram (an invite deep link) and in Slack (by e-mail), both
    in English; their Telegram chat and Slack DM."""
    assert service.services is not None
    code = await service.services.linking.create_invite(amo_user)
    chat = tg.add_user(first_name=name, language_code="en")
    await tg.send_command(chat, "start", code)
    await tg.wait_for_message(chat, lambda m: "amoCRM" in m.text, timeout_s=WAIT_S)
    await tg.send_command(chat, "lang", "en")
    await tg.wait_for_message(chat, lambda m: "English" in m.text, timeout_s=WAIT_S)
    user = slack.add_user(name, email=email)
    await slack.slash_command(user, "/amo", "link")
    await slack.wait_for_ephemeral(user, lambda e: "✔" in str(e), timeout_s=WAIT_S)
    await slack.slash_command(user, "/amo", "lang en")
    await slack.wait_for_ephemeral(user, lambda e: "English" in str(e), timeout_s=WAIT_S)
    return chat, slack.dm_channel(user)


async def synced(service: amobridge.Service, deal_id: int) -> None:
    """The first sync is done: the cache holds ``deal_id`` (the last deal made)."""
    deadline = time.monotonic() + WAIT_S
    while await service.store.get_deal(deal_id) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("the first sync never finished")
        await asyncio.sleep(0.05)


async def run(rounds: int) -> dict[str, object]:
    clock = Clock()
    amo = AmoEmulator(subdomain="demo", clock=clock.now)
    tg = TelegramEmulator(token="123456:BENCH-TOKEN", clock=clock.now)
    slack = SlackEmulator(bot_token="xoxb-bench", signing_secret="bench-signing", clock=clock.now)
    demo = seed_demo_account(amo)
    # One fresh deal per move, so that each alert names its own deal; made before any hook.
    deals = {
        who: [amo.add_lead(f"Bench deal {tag}-{n}", status_id=demo.incoming,
                           pipeline_id=demo.pipeline, responsible_user_id=who, by_user=who)
              for n in range(rounds)]
        for who, tag in ((demo.ivan, "I"), (demo.maria, "M"))
    }  # fmt: skip
    names = {d: str(amo.lead(d)["name"]) for ds in deals.values() for d in ds}
    async with (
        amo.serve(host="127.0.0.1", port=0),
        tg.serve(host="127.0.0.1", port=0),
        slack.serve(host="127.0.0.1", port=0),
    ):
        # Baseline first: its deals are then moved back for the service's run.
        bare_people = (
            Person(demo.ivan, "I", tg.add_user("Bare Ivan", started=True), None, deals[demo.ivan]),
            Person(demo.maria, "M", tg.add_user("Bare Maria", started=True), None,
                   deals[demo.maria]),
        )  # fmt: skip
        stamps = Stamps()
        for person in bare_people:
            stamps.watch(person.tg_chat, tg.wait_for_message)
        chats = {p.amo: p.tg_chat for p in bare_people}
        began = time.perf_counter()
        async with bare_bridge(amo, tg, chats, names):
            scene = Scene(amo, tg, stamps, demo.qualified, demo.supervisor)
            bare = await drive(scene, bare_people, rounds, slack=False)
        await amo.drain_webhooks()
        for ds in deals.values():
            for d in ds:
                amo.move_lead(d, demo.incoming, by_user=demo.admin)
        await stamps.close()

        print(f"baseline done: {time.perf_counter() - began:.1f} s", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            settings = settings_for(amo, tg, slack, f"{tmp}/bench.db")
            async with amobridge.running_service(settings, clock=clock) as service:
                slack.request_url = service.base_url + "/slack/events"
                hook = service.settings.model_copy(update={"public_url": service.base_url})
                await amobridge.register_amocrm_webhook(hook)
                print(f"service up: {time.perf_counter() - began:.1f} s", flush=True)
                await synced(service, max(names))
                print(f"synced: {time.perf_counter() - began:.1f} s", flush=True)
                ivan = await link(service, tg, slack, demo.ivan, "Ivan", "ivan@demo.example")
                maria = await link(service, tg, slack, demo.maria, "Maria",
                                   "maria@demo.example")  # fmt: skip
                people = (
                    Person(demo.ivan, "I", *ivan, deals[demo.ivan]),
                    Person(demo.maria, "M", *maria, deals[demo.maria]),
                )
                stamps = Stamps()
                for person in people:
                    stamps.watch(person.tg_chat, tg.wait_for_message)
                    assert person.slack_dm is not None
                    stamps.watch(person.slack_dm, slack.wait_for_message)
                # Linking just sent each chat a few replies: a quiet moment lets every chat's
                # pace budget refill, as it would be before a working day's first change.
                await asyncio.sleep(QUIET_S)
                print(f"linked: {time.perf_counter() - began:.1f} s", flush=True)
                scene = Scene(amo, tg, stamps, demo.qualified, demo.supervisor)
                ours = await drive(scene, people, rounds, slack=True)
                await stamps.close()
                amo_requests = len(amo.request_log)
                print(f"measured: {time.perf_counter() - began:.1f} s", flush=True)
        print(f"stopped: {time.perf_counter() - began:.1f} s", flush=True)
    return report(ours, bare, f"{rounds} rounds, 2 people, a step every {GAP_S} s", amo_requests)


if __name__ == "__main__":
    Sized("--rounds", "rounds (each: 2 tasks, 2 moves, 2 presses)", 4, 40, "under a minute").main(
        __doc__, run
    )
