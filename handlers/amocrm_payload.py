"""amoCRM account webhooks: the form-encoded body becomes entity hints, or is refused whole.

The wire format (reference §6): ``leads[status][0][id]=…``, ``task[update][0][…]``, every value a
string, an ``account[…]`` block on every POST, several entities and actions in one POST.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl

from bot.core import EntityHint, HintAction, HintSource

MAX_FIELDS = 10_000
MAX_ID = 2**63 - 1  # amoCRM ids are signed 64-bit; SQLite's INTEGER holds no more
_MAX_INDEX_DIGITS = 6  # at most MAX_FIELDS entries in a body
_LEAD_ACTIONS: Mapping[str, HintAction] = {
    "add": "add",
    "update": "update",
    "restore": "update",
    "note": "update",
    "status": "status",
    "responsible": "responsible",
    "delete": "delete",
}
_TASK_ACTIONS: Mapping[str, HintAction] = {
    "add": "add",
    "update": "update",
    "responsible": "responsible",
    "delete": "delete",
}


class MalformedWebhook(ValueError):
    """The body is not an amoCRM webhook; the reason is safe to log (it holds no body data)."""


def parse_webhook(body: bytes) -> list[EntityHint]:
    try:
        # parse_qsl's strict mode rejects what is not a query string at all (JSON, binary).
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=True,
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError):
        raise MalformedWebhook("body is not form-encoded") from None
    data = nest(pairs)
    account = data.get("account")
    if not isinstance(account, dict) or not (account.get("id") or account.get("subdomain")):
        raise MalformedWebhook("no account block")
    hints: list[EntityHint] = []
    # Sections and actions amobridge does not follow (contacts, talks, notes…) are valid and
    # ignored: refusing them would make amoCRM retry and, after 100 failures, disable the hook.
    if "leads" in data:
        hints += _section(data["leads"], "deal", _LEAD_ACTIONS)
    if "task" in data:
        hints += _section(data["task"], "task", _TASK_ACTIONS)
    return hints


def nest(pairs: Iterable[tuple[str, str]]) -> dict[str, object]:
    """PHP bracket keys to nested dicts: ``a[b][0][c]=v`` → ``{"a": {"b": {"0": {"c": "v"}}}}``.

    Hand-written rather than qs_codec: this is the webhook's hot path, and qs_codec took 0.78 ms
    for a 20-field body; the whole parse here takes about 0.07 ms. List indexes stay string keys.
    """
    root: dict[str, object] = {}
    for key, value in pairs:
        head, bracket, rest = key.partition("[")
        if bracket and not rest.endswith("]"):
            raise MalformedWebhook("a key has an unclosed bracket")
        path = [head, *rest[:-1].split("][")] if bracket else [head]
        node = root
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise MalformedWebhook("a key is both a value and a map")
            node = child
        if isinstance(node.get(path[-1]), dict):
            raise MalformedWebhook("a key is both a value and a map")
        node[path[-1]] = value
    return root


def _section(payload: object, kind: str, actions: Mapping[str, HintAction]) -> list[EntityHint]:
    if not isinstance(payload, dict):
        raise MalformedWebhook(f"{kind} section is not a map of actions")
    hints = []
    for action_name, entries in payload.items():
        action = actions.get(action_name)
        if action is None:
            continue
        for entry in _entries(entries):
            if action_name == "note":
                # A note names its deal inside: leads[note][0][note][element_id]=<deal id>.
                note = entry.get("note")
                if not isinstance(note, dict):
                    raise MalformedWebhook("a note entry without its note")
                entry = {"id": note.get("element_id")}
            hints.append(_hint(kind, action, entry))
    return hints


def _entries(entries: object) -> list[dict[str, object]]:
    if not isinstance(entries, dict):
        raise MalformedWebhook("entries are not objects")
    # Indexes arrive as "0", "1", …; keep amoCRM's order. ASCII digits only: str.isdigit() also
    # takes "²", which int() refuses; ordered by (length, text) so no int() is needed at all.
    if not all(_is_ascii_number(index, _MAX_INDEX_DIGITS) for index in entries):
        raise MalformedWebhook("an entry index is not a number")
    ordered = sorted(entries.items(), key=lambda kv: (len(kv[0].lstrip("0")), kv[0].lstrip("0")))
    items = [value for _, value in ordered]
    if not all(isinstance(e, dict) for e in items):
        raise MalformedWebhook("entries are not objects")
    return items


def _hint(kind: str, action: HintAction, entry: dict[str, object]) -> EntityHint:
    entity_id = _int(entry.get("id"))
    if entity_id is None or entity_id <= 0:
        raise MalformedWebhook("entry without a numeric id in amoCRM's range")
    if kind == "task":
        closed = entry.get("action_close") == "1"
        return EntityHint(
            kind="task",
            id=entity_id,
            source=HintSource.WEBHOOK,
            action="complete" if closed and action == "update" else action,
            actor_id=_int(entry.get("modified_user_id")) or _int(entry.get("created_user_id")),
            at=_int(entry.get("last_modified")),
        )
    return EntityHint(
        kind="deal",
        id=entity_id,
        source=HintSource.WEBHOOK,
        action=action,
        old_status_id=_int(entry.get("old_status_id")),
        old_pipeline_id=_int(entry.get("old_pipeline_id")),
        old_responsible_user_id=_int(entry.get("old_responsible_user_id")),
        actor_id=_int(entry.get("modified_user_id")),
        at=_int(entry.get("last_modified")) or _int(entry.get("updated_at")),
    )


def _int(value: object) -> int | None:
    """A decimal in amoCRM's range (|n| < 2^63), else None.

    ASCII only: ``str.isdigit()`` and ``int()`` take Unicode digits ("¹", "٣"), and int() refuses
    more than 4,300 digits; neither can come from amoCRM. An optional field that is not a number
    (a task's dates were once "2017-07-22 23:59:00") is ignored, not a reason to refuse the body.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    digits = text[1:] if text.startswith("-") else text
    if not _is_ascii_number(digits, 19):
        return None
    number = int(text)
    return number if -MAX_ID <= number <= MAX_ID else None


def _is_ascii_number(text: str, max_digits: int) -> bool:
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()
