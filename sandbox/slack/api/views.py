"""views.*: modals (opened with a fresh trigger_id, pushed, updated) and Home tabs.

A view that fails Block Kit checks is refused as Slack refuses it, with ``invalid_arguments``
and the offending field in ``response_metadata.messages``. ``hash``, when given, must be the
view's current one (``hash_conflict``): it guards against a race between two updates.
"""

from __future__ import annotations

from sandbox.slack.blockkit import BlockError, check_view, with_ids
from sandbox.slack.context import Context
from sandbox.slack.errors import ApiError, blocks_refused
from sandbox.slack.params import Params
from sandbox.slack.records import JsonDict, ViewKind, ViewRecord
from sandbox.slack.state import MAX_MODAL_STACK, Workspace


def checked_view(params: Params) -> tuple[JsonDict, ViewKind]:
    """The ``view`` argument, checked, with made-up block_ids where it has none."""
    view = params.structured("view", invalid="invalid_arguments")
    try:
        kind = check_view(view)
    except BlockError as exc:
        raise blocks_refused("invalid_arguments", exc) from None
    return {**view, "blocks": with_ids(view["blocks"])}, kind


def _checked_as(params: Params, wanted: ViewKind) -> JsonDict:
    """The checked ``view``, which must be a ``wanted`` one (a modal, or a Home tab)."""
    view, kind = checked_view(params)
    if kind != wanted:
        raise ApiError("invalid_arguments")
    return view


def _external_id(ws: Workspace, view: JsonDict, keeps: str | None = None) -> str | None:
    wanted = view.get("external_id") or None
    if wanted is not None:
        holder = ws.view_by_external_id(wanted)
        if holder is not None and holder.id != keeps:
            raise ApiError("duplicate_external_id")
    return wanted


def _trigger_user(ws: Workspace, params: Params) -> str:
    try:
        return ws.triggers.use(params.string("trigger_id"))
    except LookupError as exc:
        raise ApiError(str(exc.args[0])) from None


def _answer(ctx: Context, record: ViewRecord) -> JsonDict:
    return {"view": record.to_json(ctx.ws.team_id, ctx.ws.app_id, ctx.ws.bot_id)}


def _check_hash(params: Params, current: ViewRecord | None) -> None:
    wanted = params.text("hash")
    if wanted is not None and current is not None and wanted != current.hash:
        raise ApiError("hash_conflict")


async def open_modal(ctx: Context, params: Params) -> JsonDict:
    """A new modal for the person who made the trigger (the view is checked first, so a
    refused view leaves the trigger unused)."""
    ws, view = ctx.ws, _checked_as(params, "modal")
    user = _trigger_user(ws, params)
    view_id = ws.new_id("V")
    record = ViewRecord(id=view_id, user=user, kind="modal", view=view, hash=ws.new_hash(),
                        external_id=_external_id(ws, view), root_view_id=view_id)  # fmt: skip
    ws.open_modal(record)
    return _answer(ctx, record)


async def push(ctx: Context, params: Params) -> JsonDict:
    ws, view = ctx.ws, _checked_as(params, "modal")
    user = _trigger_user(ws, params)
    stack = ws.modals.get(user) or []
    if not stack:
        raise ApiError("not_found")
    if len(stack) >= MAX_MODAL_STACK:
        raise ApiError("push_limit_reached")
    record = ViewRecord(
        id=ws.new_id("V"), user=user, kind="modal", view=view, hash=ws.new_hash(),
        external_id=_external_id(ws, view), root_view_id=stack[0].id,
        previous_view_id=stack[-1].id,
    )  # fmt: skip
    ws.push_modal(record)
    return _answer(ctx, record)


async def update(ctx: Context, params: Params) -> JsonDict:
    ws = ctx.ws
    view, kind = checked_view(params)
    view_id, external = params.text("view_id"), params.text("external_id")
    if view_id is None and external is None:
        raise ApiError("invalid_arguments")
    current = ws.view(view_id) if view_id is not None else ws.view_by_external_id(str(external))
    if current is None:
        raise ApiError("not_found")
    if kind != current.kind:
        raise ApiError("invalid_arguments")
    _check_hash(params, current)
    record = ViewRecord(
        id=current.id, user=current.user, kind=kind, view=view, hash=ws.new_hash(),
        external_id=_external_id(ws, view, current.id) or current.external_id,
        root_view_id=current.root_view_id, previous_view_id=current.previous_view_id,
    )  # fmt: skip
    ws.replace_view(record)
    return _answer(ctx, record)


async def publish(ctx: Context, params: Params) -> JsonDict:
    """The person's Home tab; its id stays the same from one publish to the next."""
    ws, view = ctx.ws, _checked_as(params, "home")
    user = params.string("user_id")
    if user not in ws.users:
        raise ApiError("invalid_arguments")  # Slack's answer for an unknown user_id here
    current = ws.homes.get(user)
    _check_hash(params, current)
    view_id = current.id if current is not None else ws.new_id("V")
    record = ViewRecord(id=view_id, user=user, kind="home", view=view, hash=ws.new_hash(),
                        external_id=_external_id(ws, view, view_id))  # fmt: skip
    ws.replace_view(record)
    return _answer(ctx, record)
