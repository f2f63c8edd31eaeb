"""No input reaches a traceback (issue 12, item 4): the fuzz corpus sent to the running service.

Each edge answers what it cannot read with a 4xx, or, in a chat, a message with an example;
nothing is logged as a traceback, and a refused body writes nothing. The service, its HTTP
server and the amoCRM, Telegram and Slack emulators all run for real over loopback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest

from bot.app.settings import Settings
from bot.app.telegram import TELEGRAM_WEBHOOK_PATH
from bot.app.wiring import Service
from sandbox.amocrm import AmoEmulator, DemoIds
from sandbox.slack import SlackEmulator
from sandbox.slack.signing import signature
from sandbox.telegram import TelegramEmulator
from tests.e2e.conftest import WEBHOOK_SECRET, webhook_mode
from tests.e2e.helpers import eventually, says
from tests.e2e.hostile_corpus import (
    AMO_CASES,
    BIG_BODY_BYTES,
    LONG_ZONE,
    SLACK_CASES,
    SLACK_FORM,
    AmoCase,
    SlackCase,
)
from tests.e2e.slack_helpers import acked_in_time, message_text, tells

TELEGRAM_SECRET = "e2e-hostile-secret"
AMO_PATH = f"/amocrm/webhook/{WEBHOOK_SECRET}"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    """SQLite alone: it is where an id past 2^63 once failed in the inbox."""
    return f"sqlite:///{tmp_path}/amobridge.db"


@pytest.fixture
def service_settings(
    demo: DemoIds,
    slack: SlackEmulator,
    tg: TelegramEmulator,
    make_settings: Callable[..., Settings],
) -> Settings:
    """Every edge on: amoCRM webhooks, Slack, and Telegram in webhook mode."""
    return webhook_mode(make_settings(slack=slack), tg, TELEGRAM_SECRET)


@pytest.fixture
async def http(service: Service) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=service.base_url, trust_env=False) as client:
        yield client


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    tracebacks = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert tracebacks == [], [r.getMessage() for r in tracebacks]


async def counted(http: httpx.AsyncClient, outcome: str) -> float:
    """How many amoCRM webhooks the service counted with ``outcome`` (its /metrics)."""
    metrics = (await http.get("/metrics")).text
    prefix = f'amobridge_amocrm_webhooks_total{{outcome="{outcome}"}} '
    lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0


# --- amoCRM ---------------------------------------------------------------------------------


async def test_the_amocrm_webhook_answers_each_corpus_body_without_a_traceback(
    service: Service, http: httpx.AsyncClient, demo: DemoIds, caplog: pytest.LogCaptureFixture
) -> None:
    deal = str(demo.leads[0])

    async def post(case: AmoCase) -> httpx.Response:
        return await http.post(AMO_PATH, content=case.body.replace(b"{deal}", deal.encode()),
                               headers=FORM)  # fmt: skip

    accepted = await counted(http, "accepted")
    refused = [c for c in AMO_CASES if c.status == 400]
    for case in refused:
        answer = await post(case)
        assert answer.status_code == 400, case.name
        assert "malformed webhook" in answer.json()["error"], case.name
    # A refused body stores nothing: the service counted no accepted webhook.
    assert await counted(http, "accepted") == accepted
    assert await counted(http, "malformed") == len(refused)
    for case in (c for c in AMO_CASES if c.status != 400):
        answer = await post(case)
        assert answer.status_code == case.status, case.name
    no_traceback(caplog)


@pytest.mark.parametrize("size", [BIG_BODY_BYTES // 2 + 1024, BIG_BODY_BYTES])
async def test_a_chunked_webhook_body_over_the_limit_is_refused_with_413(
    service: Service, http: httpx.AsyncClient, size: int, caplog: pytest.LogCaptureFixture
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        """A well-formed start, then padding; no Content-Length, so it goes chunked."""
        nonlocal sent
        head = b"account[subdomain]=demo&contacts[add][0][text]="
        yield head
        sent += len(head)
        while sent < size:
            piece = b"x" * min(64 * 1024, size - sent)
            sent += len(piece)
            yield piece

    try:
        answer = await http.post(AMO_PATH, content=chunks(), headers=FORM)
    except httpx.RemoteProtocolError:  # the server may close before all chunks are sent
        pytest.fail("the service closed the connection without an answer")
    assert answer.status_code == 413
    assert await counted(http, "too_large") == 1
    assert await counted(http, "accepted") == 0
    # Content-Length's claim alone is refused too, before the body is read.
    declared = await http.post(AMO_PATH, content=b"x" * size, headers=FORM)
    assert declared.status_code == 413
    no_traceback(caplog)


# --- Slack ----------------------------------------------------------------------------------


def slack_headers(case_signed: bool, body: bytes, secret: str, content_type: str,
                  *, age_s: float = 0) -> dict[str, str]:  # fmt: skip
    timestamp = str(int(time.time() - age_s))
    key = secret if case_signed else "not-the-signing-secret"
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(key, timestamp, body),
    }


async def test_slack_refuses_unsigned_and_malformed_requests_before_anything_runs(
    service: Service,
    http: httpx.AsyncClient,
    slack: SlackEmulator,
    amo: AmoEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ivan = slack.add_user("Ivan Petrov", email="ivan@demo.example")
    dm = slack.dm_channel(ivan)

    async def post(case: SlackCase) -> httpx.Response:
        body = case.body.replace(b"{user}", ivan.encode()).replace(b"{channel}", dm.encode())
        headers = slack_headers(case.signed, body, slack.signing_secret, case.content_type)
        return await http.post("/slack/events", content=body, headers=headers)

    for case in SLACK_CASES:
        answer = await post(case)
        assert answer.status_code == case.status, case.name
        if case.status == 401:
            assert answer.json() == {"error": "invalid signature"}
    # The three forged button values were acknowledged, and each told Ivan, in his DM, that the
    # button is out of date; nothing was written to amoCRM.
    forged = [c for c in SLACK_CASES if c.status == 200]
    stale = "This button is out of date. Open the task again: /amo tasks"

    async def all_told() -> bool:
        told = [m for m in slack.ephemerals(ivan, dm) if stale in message_text(m)]
        return len(told) == len(forged)

    await eventually(all_told, what="Ivan to be told of each forged button")
    assert len(slack.ephemerals(ivan)) == len(forged)  # and of nothing else
    assert not any(r.method == "PATCH" for r in amo.request_log)
    no_traceback(caplog)


async def test_slack_refuses_a_replayed_request_and_a_bad_timestamp_header(
    service: Service, http: httpx.AsyncClient, slack: SlackEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    body = b"command=%2Famo&text=help&user_id=U1&response_url=http%3A%2F%2F127.0.0.1%3A1%2F"
    replayed = slack_headers(True, body, slack.signing_secret, SLACK_FORM, age_s=6 * 60)
    answer = await http.post("/slack/events", content=body, headers=replayed)
    assert answer.status_code == 401
    for timestamp in ("²".encode(), b"1" * 40, b"-5", b""):
        headers = {k.encode(): v.encode() for k, v in replayed.items()}
        headers[b"X-Slack-Request-Timestamp"] = timestamp
        answer = await http.post("/slack/events", content=body, headers=headers)
        assert answer.status_code == 401, timestamp
    no_traceback(caplog)


async def test_amo_tz_with_a_300_character_zone_is_answered_with_an_example(
    service: Service, slack: SlackEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    ivan = slack.add_user("Ivan Petrov", email="ivan@demo.example")
    acked_in_time(await slack.slash_command(ivan, "/amo", f"tz {LONG_ZONE}"))
    told = await tells(slack, ivan, "For example: /amo tz Europe/Moscow")
    assert "I don't know that timezone." in str(told)
    no_traceback(caplog)


# --- Telegram -------------------------------------------------------------------------------


async def test_telegram_refuses_a_malformed_update_with_400_and_a_wrong_secret_with_401(
    service: Service, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    right = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    for body in (b"{not json", b"[]", b'{"update_id": "x"}', b"\xff\xfe", b"[" * 100_000):
        answer = await http.post(TELEGRAM_WEBHOOK_PATH, content=body, headers=right)
        assert answer.status_code == 400, body[:20]
    good = b'{"update_id": 1}'
    for secret in (b"guess", "секрет".encode(), b""):
        answer = await http.post(TELEGRAM_WEBHOOK_PATH, content=good,
                                 headers={b"X-Telegram-Bot-Api-Secret-Token": secret})  # fmt: skip
        assert answer.status_code == 401, secret
    no_traceback(caplog)


async def test_telegram_tz_with_a_300_character_zone_is_answered_with_an_example(
    service: Service, tg: TelegramEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    user = tg.add_user("Ivan", language_code="en")
    await tg.send_command(user, "tz", LONG_ZONE)
    answer = await says(tg, user, "For example: /tz Europe/Moscow")
    assert "I don't know that timezone." in answer.text
    no_traceback(caplog)
