"""The one aiohttp application: every inbound route plus ``/healthz``, ``/readyz`` and
``/metrics``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from bot.core import Metrics

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]
BeforeScrape = Callable[[], Awaitable[None]]


def build_http_app(
    routes: Iterable[web.RouteDef],
    *,
    metrics: Metrics,
    ready: ReadinessCheck,
    before_scrape: BeforeScrape | None = None,
) -> web.Application:
    async def healthz(_: web.Request) -> web.StreamResponse:
        # Liveness: the process answers. Whether it can do its work is /readyz.
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.StreamResponse:
        checks = await ready()
        is_ready = all(v == "ok" for v in checks.values())
        return web.json_response(
            {"status": "ready" if is_ready else "not ready", **checks},
            status=200 if is_ready else 503,
        )

    async def metrics_view(_: web.Request) -> web.StreamResponse:
        if before_scrape is not None:
            await before_scrape()
        return web.Response(body=metrics.render(), content_type="text/plain", charset="utf-8")

    app = web.Application(client_max_size=2 * 1024 * 1024)
    app.add_routes(
        [
            web.get("/healthz", healthz),
            web.get("/readyz", readyz),
            web.get("/metrics", metrics_view),
            *routes,
        ]
    )
    return app
