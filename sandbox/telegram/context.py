"""What the API methods and HTTP handlers share, reached through the aiohttp app (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from sandbox.telegram.faults import Faults
from sandbox.telegram.ratelimit import RateLimiter
from sandbox.telegram.records import RequestRecord
from sandbox.telegram.state import BotState
from sandbox.telegram.updates import LongPoll, UpdateQueue
from sandbox.telegram.webhook import WebhookDeliverer


@dataclass(slots=True)
class Knobs:
    """Settings a test may change while the emulator runs."""

    callback_answer_timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class BotContext:
    state: BotState
    updates: UpdateQueue
    poll: LongPoll
    hooks: WebhookDeliverer
    limiter: RateLimiter
    faults: Faults
    knobs: Knobs
    request_log: list[RequestRecord]


CONTEXT = web.AppKey("telegram_context", BotContext)


def context_of(request: web.Request) -> BotContext:
    return request.app[CONTEXT]
