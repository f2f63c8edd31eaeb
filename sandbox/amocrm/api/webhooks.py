"""POST/GET/DELETE /api/v4/webhooks: hook registration (admin only, reference §6)."""

from __future__ import annotations

import re
from functools import wraps

from aiohttp import web

from sandbox.amocrm.api.common import Handler, answers_query_errors, json_body, query_of
from sandbox.amocrm.context import context_of, user_of
from sandbox.amocrm.problems import FieldError, hal, no_content, problem, validation_failed
from sandbox.amocrm.query import section

routes = web.RouteTableDef()

MAX_HOOKS = 100
_SETTING = re.compile(
    r"^(?:(?:add|update|delete)_(?:lead|contact|company|customer|task|talk)"
    r"|restore_(?:lead|contact|company)|status_lead"
    r"|responsible_(?:lead|contact|company|customer|task)"
    r"|note_(?:lead|contact|company|customer))$"
)


def _admins_only(handler: Handler) -> Handler:
    """Only an account admin may see or change the hooks (403 for anyone else)."""

    @answers_query_errors
    @wraps(handler)
    async def checked(request: web.Request) -> web.StreamResponse:
        if not context_of(request).state.users[user_of(request)].is_admin:
            return problem(403, "Access denied: account admin rights required")
        return await handler(request)

    return checked


@routes.post("/api/v4/webhooks")
@_admins_only
async def save_hook(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    body = await json_body(request)
    if not isinstance(body, dict):
        body = {}
    errors: list[FieldError] = []
    destination = body.get("destination")
    if not isinstance(destination, str) or not destination.startswith(("https://", "http://")):
        errors.append(FieldError("InvalidUrl", "destination", "This value is not a valid URL."))
    settings = body.get("settings")
    if (
        not isinstance(settings, list)
        or not settings
        or not all(isinstance(s, str) and _SETTING.match(s) for s in settings)
    ):
        errors.append(
            FieldError(
                "NotSupportedChoice", "settings", "One or more of the given values is invalid."
            )
        )
    sort = body.get("sort", 1)
    if not isinstance(sort, int) or isinstance(sort, bool):
        errors.append(FieldError("InvalidType", "sort", "This value should be of type int."))
    known = {h.destination for h in ctx.state.webhooks.values()}
    if destination not in known and len(known) >= MAX_HOOKS:
        errors.append(FieldError("TooMany", "destination", f"At most {MAX_HOOKS} webhooks."))
    if errors:
        return validation_failed([("0", errors)])
    assert isinstance(destination, str)
    assert isinstance(settings, list)
    hook = ctx.actions.save_webhook(destination, settings, sort, by_user=user_of(request))
    return hal(ctx.wire.webhook(hook))


@routes.get("/api/v4/webhooks")
@_admins_only
async def list_hooks(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    # Not split on commas: a URL may hold one.
    given = section(query_of(request), "filter").get("destination")
    wanted = [given] if isinstance(given, str) else [str(v) for v in given or []]
    hooks = [
        ctx.wire.webhook(h)
        for h in sorted(ctx.state.webhooks.values(), key=lambda h: (h.sort, h.id))
        if not wanted or h.destination in wanted
    ]
    if not hooks:
        return no_content()
    return hal({"_total_items": len(hooks), "_embedded": {"webhooks": hooks}})


@routes.delete("/api/v4/webhooks")
@_admins_only
async def delete_hook(request: web.Request) -> web.StreamResponse:
    body = await json_body(request)
    destination = body.get("destination") if isinstance(body, dict) else None
    if not isinstance(destination, str):
        return problem(400, "destination is required")
    if not context_of(request).actions.delete_webhook(destination):
        return problem(404, "Webhook not found")
    return no_content()
