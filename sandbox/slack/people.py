"""The people in the workspace, acting: slash commands, clicks, modal submissions and opening the
Home tab, each sent to the app's Request URL exactly as Slack sends it (form-encoded or JSON,
signed with the signing secret), and timed against Slack's 3-second acknowledgement limit."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import aiohttp

from sandbox.slack.records import Interaction, InteractionKind, JsonDict, Signing, ViewRecord
from sandbox.slack.state import Workspace


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class People:
    def __init__(self, ws: Workspace, signing_secret: str, base_url: Any) -> None:
        self.ws = ws
        self.signing_secret = signing_secret
        self.signing = Signing()
        self.request_url: str | None = None
        self.ack_timeout_s = 3.0
        self.interactions: list[Interaction] = []
        self._base_url = base_url
        self._session: aiohttp.ClientSession | None = None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # --- what people do ---------------------------------------------------------------------

    async def slash_command(
        self, user: str, command: str, text: str, channel_id: str | None
    ) -> Interaction:
        self._person(user)
        channel = self.ws.channels[channel_id] if channel_id else self.ws.dm(user)
        trigger_id = self.ws.new_trigger(user)
        response_url = self.ws.new_response_url(self._base_url(), channel.id, user, None)
        fields = {
            "token": "legacy-verification-token", "team_id": self.ws.team_id,
            "team_domain": self.ws.team_domain, "channel_id": channel.id,
            "channel_name": "directmessage" if channel.is_im else channel.name,
            "user_id": user, "user_name": self.ws.users[user].name, "command": command,
            "text": text, "api_app_id": self.ws.app_id, "is_enterprise_install": "false",
            "response_url": response_url, "trigger_id": trigger_id,
        }  # fmt: skip
        result = await self._send(
            "slash_command", user, fields, urlencode(fields).encode(),
            "application/x-www-form-urlencoded", trigger_id, response_url,
        )  # fmt: skip
        if result.status == 200 and result.body.strip():
            self._ack_message(result.body, channel.id, user)
        return result

    async def click(
        self, user: str, channel_id: str, ts: str, action_id: str, value: str | None
    ) -> Interaction:
        self._person(user)
        message = self.ws.message(channel_id, ts)
        if message is None or message.deleted:
            raise ValueError(f"no message {ts} in {channel_id}")
        if user not in self.ws.channels[channel_id].members:
            raise ValueError(f"{user} cannot see {channel_id}")
        action = self._action(message.blocks, action_id, value)
        response_url = self.ws.new_response_url(self._base_url(), channel_id, user, ts)
        trigger_id = self.ws.new_trigger(user)
        payload = {
            **self._envelope("block_actions", user, trigger_id),
            "response_url": response_url,
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            },
            "channel": {"id": channel_id, "name": self.ws.channels[channel_id].name},
            "message": message.to_json(),
            "state": {"values": {}},
            "actions": [action],
        }
        return await self._interact("block_actions", user, payload, trigger_id, response_url)

    async def click_view(
        self, user: str, view_id: str, action_id: str, value: str | None
    ) -> Interaction:
        record = self.ws.view(view_id)
        if record is None or record.user != user:
            raise ValueError(f"{user} has no view {view_id} open")
        action = self._action(record.view.get("blocks") or [], action_id, value)
        trigger_id = self.ws.new_trigger(user)
        payload = {
            **self._envelope("block_actions", user, trigger_id),
            "container": {"type": "view", "view_id": view_id},
            "view": record.to_json(self.ws.team_id, self.ws.app_id, self.ws.bot_id),
            "actions": [action],
        }
        return await self._interact("block_actions", user, payload, trigger_id, None)

    async def submit_view(
        self, user: str, view_id: str, values: dict[str, dict[str, str]]
    ) -> Interaction:
        stack = self.ws.modals.get(user, [])
        record = next((v for v in stack if v.id == view_id), None)
        if record is None:
            raise ValueError(f"{user} has no modal {view_id} open")
        state: dict[str, dict[str, JsonDict]] = {}
        for block in record.view.get("blocks") or []:
            if block.get("type") != "input":
                continue
            element = block["element"]
            typed = values.get(block.get("block_id", ""), {}).get(element.get("action_id", ""))
            if typed is None and not block.get("optional"):
                raise ValueError(f"Slack requires input {block.get('block_id')!r}")
            state.setdefault(block["block_id"], {})[element["action_id"]] = {
                "type": element["type"], "value": typed,
            }  # fmt: skip
        view = record.to_json(self.ws.team_id, self.ws.app_id, self.ws.bot_id)
        view["state"] = {"values": state}
        trigger_id = self.ws.new_trigger(user)
        payload = {**self._envelope("view_submission", user, trigger_id), "view": view,
                   "response_urls": []}  # fmt: skip
        result = await self._interact("view_submission", user, payload, trigger_id, None)
        return self._after_submission(result, user)

    async def open_home(self, user: str) -> Interaction:
        self._person(user)
        now = time.time()
        body = {
            "token": "legacy-verification-token", "team_id": self.ws.team_id,
            "api_app_id": self.ws.app_id, "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(5).upper()}", "event_time": int(now),
            "event": {"type": "app_home_opened", "user": user, "channel": self.ws.dm(user).id,
                      "tab": "home", "event_ts": f"{now:.6f}"},
            "authorizations": [{"team_id": self.ws.team_id, "user_id": self.ws.bot_user_id,
                                "is_bot": True, "is_enterprise_install": False}],
        }  # fmt: skip
        return await self._send(
            "event", user, body, json.dumps(body).encode(), "application/json", None, None
        )

    # --- building and sending ---------------------------------------------------------------

    def _person(self, user: str) -> None:
        found = self.ws.users.get(user)
        if found is None or found.deleted or found.is_bot:
            raise ValueError(f"{user} is not an active person of the workspace")

    def _envelope(self, kind: str, user: str, trigger_id: str) -> JsonDict:
        person = self.ws.users[user]
        return {
            "type": kind, "team": {"id": self.ws.team_id, "domain": self.ws.team_domain},
            "user": {"id": user, "username": person.name, "name": person.name,
                     "team_id": self.ws.team_id},
            "api_app_id": self.ws.app_id, "token": "legacy-verification-token",
            "trigger_id": trigger_id, "is_enterprise_install": False,
        }  # fmt: skip

    def _action(self, blocks: list[JsonDict], action_id: str, value: str | None) -> JsonDict:
        """The action payload for an element that really is in ``blocks`` (ValueError if not)."""
        for block in blocks:
            elements = list(block.get("elements") or [])
            if block.get("accessory"):
                elements.append(block["accessory"])
            for element in elements:
                if element.get("action_id") != action_id:
                    continue
                base = {"action_id": action_id, "block_id": block.get("block_id", ""),
                        "type": element["type"], "action_ts": f"{time.time():.6f}"}  # fmt: skip
                kind = element["type"]
                if kind == "button":
                    if value is not None and value != element.get("value"):
                        raise ValueError(f"button {action_id!r} carries another value")
                    if element.get("value") is not None:
                        base["value"] = element["value"]
                    base["text"] = element["text"]
                    return base
                if kind in ("overflow", "static_select"):
                    option = next((o for o in element["options"] if o["value"] == value), None)
                    if option is None:
                        raise ValueError(f"{action_id!r} offers no option {value!r}")
                    return {**base, "selected_option": option}
                if kind == "users_select":
                    if value not in self.ws.users:
                        raise ValueError(f"no user {value!r} to select")
                    return {**base, "selected_user": value}
                raise ValueError(f"{kind} {action_id!r} cannot be clicked")
        raise ValueError(f"no element {action_id!r} there")

    async def _interact(
        self,
        kind: InteractionKind,
        user: str,
        payload: JsonDict,
        trigger_id: str | None,
        response_url: str | None,
    ) -> Interaction:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self._send(
            kind, user, payload, body, "application/x-www-form-urlencoded", trigger_id,
            response_url,
        )  # fmt: skip

    async def _send(
        self,
        kind: InteractionKind,
        user: str,
        payload: JsonDict,
        body: bytes,
        content_type: str,
        trigger_id: str | None,
        response_url: str | None,
    ) -> Interaction:
        if self.request_url is None:
            raise RuntimeError("no request_url: set the app's Request URL first")
        signing = self.signing
        timestamp = str(int(time.time() - signing.age_s))
        sent = body + b" " if signing.tamper else body
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(signing.secret or self.signing_secret, timestamp, body),
        }
        if self._session is None:
            self._session = aiohttp.ClientSession(trust_env=False)
        started = time.perf_counter()
        status, text = 0, ""
        try:
            async with asyncio.timeout(self.ack_timeout_s):
                async with self._session.post(self.request_url, data=sent, headers=headers) as r:
                    status, text = r.status, await r.text()
        except (TimeoutError, aiohttp.ClientError):
            pass  # Slack gives up: the user sees "this app did not respond"
        ack_ms = (time.perf_counter() - started) * 1000
        result = Interaction(
            kind=kind, user=user, payload=payload, status=status, body=text, ack_ms=ack_ms,
            failed=status != 200, trigger_id=trigger_id, response_url=response_url,
        )  # fmt: skip
        self.interactions.append(result)
        return result

    def _ack_message(self, body: str, channel: str, user: str) -> None:
        """A slash command's acknowledgement with a message: shown to the user (or the channel)."""
        try:
            answer = json.loads(body)
        except json.JSONDecodeError:
            answer = {"text": body}
        if not isinstance(answer, dict) or not (answer.get("text") or answer.get("blocks")):
            return
        text, blocks = str(answer.get("text") or ""), list(answer.get("blocks") or [])
        if answer.get("response_type") == "in_channel":
            self.ws.post(channel, text, blocks)
        else:
            self.ws.ephemeral(channel, user, text, blocks, "ack")

    def _after_submission(self, result: Interaction, user: str) -> Interaction:
        if result.failed:
            return result
        try:
            answer = json.loads(result.body) if result.body.strip() else {}
        except json.JSONDecodeError:
            answer = {}
        action = answer.get("response_action") if isinstance(answer, dict) else None
        if action == "errors":
            errors = {str(k): str(v) for k, v in (answer.get("errors") or {}).items()}
            return _with_errors(result, errors)
        stack = self.ws.modals.get(user, [])
        if action == "clear":
            stack.clear()
        elif action in ("update", "push") and isinstance(answer.get("view"), dict):
            view_id = stack[-1].id if action == "update" and stack else self.ws.new_id("V")
            if action == "update" and stack:
                stack.pop()
            view_hash = f"{int(time.time())}.{secrets.token_hex(8)}"
            stack.append(
                ViewRecord(
                    id=view_id, user=user, kind="modal", view=answer["view"], hash=view_hash
                )
            )
        elif stack:
            stack.pop()
        return result


def _with_errors(result: Interaction, errors: dict[str, str]) -> Interaction:
    return replace(result, errors=errors)
