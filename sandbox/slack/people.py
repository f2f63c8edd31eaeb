"""The workspace's people, acting: slash commands, clicks, modal submissions and closes, opening
the Home tab. Each is sent to the app's Request URL as Slack sends it (a slash command
form-encoded, an interaction as ``payload=<JSON>``, an event as JSON; all signed), timed against
the 3-second acknowledgement limit, and its answer carried out as Slack would: a slash command
answered with a message shows it, a modal submission answered with ``response_action`` keeps
the modal open with errors, updates, pushes or clears it.

Each interaction gets a fresh trigger_id, and a response_url when Slack gives one (slash
commands and clicks on messages). Only active people act, and only on what they can see.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from sandbox.slack.blockkit import BlockError, check_blocks, check_view, with_ids
from sandbox.slack.delivery import AppLink, Delivery
from sandbox.slack.payloads import (
    VERIFICATION_TOKEN,
    action,
    envelope,
    find_element,
    picked_by,
    state_values,
    submission,
)
from sandbox.slack.records import Interaction, InteractionKind, JsonDict, ViewRecord
from sandbox.slack.state import MAX_MODAL_STACK, Workspace

FORM = "application/x-www-form-urlencoded"


def _json_answer(body: str) -> JsonDict | None:
    try:
        answer = json.loads(body) if body.strip() else {}
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


class People:
    def __init__(self, ws: Workspace, link: AppLink, base_url: Callable[[], str]) -> None:
        self.ws = ws
        self.link = link
        self.interactions: list[Interaction] = []
        self._base_url = base_url

    # --- what people do ---------------------------------------------------------------------

    async def slash_command(
        self, user: str, command: str, text: str = "", *, channel_id: str | None = None
    ) -> Interaction:
        """The person types ``command text`` in ``channel_id`` (None: their DM with the app).
        An acknowledgement with a message is shown as Slack shows it."""
        self._active(user)
        channel = self.ws.channel(channel_id) if channel_id else self.ws.dm(user)
        if not self.ws.can_see(user, channel):
            raise ValueError(f"{user} is not in {channel.id}")
        trigger_id = self.ws.triggers.issue(user)
        response_url = self.ws.responses.issue(self._base_url(), channel.id, user)
        fields = {
            "token": VERIFICATION_TOKEN, "team_id": self.ws.team_id,
            "team_domain": self.ws.team_domain, "channel_id": channel.id,
            "channel_name": "directmessage" if channel.is_im else channel.name,
            "user_id": user, "user_name": self.ws.users[user].name,
            "command": "/" + command.lstrip("/"), "text": text, "api_app_id": self.ws.app_id,
            "is_enterprise_install": "false", "response_url": response_url,
            "trigger_id": trigger_id,
        }  # fmt: skip
        sent = await self.link.post(urlencode(fields).encode(), FORM)
        failure = sent.failure or self._show_ack(sent.body, channel.id, user)
        return self._record("slash_command", user, fields, sent, trigger_id, response_url,
                            failure=failure)  # fmt: skip

    async def click(
        self, user: str, channel_id: str, ts: str, action_id: str, value: str | None = None
    ) -> Interaction:
        """The person clicks an element that is on the message now: a button (``value`` its
        value, or None), an overflow or static_select option (``value`` the option's value),
        a users_select (``value`` a person's id), a datepicker or timepicker (a date, a
        time). ValueError if no such element or option is there."""
        self._active(user)
        channel = self.ws.channel(channel_id)
        if not self.ws.can_see(user, channel):
            raise ValueError(f"{user} is not in {channel_id}")
        message = self.ws.message(channel_id, ts)
        if message is None or message.deleted:
            raise ValueError(f"no message {ts} in {channel_id}")
        payload = self._message_click(user, channel_id, ts, message.blocks, action_id, value,
                                      ephemeral=False)  # fmt: skip
        payload["message"] = message.to_json()
        return await self._interact("block_actions", user, payload)

    async def click_ephemeral(
        self, user: str, channel_id: str, ts: str, action_id: str, value: str | None = None
    ) -> Interaction:
        """The same on an ephemeral message the person was shown (``ts``: its ``ts``)."""
        self._active(user)
        note = self.ws.find_ephemeral(channel_id, user, ts)
        if note is None or note.deleted:
            raise ValueError(f"{user} was shown no ephemeral message {ts} in {channel_id}")
        # Slack leaves the message out for an ephemeral one: the app never had it.
        payload = self._message_click(user, channel_id, ts, note.blocks, action_id, value,
                                      ephemeral=True)  # fmt: skip
        return await self._interact("block_actions", user, payload)

    async def click_view(
        self, user: str, view_id: str, action_id: str, value: str | None = None
    ) -> Interaction:
        """The same in the modal in front of the person, or on their Home tab."""
        self._active(user)
        record = self._on_screen(user, view_id)
        blocks = record.view.get("blocks") or []
        block, element = find_element(blocks, action_id)
        clicked = action(self.ws, block, element, value)
        trigger_id = self.ws.triggers.issue(user)
        payload = {
            **envelope(self.ws, "block_actions", user, trigger_id),
            "container": {"type": "view", "view_id": view_id},
            "view": self._view_json(record, state_values(blocks, picked_by(clicked))),
            "actions": [clicked],
        }
        return await self._interact("block_actions", user, payload)

    async def submit_view(
        self, user: str, view_id: str, values: dict[str, dict[str, Any]]
    ) -> Interaction:
        """The person submits the modal in front of them, ``values[block_id][action_id]``
        entered: text typed, or an option's value, a person's id, a date, a time. ValueError
        for a required input left empty (Slack's client does not let that through)."""
        self._active(user)
        record = self.ws.top_modal(user)
        if record is None or record.id != view_id:
            raise ValueError(f"{view_id} is not the modal {user} has in front of them")
        blocks = record.view.get("blocks") or []
        state = state_values(blocks, submission(self.ws, blocks, values))
        trigger_id = self.ws.triggers.issue(user)
        payload = {**envelope(self.ws, "view_submission", user, trigger_id),
                   "view": self._view_json(record, state), "response_urls": []}  # fmt: skip
        sent = await self._send(payload)
        errors: dict[str, str] = {}
        failure = sent.failure or self._after_submission(sent.body, user, errors)
        return self._record("view_submission", user, payload, sent, trigger_id, None,
                            failure=failure, errors=errors)  # fmt: skip

    async def close_view(self, user: str, view_id: str) -> Interaction | None:
        """The person closes the modal in front of them; the app hears of it (and the result
        is returned) only if the view has ``notify_on_close``."""
        self._active(user)
        record = self.ws.top_modal(user)
        if record is None or record.id != view_id:
            raise ValueError(f"{view_id} is not the modal {user} has in front of them")
        self.ws.close_modals(user, all_of_them=bool(record.view.get("clear_on_close")))
        if not record.view.get("notify_on_close"):
            return None
        payload = {**envelope(self.ws, "view_closed", user, None),
                   "view": self._view_json(record, state_values(record.view.get("blocks") or [])),
                   "is_cleared": bool(record.view.get("clear_on_close"))}  # fmt: skip
        return await self._interact("view_closed", user, payload)

    async def open_home(self, user: str) -> Interaction:
        """The person opens the app's Home tab (an ``app_home_opened`` event)."""
        self._active(user)
        now = time.time()
        event: JsonDict = {"type": "app_home_opened", "user": user, "tab": "home",
                           "channel": self.ws.dm(user).id, "event_ts": f"{now:.6f}"}  # fmt: skip
        home = self.ws.homes.get(user)
        if home is not None:
            event["view"] = self._view_json(home)
        body = {
            "token": VERIFICATION_TOKEN, "team_id": self.ws.team_id, "api_app_id": self.ws.app_id,
            "event": event, "type": "event_callback",
            "event_id": f"Ev{secrets.token_hex(5).upper()}", "event_time": int(now),
            "authorizations": [{"enterprise_id": None, "team_id": self.ws.team_id,
                                "user_id": self.ws.bot.id, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False,
        }  # fmt: skip
        sent = await self.link.post(json.dumps(body).encode(), "application/json")
        return self._record("event", user, body, sent, None, None, failure=sent.failure)

    async def verify_url(self) -> Interaction:
        """Slack's ``url_verification`` of the Request URL; failed unless the app echoes the
        challenge."""
        challenge = secrets.token_urlsafe(24)
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        sent = await self.link.post(json.dumps(body).encode(), "application/json")
        answer = _json_answer(sent.body) or {}
        echoed = sent.body.strip() == challenge or answer.get("challenge") == challenge
        failure = sent.failure or (None if echoed else "the app did not answer the challenge")
        return self._record("url_verification", "", body, sent, None, None, failure=failure)

    # --- building and sending ---------------------------------------------------------------

    def _active(self, user: str) -> None:
        found = self.ws.users.get(user)
        if found is None or found.deleted or found.is_bot:
            raise ValueError(f"{user} is not an active person of the workspace")

    def _on_screen(self, user: str, view_id: str) -> ViewRecord:
        """The modal in front of the person, or their Home tab."""
        top = self.ws.top_modal(user)
        if top is not None and top.id == view_id:
            return top
        home = self.ws.homes.get(user)
        if home is not None and home.id == view_id:
            return home
        raise ValueError(f"{user} has no view {view_id} in front of them")

    def _view_json(self, record: ViewRecord, state: JsonDict | None = None) -> JsonDict:
        return record.to_json(self.ws.team_id, self.ws.app_id, self.ws.bot_id, state)

    def _message_click(
        self,
        user: str,
        channel_id: str,
        ts: str,
        blocks: list[JsonDict],
        action_id: str,
        value: str | None,
        *,
        ephemeral: bool,
    ) -> JsonDict:
        """The block_actions payload of a click on a message (or an ephemeral one)."""
        block, element = find_element(blocks, action_id)
        clicked = action(self.ws, block, element, value)
        on = {"ephemeral_ts" if ephemeral else "message_ts": ts}
        response_url = self.ws.responses.issue(self._base_url(), channel_id, user, **on)
        channel = self.ws.channel(channel_id)
        return {
            **envelope(self.ws, "block_actions", user, self.ws.triggers.issue(user)),
            "container": {"type": "message", "message_ts": ts, "channel_id": channel_id,
                          "is_ephemeral": ephemeral},
            "channel": {"id": channel_id,
                        "name": "directmessage" if channel.is_im else channel.name},
            "state": {"values": state_values(blocks, picked_by(clicked))},
            "response_url": response_url, "actions": [clicked],
        }  # fmt: skip

    async def _send(self, payload: JsonDict) -> Delivery:
        return await self.link.post(urlencode({"payload": json.dumps(payload)}).encode(), FORM)

    async def _interact(self, kind: InteractionKind, user: str, payload: JsonDict) -> Interaction:
        sent = await self._send(payload)
        return self._record(kind, user, payload, sent, payload.get("trigger_id"),
                            payload.get("response_url"), failure=sent.failure)  # fmt: skip

    def _record(
        self,
        kind: InteractionKind,
        user: str,
        payload: JsonDict,
        sent: Delivery,
        trigger_id: str | None,
        response_url: str | None,
        *,
        failure: str | None,
        errors: dict[str, str] | None = None,
    ) -> Interaction:
        result = Interaction(
            kind=kind, user=user, payload=payload, status=sent.status, body=sent.body,
            ack_ms=sent.ack_ms, failed=failure is not None, trigger_id=trigger_id,
            response_url=response_url, errors=errors or {}, failure=failure, at=sent.at,
        )  # fmt: skip
        self.interactions.append(result)
        return result

    # --- what the app's acknowledgement does -------------------------------------------------

    def _show_ack(self, body: str, channel: str, user: str) -> str | None:
        """A slash command acknowledged with a message: shown to the person (or the channel,
        for ``response_type: in_channel``); a failure reason if Slack would refuse it."""
        if not body.strip():
            return None
        answer = _json_answer(body)
        if answer is None:
            answer = {"text": body}  # a plain text answer is the message
        text, blocks = str(answer.get("text") or ""), answer.get("blocks") or []
        if not text and not blocks:
            return None
        try:
            check_blocks(blocks, "message")
        except BlockError as exc:
            return f"invalid_blocks: {exc}"
        if answer.get("response_type") == "in_channel":
            self.ws.post(channel, text, with_ids(blocks))
        else:
            self.ws.ephemeral(channel, user, text, with_ids(blocks), "ack")
        return None

    def _after_submission(self, body: str, user: str, errors: dict[str, str]) -> str | None:
        """A submission's answer: ``errors`` keeps the modal open with messages under inputs;
        ``update``/``push`` show another view; ``clear`` closes every modal; anything else
        (an empty 200) closes this one. A failure reason if Slack would refuse the answer."""
        answer = _json_answer(body)
        if answer is None:
            return "the answer to a view submission is not JSON"
        kind = answer.get("response_action")
        if kind == "errors":
            found = answer.get("errors")
            if not isinstance(found, dict) or not found:
                return "response_action errors without errors"
            errors.update({str(k): str(v) for k, v in found.items()})
            return None
        if kind == "clear":
            self.ws.close_modals(user, all_of_them=True)
        elif kind in ("update", "push"):
            return self._answer_view(user, kind, answer.get("view"))
        else:
            self.ws.close_modals(user, all_of_them=False)
        return None

    def _answer_view(self, user: str, kind: str, view: Any) -> str | None:
        try:
            if check_view(view) != "modal":
                return f"response_action {kind} with a view that is not a modal"
        except BlockError as exc:
            return f"response_action {kind} with an invalid view: {exc}"
        stack = self.ws.modals.get(user) or []
        if not stack:
            return f"response_action {kind} with no modal open"
        top = stack[-1]
        view = {**view, "blocks": with_ids(view["blocks"])}
        if kind == "update":
            self.ws.replace_view(ViewRecord(
                id=top.id, user=user, kind="modal", view=view, hash=self.ws.new_hash(),
                root_view_id=top.root_view_id, previous_view_id=top.previous_view_id,
            ))  # fmt: skip
            return None
        if len(stack) >= MAX_MODAL_STACK:
            return "push_limit_reached"
        self.ws.push_modal(ViewRecord(
            id=self.ws.new_id("V"), user=user, kind="modal", view=view, hash=self.ws.new_hash(),
            root_view_id=stack[0].id, previous_view_id=top.id,
        ))  # fmt: skip
        return None
