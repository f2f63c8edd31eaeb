"""What the HTTP handlers share, reached through the aiohttp app (no globals)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from sandbox.slack.faults import Faults
from sandbox.slack.ratelimit import RateLimiter
from sandbox.slack.records import Interaction, RequestRecord, Stats
from sandbox.slack.state import Workspace


@dataclass(slots=True)
class Context:
    ws: Workspace
    limiter: RateLimiter
    faults: Faults
    base_url: Callable[[], str]  # where the emulator is served (for upload URLs)
    request_log: list[RequestRecord] = field(default_factory=list)


CONTEXT = web.AppKey("slack_context", Context)


def context_of(request: web.Request) -> Context:
    return request.app[CONTEXT]


def stats(ctx: Context, interactions: list[Interaction]) -> Stats:
    log = ctx.request_log
    ws = ctx.ws
    return Stats(
        requests=len(log),
        by_method=dict(Counter(r.method for r in log)),
        ratelimited=sum(1 for r in log if r.status == 429),
        errors=sum(1 for r in log if r.error is not None and r.status != 429),
        faults_injected=ctx.faults.injected,
        messages_posted=ws.posted,
        messages_updated=ws.updated,
        messages_deleted=ws.deleted,
        ephemerals=ws.ephemerals_shown,
        views_opened=ws.views_opened,
        interactions=len(interactions),
        failed_interactions=sum(1 for i in interactions if i.failed),
    )
