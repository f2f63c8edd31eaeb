"""Reading a request body under a limit, whatever its framing (Content-Length or chunked)."""

from __future__ import annotations

from aiohttp import web


class BodyTooLarge(Exception):
    """The body is longer than the route takes; answered 413 without reading the rest."""


async def read_limited(request: web.Request, limit: int) -> bytes:
    """At most ``limit`` bytes of the body, or ``BodyTooLarge``.

    Content-Length is only a claim (and a chunked body has none), so the stream itself is read,
    never more than ``limit + 1`` bytes of it.
    """
    if (request.content_length or 0) > limit:
        raise BodyTooLarge()
    # Most bodies come whole in one read, the stream then at its end: no second read to see it.
    first = await request.content.read(limit + 1)
    if len(first) > limit:
        raise BodyTooLarge()
    if not first or request.content.at_eof():
        return first
    body = bytearray(first)
    while len(body) <= limit:
        chunk = await request.content.read(limit + 1 - len(body))
        if not chunk:
            return bytes(body)
        body += chunk
    raise BodyTooLarge()
