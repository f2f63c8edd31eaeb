"""Helpers the API handlers share: paged lists, JSON bodies, query errors, user rights."""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Sequence
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from sandbox.amocrm.context import context_of
from sandbox.amocrm.problems import hal, no_content, problem
from sandbox.amocrm.query import QueryError, paging, parse_query
from sandbox.amocrm.records import JsonDict, Right
from sandbox.amocrm.state import AccountState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class BadBody(Exception):
    """A request body the API cannot read at all (answered as 400)."""


def query_of(request: web.Request) -> JsonDict:
    return parse_query(request.rel_url.raw_query_string)


def answers_query_errors(handler: Handler) -> Handler:
    """Turn a bad filter or body into amoCRM's 400 problem instead of a 500."""

    @wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except (QueryError, BadBody) as exc:
            return problem(400, str(exc))

    return wrapped


async def json_body(request: web.Request) -> Any:
    try:
        return json.loads(await request.text())
    except ValueError:
        raise BadBody("Request body must be JSON") from None


def _page_href(request: web.Request, page: int, limit: int) -> str:
    pairs = [(k, v) for k, v in request.query.items() if k not in ("page", "limit")]
    pairs += [("page", str(page)), ("limit", str(limit))]
    return f"{context_of(request).wire.base_url}{request.path}?{urlencode(pairs)}"


def paged(
    request: web.Request,
    key: str,
    items: Sequence[JsonDict],
    *,
    max_limit: int,
    with_totals: bool = False,
) -> web.Response:
    """The page the query asks for (``page``, ``limit`` up to ``max_limit``) of a list, or 204
    when the page is empty (an empty list or past the end)."""
    page, limit = paging(query_of(request), max_limit=max_limit)
    start = (page - 1) * limit
    chunk = list(items[start : start + limit])
    if not chunk:
        return no_content()
    links: JsonDict = {"self": {"href": _page_href(request, page, limit)}}
    if start + limit < len(items):
        links["next"] = {"href": _page_href(request, page + 1, limit)}
    if page > 1:
        links["first"] = {"href": _page_href(request, 1, limit)}
        links["prev"] = {"href": _page_href(request, page - 1, limit)}
    body: JsonDict = {}
    if with_totals:
        body["_total_items"] = len(items)
        body["_page_count"] = math.ceil(len(items) / limit)
    body |= {"_page": page, "_links": links, "_embedded": {key: chunk}}
    return hal(body)


def allows(state: AccountState, actor_id: int, right: Right, owner_id: int) -> bool:
    """Whether a user with `right` (A all / G group / M own / D none) may touch an entity
    owned by `owner_id`; admins may touch everything."""
    actor = state.users[actor_id]
    if actor.is_admin or right == "A":
        return True
    if right == "G":
        return state.group_of(owner_id) == actor.group_id
    if right == "M":
        return owner_id == actor_id
    return False
