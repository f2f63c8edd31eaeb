"""What Slack sends the app when a person acts, field by field (docs.slack.dev interaction
payloads and slash command reference; bolt's own fixtures agree): the envelope of every
interaction, the ``actions`` entry of a click, and ``state.values`` of a message or view.

A person can only use what is on screen: asking for an element or option that is not there, or
a value the element cannot take, is a ``ValueError``.
"""

from __future__ import annotations

import time
from typing import Any

from sandbox.slack.blockkit import DATE, TIME
from sandbox.slack.records import JsonDict
from sandbox.slack.state import Workspace

# Slack still sends the app's (deprecated) verification token; bolt ignores it.
VERIFICATION_TOKEN = "legacy-verification-token"
STATEFUL = frozenset({"static_select", "users_select", "datepicker", "timepicker",
                      "plain_text_input"})  # fmt: skip


def envelope(ws: Workspace, kind: str, user: str, trigger_id: str | None) -> JsonDict:
    person = ws.users[user]
    body: JsonDict = {
        "type": kind, "team": {"id": ws.team_id, "domain": ws.team_domain},
        "user": {"id": user, "username": person.name, "name": person.name,
                 "team_id": ws.team_id},
        "api_app_id": ws.app_id, "token": VERIFICATION_TOKEN, "enterprise": None,
        "is_enterprise_install": False,
    }  # fmt: skip
    if trigger_id is not None:
        body["trigger_id"] = trigger_id
    return body


def _elements(block: JsonDict) -> list[JsonDict]:
    found = [e for e in block.get("elements") or [] if isinstance(e, dict)]
    found += [block[k] for k in ("accessory", "element") if isinstance(block.get(k), dict)]
    return found


def find_element(blocks: list[JsonDict], action_id: str) -> tuple[JsonDict, JsonDict]:
    """(block, element) of the element with ``action_id``; ValueError when none is there."""
    for block in blocks:
        for element in _elements(block):
            if element.get("action_id") == action_id:
                return block, element
    raise ValueError(f"no element {action_id!r} there")


def _option(element: JsonDict, value: str | None) -> JsonDict:
    option = next((o for o in element.get("options") or [] if o.get("value") == value), None)
    if option is None:
        raise ValueError(f"{element.get('action_id')!r} offers no option {value!r}")
    return dict(option)


def chosen(ws: Workspace, element: JsonDict, value: str | None) -> JsonDict:
    """What a person picks in a stateful element, as ``state.values`` and ``actions`` carry
    it: ``selected_option``, ``selected_user``, ``selected_date``, ``selected_time`` or
    (typed text) ``value``."""
    kind = element.get("type")
    if kind in ("static_select", "overflow"):
        return {"selected_option": _option(element, value)}
    if kind == "users_select":
        if value not in ws.users:
            raise ValueError(f"no person {value!r} to pick")
        return {"selected_user": value}
    if kind == "datepicker":
        if value is None or not DATE.match(value):
            raise ValueError(f"a date is YYYY-MM-DD, not {value!r}")
        return {"selected_date": value}
    if kind == "timepicker":
        if value is None or not TIME.match(value):
            raise ValueError(f"a time is HH:MM, not {value!r}")
        return {"selected_time": value}
    if kind == "plain_text_input":
        length = len(value or "")
        low, high = element.get("min_length") or 0, element.get("max_length") or 3000
        if value is not None and not low <= length <= high:
            raise ValueError(f"Slack takes {low} to {high} characters there, not {length}")
        return {"value": value}
    raise ValueError(f"a {kind} holds no value")


def action(ws: Workspace, block: JsonDict, element: JsonDict, value: str | None) -> JsonDict:
    """The ``actions`` entry of a click on ``element``: a button (``value`` None or its
    value), an overflow or select option (its value), a person (users_select), a date or a
    time (the pickers)."""
    kind = element.get("type")
    if block.get("type") == "input" and not block.get("dispatch_action"):
        raise ValueError("an input sends nothing before the submission (no dispatch_action)")
    entry: JsonDict = {
        "type": kind, "action_id": element["action_id"], "block_id": block["block_id"],
        "action_ts": f"{time.time():.6f}",
    }  # fmt: skip
    if kind == "button":
        if value is not None and value != element.get("value"):
            raise ValueError(f"button {element['action_id']!r} carries another value")
        entry["text"] = element["text"]
        entry |= {k: element[k] for k in ("value", "style", "url") if k in element}
        return entry
    if kind == "plain_text_input":
        raise ValueError("typing in a text input is no click (dispatch_action is not emulated)")
    if kind not in ("overflow", *STATEFUL):
        raise ValueError(f"a {kind} cannot be clicked")
    if kind == "static_select" and "placeholder" in element:
        entry["placeholder"] = element["placeholder"]
    return entry | chosen(ws, element, value)


def picked_by(clicked: JsonDict) -> dict[tuple[str, str], JsonDict]:
    """What a click leaves in ``state.values``: the value it picked, if any."""
    kept = ("selected_option", "selected_user", "selected_date", "selected_time")
    value = {k: clicked[k] for k in kept if k in clicked}
    return {(clicked["block_id"], clicked["action_id"]): value} if value else {}


def _initial(element: JsonDict) -> JsonDict:
    kind = element.get("type")
    if kind == "static_select":
        return {"selected_option": element.get("initial_option")}
    if kind == "users_select":
        return {"selected_user": element.get("initial_user")}
    if kind == "datepicker":
        return {"selected_date": element.get("initial_date")}
    if kind == "timepicker":
        return {"selected_time": element.get("initial_time")}
    return {"value": element.get("initial_value")}


def state_values(
    blocks: list[JsonDict], picked: dict[tuple[str, str], JsonDict] | None = None
) -> JsonDict:
    """``state.values``: each stateful element's value by block_id and action_id, as
    ``picked`` has it, else as the element starts out."""
    values: dict[str, dict[str, JsonDict]] = {}
    for block in blocks:
        for element in _elements(block):
            if element.get("type") not in STATEFUL:
                continue
            key = (block["block_id"], element["action_id"])
            current = (picked or {}).get(key) or _initial(element)
            values.setdefault(key[0], {})[key[1]] = {"type": element["type"], **current}
    return values


def submission(
    ws: Workspace, blocks: list[JsonDict], typed: dict[str, dict[str, Any]]
) -> dict[tuple[str, str], JsonDict]:
    """The inputs of a submitted modal, from ``typed[block_id][action_id]``. Slack's client
    lets no submission through without each required input, or with text of the wrong
    length: those are ValueErrors, as is a value for an input that is not there."""
    inputs = {(b["block_id"], b["element"]["action_id"]): b for b in blocks
              if b.get("type") == "input"}  # fmt: skip
    for block_id, fields in typed.items():
        for action_id in fields:
            if (block_id, action_id) not in inputs:
                raise ValueError(f"the modal has no input {block_id}/{action_id}")
    picked: dict[tuple[str, str], JsonDict] = {}
    for key, block in inputs.items():
        value = typed.get(key[0], {}).get(key[1])
        if value is None or value == "":
            if not block.get("optional"):
                raise ValueError(f"Slack requires input {key[0]!r}")
            picked[key] = {k: None for k in chosen_keys(block["element"])}
            continue
        picked[key] = chosen(ws, block["element"], str(value))
    return picked


def chosen_keys(element: JsonDict) -> tuple[str, ...]:
    return tuple(_initial(element))
