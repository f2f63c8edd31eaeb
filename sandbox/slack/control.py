"""The HTTP control API under ``/_control/``: play the workspace's people and look inside.
No auth, not logged; answers are plain JSON (``{"error": ...}`` with 400/404 on bad input)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError

from sandbox.slack.endpoint import CONTEXT
from sandbox.slack.people import People
from sandbox.slack.records import Interaction

PEOPLE = web.AppKey("slack_people", People)

CONTROL_ENDPOINTS: tuple[tuple[str, str, str], ...] = (
    ("POST", "/_control/users", '{"name", "email"?, "tz"?, "is_admin"?} -> {"id"}'),
    ("GET", "/_control/users", "the workspace's people"),
    ("POST", "/_control/channels", '{"name", "members": [user ids], "bot_member"?} -> {"id"}'),
    ("POST", "/_control/request-url", '{"url"}: where Slack sends commands, clicks and events'),
    ("POST", "/_control/slash", '{"user", "command": "/amo", "text", "channel"?}'),
    ("POST", "/_control/click", '{"user", "channel", "ts", "action_id", "value"?}'),
    ("POST", "/_control/views/submit", '{"user", "view_id", "values": {block: {action: text}}}'),
    ("POST", "/_control/home/open", '{"user"}: the user opens the app\'s Home tab'),
    ("GET", "/_control/channels/{id}/messages", "a channel's messages, edits included"),
    ("GET", "/_control/users/{id}/dm", "the user's direct messages with the app"),
    ("GET", "/_control/users/{id}/ephemerals", "what only this user was shown"),
    ("GET", "/_control/users/{id}/views", "the user's open modals and Home tab"),
    ("GET", "/_control/requests", "the Web API request log"),
    ("GET", "/_control/interactions", "what was sent to the app, its answer and ack time"),
    (
        "POST",
        "/_control/faults",
        '{"kind": "429|500|503|timeout|<error code>", "count"?, "method"?}',
    ),
)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewUser(_Body):
    name: str
    email: str | None = None
    tz: str = "Europe/Moscow"
    is_admin: bool = False


class NewChannel(_Body):
    name: str
    members: list[str] = []
    bot_member: bool = True


class RequestUrl(_Body):
    url: str


class Slash(_Body):
    user: str
    command: str = "/amo"
    text: str = ""
    channel: str | None = None


class Click(_Body):
    user: str
    channel: str
    ts: str
    action_id: str
    value: str | None = None


class Submit(_Body):
    user: str
    view_id: str
    values: dict[str, dict[str, str]]


class OpenHome(_Body):
    user: str


class AddFault(_Body):
    kind: str
    count: int = 1
    method: str | None = None
    retry_after: int = 1


def _json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _json(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    return value


def _interaction(result: Interaction) -> dict[str, Any]:
    return {"status": result.status, "ack_ms": round(result.ack_ms, 1), "failed": result.failed,
            "body": result.body, "errors": result.errors}  # fmt: skip


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _guarded(handler: Handler) -> Handler:
    async def run(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ValidationError as exc:
            return web.json_response({"error": exc.errors(include_url=False)}, status=400)
        except (ValueError, RuntimeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except KeyError as exc:
            return web.json_response({"error": f"unknown {exc.args[0]}"}, status=404)

    return run


def control_routes() -> list[web.RouteDef]:
    async def add_user(request: web.Request) -> web.StreamResponse:
        body = NewUser.model_validate(await request.json())
        ws = request.app[CONTEXT].ws
        user = ws.add_user(body.name, email=body.email, tz=body.tz, is_admin=body.is_admin,
                           is_bot=False)  # fmt: skip
        return web.json_response({"id": user})

    async def users(request: web.Request) -> web.StreamResponse:
        return web.json_response(_json(list(request.app[CONTEXT].ws.users.values())))

    async def add_channel(request: web.Request) -> web.StreamResponse:
        body = NewChannel.model_validate(await request.json())
        channel = request.app[CONTEXT].ws.add_channel(body.name, body.members, body.bot_member)
        return web.json_response({"id": channel})

    async def request_url(request: web.Request) -> web.StreamResponse:
        request.app[PEOPLE].request_url = RequestUrl.model_validate(await request.json()).url
        return web.json_response({"ok": True})

    async def slash(request: web.Request) -> web.StreamResponse:
        body = Slash.model_validate(await request.json())
        people = request.app[PEOPLE]
        return web.json_response(_interaction(
            await people.slash_command(body.user, body.command, body.text, body.channel)
        ))  # fmt: skip

    async def click(request: web.Request) -> web.StreamResponse:
        body = Click.model_validate(await request.json())
        result = await request.app[PEOPLE].click(
            body.user, body.channel, body.ts, body.action_id, body.value
        )
        return web.json_response(_interaction(result))

    async def submit(request: web.Request) -> web.StreamResponse:
        body = Submit.model_validate(await request.json())
        result = await request.app[PEOPLE].submit_view(body.user, body.view_id, body.values)
        return web.json_response(_interaction(result))

    async def open_home(request: web.Request) -> web.StreamResponse:
        body = OpenHome.model_validate(await request.json())
        return web.json_response(_interaction(await request.app[PEOPLE].open_home(body.user)))

    async def messages(request: web.Request) -> web.StreamResponse:
        ws = request.app[CONTEXT].ws
        channel = request.match_info["id"]
        if channel not in ws.channels:
            raise KeyError(f"channel {channel}")
        return web.json_response(_json(ws.messages(channel)))

    async def dm(request: web.Request) -> web.StreamResponse:
        ws = request.app[CONTEXT].ws
        user = request.match_info["id"]
        if user not in ws.users:
            raise KeyError(f"user {user}")
        channel = ws.dm(user).id
        return web.json_response({"channel": channel, "messages": _json(ws.messages(channel))})

    async def ephemerals(request: web.Request) -> web.StreamResponse:
        ws = request.app[CONTEXT].ws
        user = request.match_info["id"]
        return web.json_response(_json([e for e in ws.ephemerals if e.user == user]))

    async def views(request: web.Request) -> web.StreamResponse:
        ws = request.app[CONTEXT].ws
        user = request.match_info["id"]
        return web.json_response({"modals": _json(ws.modals.get(user, [])),
                                  "home": _json(ws.homes.get(user))})  # fmt: skip

    async def requests(request: web.Request) -> web.StreamResponse:
        return web.json_response(_json(request.app[CONTEXT].request_log))

    async def interactions(request: web.Request) -> web.StreamResponse:
        return web.json_response(_json(request.app[PEOPLE].interactions))

    async def faults(request: web.Request) -> web.StreamResponse:
        body = AddFault.model_validate(await request.json())
        request.app[CONTEXT].faults.add(body.kind, body.count, body.method,
                                        retry_after=body.retry_after)  # fmt: skip
        return web.json_response({"ok": True})

    routes = [
        web.post("/_control/users", add_user), web.get("/_control/users", users),
        web.post("/_control/channels", add_channel),
        web.post("/_control/request-url", request_url), web.post("/_control/slash", slash),
        web.post("/_control/click", click), web.post("/_control/views/submit", submit),
        web.post("/_control/home/open", open_home),
        web.get("/_control/channels/{id}/messages", messages),
        web.get("/_control/users/{id}/dm", dm),
        web.get("/_control/users/{id}/ephemerals", ephemerals),
        web.get("/_control/users/{id}/views", views),
        web.get("/_control/requests", requests),
        web.get("/_control/interactions", interactions), web.post("/_control/faults", faults),
    ]  # fmt: skip
    return [web.route(r.method, r.path, _guarded(r.handler)) for r in routes]
