"""``POST /amocrm/webhook/{secret}``: check the secret, parse, queue the hints, answer at once.

amoCRM waits 2 s and disables a hook after 100 failures in 2 h, so the handler does no amoCRM
reads: it stores the hints durably and the inbox worker does the rest.
"""

from __future__ import annotations

import hmac
import logging

from aiohttp import web

from bot.core import Metrics
from bot.crm import HintInbox
from handlers.amocrm_payload import MalformedWebhook, WebhookParser
from handlers.body import BodyTooLarge, read_limited

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024


def amocrm_webhook_routes(secret: str, inbox: HintInbox, metrics: Metrics) -> list[web.RouteDef]:
    expected = secret.encode()
    parser = WebhookParser()
    accepted = metrics.webhooks.labels(outcome="accepted")  # looked up once: the hot path

    async def receive(request: web.Request) -> web.StreamResponse:
        if not hmac.compare_digest(request.match_info["secret"].encode(), expected):
            metrics.webhooks.labels(outcome="wrong_secret").inc()
            raise web.HTTPNotFound()
        try:
            body = await read_limited(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            metrics.webhooks.labels(outcome="too_large").inc()
            return web.json_response({"error": "body too large"}, status=413)
        try:
            hints = parser.parse(body)
        except MalformedWebhook as exc:
            metrics.webhooks.labels(outcome="malformed").inc()
            log.warning(
                "refused amoCRM webhook %s: %s", request.headers.get("X-Amocrm-Requestid"), exc
            )
            return web.json_response({"error": f"malformed webhook: {exc}"}, status=400)
        try:
            await inbox.accept(hints)
        except Exception as exc:
            # The store is down (Redis restarting, a full disk): 503, and amoCRM sends the
            # webhook again later; the events poll catches up besides. Not a bug of the request.
            metrics.webhooks.labels(outcome="unstored").inc()
            log.error("amoCRM webhook not stored, answered 503: %s: %s", type(exc).__name__, exc)
            return web.json_response({"error": "not stored, try again"}, status=503)
        accepted.inc()
        # What json_response would give, without its encoder and text round trip: the hot path.
        return web.Response(body=b'{"accepted": %d}' % len(hints), content_type="application/json")

    return [web.post("/amocrm/webhook/{secret}", receive)]
