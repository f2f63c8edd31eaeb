"""The one aiohttp application: every inbound route plus ``/healthz`` and ``/metrics``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from bot.core import Metrics

HealthCheck = Callable[[], Awaitable[dict[str, str]]]


def build_http_app(
    routes: Iterable[web.RouteDef], *, metrics: Metrics, health: HealthCheck
) -> web.Application:
    async def healthz(_: web.Request) -> web.StreamResponse:
        checks = await health()
        healthy = all(v == "ok" for v in checks.values())
        return web.json_response(
            {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
        )

    async def metrics_view(_: web.Request) -> web.StreamResponse:
        return web.Response(body=metrics.render(), content_type="text/plain", charset="utf-8")

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.add_routes([web.get("/healthz", healthz), web.get("/metrics", metrics_view), *routes])
    return app
