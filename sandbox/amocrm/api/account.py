"""GET /api/v4/account, /users and /users/{id}."""

from __future__ import annotations

from aiohttp import web

from sandbox.amocrm.api.common import answers_query_errors, paged, query_of
from sandbox.amocrm.context import context_of, user_of
from sandbox.amocrm.problems import hal, no_content, problem
from sandbox.amocrm.query import with_set

routes = web.RouteTableDef()


@routes.get("/api/v4/account")
async def get_account(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    body = ctx.wire.account(current_user_id=user_of(request), with_=with_set(query_of(request)))
    return hal(body)


def _admin_only(request: web.Request) -> web.Response | None:
    ctx = context_of(request)
    if not ctx.state.users[user_of(request)].is_admin:
        return problem(403, "Access denied: account admin rights required")
    return None


@routes.get("/api/v4/users")
@answers_query_errors
async def list_users(request: web.Request) -> web.StreamResponse:
    denied = _admin_only(request)
    if denied is not None:
        return denied
    ctx = context_of(request)
    users = [ctx.wire.user(u) for u in sorted(ctx.state.users.values(), key=lambda u: u.id)]
    return paged(request, "users", users, max_limit=250, with_totals=True)


@routes.get(r"/api/v4/users/{id:\d+}")
async def get_user(request: web.Request) -> web.StreamResponse:
    ctx = context_of(request)
    try:
        user = ctx.state.users[int(request.match_info["id"])]
    except (KeyError, ValueError):
        return no_content()
    # Anyone may read their own profile; other users need admin rights, as for the list.
    if user.id != user_of(request):
        denied = _admin_only(request)
        if denied is not None:
            return denied
    return hal(ctx.wire.user(user))
