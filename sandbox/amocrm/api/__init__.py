"""The v4 REST routes, one module per resource, each route declared on its handler (`routes`)."""

from __future__ import annotations

from aiohttp import web

from sandbox.amocrm.api import account, events, leads, notes, tasks, webhooks


def api_routes() -> list[web.RouteDef]:
    # notes before leads: /leads/notes must not be read as a lead id (ids are digits anyway).
    return [
        *account.routes,
        *notes.routes,
        *leads.routes,
        *tasks.routes,
        *events.routes,
        *webhooks.routes,
    ]
