"""Slack's HTTP edge: one URL for events, interactivity and the slash command.

The signature is checked on the raw bytes before anything is parsed, and a signed body that is
not shaped as Slack's is refused with 400 before bolt routes it to a listener (handlers.slack).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.signature import SignatureVerifier

from handlers.body import BodyTooLarge, read_limited

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024  # Slack's payloads are a few kilobytes; a modal's text 3,000 chars
_TIMESTAMP_DIGITS = 12


class MalformedSlackRequest(ValueError):
    """A signed body bolt could not route (not JSON, not an object, an event that is not one);
    the reason is safe to log: it holds no body data."""


def slack_routes(
    app: AsyncApp, verifier: SignatureVerifier, path: str = "/slack/events"
) -> list[web.RouteDef]:
    """Events, interactivity and the slash command at one URL, as the app manifest sets it.

    The signature and its timestamp (5 minutes) are checked on the raw bytes before anything is
    parsed: a request that fails is answered 401 and nothing else runs. Bolt checks them again.
    A signed body that is not one of Slack's is answered 400, never handed to a listener.
    """

    async def endpoint(request: web.Request) -> web.StreamResponse:
        try:
            raw = await read_limited(request, MAX_BODY_BYTES)
        except BodyTooLarge:
            return web.json_response({"error": "body too large"}, status=413)
        if not _signed(verifier, raw, request.headers):
            return web.json_response({"error": "invalid signature"}, status=401)
        try:
            bolt_request = parse_request(raw, request.query_string, request.headers)
        except MalformedSlackRequest as exc:
            log.warning("slack: refused a signed request: %s", exc)
            return web.json_response({"error": f"malformed request: {exc}"}, status=400)
        response = await app.async_dispatch(bolt_request)
        return await to_aiohttp_response(response)

    return [web.post(path, endpoint)]


def _signed(verifier: SignatureVerifier, raw: bytes, headers: Mapping[str, str]) -> bool:
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    # slack_sdk calls int() on the header: only ASCII digits reach it ("²" would raise).
    if not (0 < len(timestamp) <= _TIMESTAMP_DIGITS and timestamp.isascii()):
        return False
    signature = headers.get("X-Slack-Signature", "")
    if not (timestamp.isdigit() and signature.isascii()):  # compare_digest takes ASCII only
        return False
    try:
        text = raw.decode("utf-8")  # slack_sdk decodes the body itself, and would raise
    except UnicodeDecodeError:
        return False  # Slack sends UTF-8: a body that is not cannot be one it signed
    return verifier.is_valid(text, timestamp, signature)


def parse_request(raw: bytes, query: str, headers: Mapping[str, str]) -> AsyncBoltRequest:
    """A signed body as bolt's request, checked to have the shape bolt's matchers read."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:  # _signed refuses it first; kept for any other caller
        raise MalformedSlackRequest("body is not UTF-8") from None
    try:
        request = AsyncBoltRequest(body=text, query=query, headers=dict(headers))
    except (ValueError, RecursionError, AttributeError, TypeError, KeyError, IndexError):
        # json.loads (a JSONDecodeError is a ValueError), then bolt's look-ups in a non-object.
        raise MalformedSlackRequest("body is not a Slack payload") from None
    check_envelope(request.body)
    return request


def check_envelope(body: object) -> None:
    """Raises ``MalformedSlackRequest`` unless ``body`` has the parts bolt and our listeners read:
    an event object with a type, a user with an id, actions with an action_id, a view with a
    callback_id, a command with its user and response URL."""
    if not isinstance(body, dict):
        raise MalformedSlackRequest("body is not an object")
    kind = body.get("type")
    if "event" in body or kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise MalformedSlackRequest("event is not an object with a type")
    if kind in ("block_actions", "view_submission", "view_closed", "shortcut", "message_action"):
        if not isinstance(field_of(body, "user", "id"), str):
            raise MalformedSlackRequest("interaction without a user id")
        if "container" in body and not isinstance(body["container"], dict):
            raise MalformedSlackRequest("container is not an object")
    if kind == "block_actions":
        actions = body.get("actions")
        if not isinstance(actions, list) or not all(
            isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions
        ):
            raise MalformedSlackRequest("actions are not objects with an action_id")
    if kind in ("view_submission", "view_closed") and not isinstance(
        field_of(body, "view", "callback_id"), str
    ):
        raise MalformedSlackRequest("view without a callback_id")
    if "command" in body and not all(
        isinstance(body.get(key), str) for key in ("command", "user_id", "response_url")
    ):
        raise MalformedSlackRequest("command without its user or response URL")


def field_of(body: dict[str, Any], key: str, inner: str) -> object:
    """``body[key][inner]``, or None where either part is missing or not an object."""
    part = body.get(key)
    return part.get(inner) if isinstance(part, dict) else None
