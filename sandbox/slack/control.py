"""The HTTP control API under ``/_control/``: play the workspace's people, set test knobs, look
inside. It keeps step with the Python handle (``SlackEmulator``). No auth, not logged, no rate
limits; bodies are JSON (whatever the Content-Type, so ``curl -d`` works); answers are JSON,
``{"error": ...}`` with 400 for a bad request or an impossible action and 404 for an unknown id.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web
from pydantic import ConfigDict, Field

from sandbox.common.control import (
    ControlBody,
    ControlRoutes,
    MethodFaultOrder,
    read_body,
)
from sandbox.slack.context import context_of
from sandbox.slack.context import stats as compute_stats
from sandbox.slack.faults import DEFAULT_HOLD_S
from sandbox.slack.people import People
from sandbox.slack.records import Interaction, JsonDict, Signing, SlackRateLimits

PEOPLE = web.AppKey("slack_people", People)

_USER = "/_control/users/{id}"


class _Body(ControlBody):
    # Not strict, as it always was: "2" for a number or "true" for a flag is taken.
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True)


class NewUser(_Body):
    name: str
    email: str | None = None
    tz: str = "Europe/Moscow"
    is_admin: bool = False
    is_bot: bool = False


class NewChannel(_Body):
    name: str
    members: list[str] = Field(default_factory=list)
    bot_member: bool = True
    private: bool = False


class ChannelChange(_Body):
    bot_member: bool | None = None
    archived: bool | None = None


class RequestUrl(_Body):
    url: str


class Slash(_Body):
    user: str
    command: str = "/amo"
    text: str = ""
    channel: str | None = None


class _Press(_Body):
    """A person presses the element ``action_id`` (carrying ``value``) on a message or a view."""

    user: str
    action_id: str
    value: str | None = None


class Click(_Press):
    channel: str
    ts: str


class ViewClick(_Press):
    view_id: str


class Submit(_Body):
    user: str
    view_id: str
    values: dict[str, dict[str, str]]


class CloseView(_Body):
    user: str
    view_id: str


class OpenHome(_Body):
    user: str


class FaultOrder(MethodFaultOrder):
    model_config = _Body.model_config
    delay_s: float = DEFAULT_HOLD_S


class SigningBody(_Body):
    secret: str | None = None
    age_s: float = 0.0
    tamper: bool = False


class RateLimitsBody(_Body):
    enabled: bool = True
    post_burst: int = 3
    post_per_s: float = 1.0
    tier2_per_min: int = 20
    tier3_per_min: int = 50
    tier4_per_min: int = 100


def _json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def _interaction(result: Interaction | None) -> JsonDict:
    if result is None:
        return {"sent": False}
    return {"sent": True, "kind": result.kind, "status": result.status,
            "ack_ms": round(result.ack_ms, 1), "failed": result.failed,
            "failure": result.failure, "body": result.body, "errors": result.errors,
            "trigger_id": result.trigger_id, "response_url": result.response_url}  # fmt: skip


def _person(request: web.Request) -> str:
    user = request.match_info["id"]
    context_of(request).ws.person(user)
    return user


# --- the app and the workspace ------------------------------------------------------------


CONTROL = ControlRoutes(
    context_of,
    FaultOrder,
    not_found=lambda exc: f"unknown {exc.args[0]}",
    bad=(ValueError, RuntimeError),
    log="the Web API request log",
    faults='{"kind": "429|500|503|timeout|<error code>", "count"?, "method"?, "retry_after"?}',
)


@CONTROL.post("/_control/request-url", '{"url"}: where Slack sends commands, clicks and events')
async def set_request_url(request: web.Request) -> web.StreamResponse:
    request.app[PEOPLE].link.request_url = (await read_body(request, RequestUrl)).url
    return web.json_response({"url": request.app[PEOPLE].link.request_url})


@CONTROL.get("/_control/request-url", "the app's Request URL")
async def get_request_url(request: web.Request) -> web.StreamResponse:
    return web.json_response({"url": request.app[PEOPLE].link.request_url})


@CONTROL.post("/_control/users", '{"name", "email"?, "tz"?, "is_admin"?, "is_bot"?} -> {"id"}')
async def add_user(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, NewUser)
    user = context_of(request).ws.add_user(body.name, email=body.email, tz=body.tz,
                                           is_admin=body.is_admin, is_bot=body.is_bot)  # fmt: skip
    return web.json_response({"id": user}, status=201)


@CONTROL.get("/_control/users", "the workspace's people")
async def users(request: web.Request) -> web.StreamResponse:
    return web.json_response(_json(list(context_of(request).ws.users.values())))


@CONTROL.post(f"{_USER}/deactivate", "an admin deactivates the person")
async def deactivate(request: web.Request) -> web.StreamResponse:
    context_of(request).ws.set_deleted(_person(request), True)
    return web.json_response({"deleted": True})


@CONTROL.post(f"{_USER}/reactivate", "and brings them back")
async def reactivate(request: web.Request) -> web.StreamResponse:
    context_of(request).ws.set_deleted(_person(request), False)
    return web.json_response({"deleted": False})


@CONTROL.post(
    "/_control/channels", '{"name", "members": [user ids], "bot_member"?, "private"?} -> {"id"}'
)
async def add_channel(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, NewChannel)
    channel = context_of(request).ws.add_channel(body.name, body.members, body.bot_member,
                                                 body.private)  # fmt: skip
    return web.json_response({"id": channel}, status=201)


@CONTROL.patch(
    "/_control/channels/{id}",
    '{"bot_member"?, "archived"?}: the app invited or removed, the channel archived',
)
async def change_channel(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, ChannelChange)
    channel = context_of(request).ws.channel(request.match_info["id"])
    if body.bot_member is not None:
        channel.bot_member = body.bot_member
    if body.archived is not None:
        channel.is_archived = body.archived
    return web.json_response({"id": channel.id, "bot_member": channel.bot_member,
                              "archived": channel.is_archived})  # fmt: skip


@CONTROL.get("/_control/channels", "the channels and direct messages")
async def channels(request: web.Request) -> web.StreamResponse:
    return web.json_response([
        {"id": c.id, "name": c.name, "is_im": c.is_im, "user": c.im_user,
         "members": sorted(c.members), "bot_member": c.bot_member, "private": c.is_private}
        for c in context_of(request).ws.channels.values()
    ])  # fmt: skip


# --- what people do -------------------------------------------------------------------------


@CONTROL.post("/_control/slash", '{"user", "command": "/amo", "text", "channel"?}')
async def slash(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, Slash)
    result = await request.app[PEOPLE].slash_command(
        body.user, body.command, body.text, channel_id=body.channel
    )
    return web.json_response(_interaction(result))


@CONTROL.post("/_control/click", '{"user", "channel", "ts", "action_id", "value"?}')
async def click(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, Click)
    result = await request.app[PEOPLE].click(body.user, body.channel, body.ts, body.action_id,
                                             body.value)  # fmt: skip
    return web.json_response(_interaction(result))


@CONTROL.post("/_control/click-ephemeral", '{"user", "channel", "ts", "action_id", "value"?}')
async def click_ephemeral(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, Click)
    result = await request.app[PEOPLE].click_ephemeral(
        body.user, body.channel, body.ts, body.action_id, body.value
    )
    return web.json_response(_interaction(result))


@CONTROL.post("/_control/views/click", '{"user", "view_id", "action_id", "value"?}')
async def click_view(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, ViewClick)
    result = await request.app[PEOPLE].click_view(body.user, body.view_id, body.action_id,
                                                  body.value)  # fmt: skip
    return web.json_response(_interaction(result))


@CONTROL.post("/_control/views/submit", '{"user", "view_id", "values": {block: {action: v}}}')
async def submit(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, Submit)
    result = await request.app[PEOPLE].submit_view(body.user, body.view_id, body.values)
    return web.json_response(_interaction(result))


@CONTROL.post("/_control/views/close", '{"user", "view_id"}: Cancel on the modal in front')
async def close_view(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, CloseView)
    return web.json_response(_interaction(
        await request.app[PEOPLE].close_view(body.user, body.view_id)
    ))  # fmt: skip


@CONTROL.post("/_control/home/open", '{"user"}: the person opens the app\'s Home tab')
async def open_home(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, OpenHome)
    return web.json_response(_interaction(await request.app[PEOPLE].open_home(body.user)))


@CONTROL.post("/_control/verify-url", "Slack's url_verification of the Request URL")
async def verify_url(request: web.Request) -> web.StreamResponse:
    return web.json_response(_interaction(await request.app[PEOPLE].verify_url()))


# --- looking inside -------------------------------------------------------------------------


@CONTROL.get("/_control/channels/{id}/messages", "a channel's messages, edits included")
async def messages(request: web.Request) -> web.StreamResponse:
    ws = context_of(request).ws
    channel = ws.channel(request.match_info["id"])
    return web.json_response(_json(ws.messages(channel.id)))


@CONTROL.get(f"{_USER}/dm", "the person's direct messages with the app")
async def dm(request: web.Request) -> web.StreamResponse:
    ws = context_of(request).ws
    channel = ws.dm(_person(request)).id
    return web.json_response({"channel": channel, "messages": _json(ws.messages(channel))})


@CONTROL.get(f"{_USER}/ephemerals", "what only this person was shown")
async def ephemerals(request: web.Request) -> web.StreamResponse:
    ws = context_of(request).ws
    return web.json_response(_json(ws.ephemerals(_person(request))))


@CONTROL.get(f"{_USER}/views", "the person's open modals and Home tab")
async def views(request: web.Request) -> web.StreamResponse:
    ws = context_of(request).ws
    user = _person(request)
    return web.json_response({"modals": _json(ws.modals.get(user, [])),
                              "home": _json(ws.homes.get(user))})  # fmt: skip


CONTROL.records(
    "/_control/interactions",
    "what was sent to the app, its answer and ack time",
    lambda request: request.app[PEOPLE].interactions,
)


@CONTROL.get("/_control/stats", "counts: requests, 429s, errors, messages, interactions")
async def stats(request: web.Request) -> web.StreamResponse:
    found = compute_stats(context_of(request), request.app[PEOPLE].interactions)
    return web.json_response(dataclasses.asdict(found))


# --- knobs ----------------------------------------------------------------------------------


@CONTROL.post("/_control/signing", '{"secret"?, "age_s"?, "tamper"?}: sign the next requests so')
async def signing(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, SigningBody)
    request.app[PEOPLE].link.signing = Signing(body.secret, body.age_s, body.tamper)
    return web.json_response(body.model_dump())


@CONTROL.post("/_control/rate-limits", '{"enabled", "post_burst"?, "tier3_per_min"?, ...}')
async def rate_limits(request: web.Request) -> web.StreamResponse:
    body = await read_body(request, RateLimitsBody)
    limits = SlackRateLimits(**body.model_dump(exclude={"enabled"})) if body.enabled else None
    context_of(request).limiter.limits = limits
    return web.json_response(body.model_dump())
