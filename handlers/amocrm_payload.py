"""amoCRM account webhooks: the form-encoded body becomes entity hints, or is refused whole.

The wire format (reference §6): ``leads[status][0][id]=…``, ``task[update][0][…]``, every value a
string, an ``account[…]`` block on every POST, several entities and actions in one POST.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TypeVar
from urllib.parse import unquote

from bot.core import EntityHint, EntityKind, HintAction, HintSource

MAX_FIELDS = 10_000
MAX_ID = 2**63 - 1  # amoCRM ids are signed 64-bit; SQLite's INTEGER holds no more
_MAX_INDEX_DIGITS = 6  # at most MAX_FIELDS entries in a body
# A parser remembers this many shapes (key sets) of at most this many fields: amoCRM's own
# bodies are a few dozen fields in a handful of shapes, and memory stays bounded whatever comes.
_MAX_SHAPES = 256
_MAX_REMEMBERED_FIELDS = 200
_V = TypeVar("_V")
_KEY, _EQUALS = itemgetter(0), itemgetter(1)  # of a str.partition("=")
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
    """The hints of one body, read with nothing remembered (tests, one-off reads)."""
    return WebhookParser().parse(body)


@dataclass(frozen=True, slots=True, eq=False)
class WebhookParser:
    """Reads webhook bodies; the HTTP door keeps one for the life of the service.

    What a body's keys say (its shape: where each entry's values are, or why it is refused) is
    worked out once per distinct key set and remembered: amoCRM sends the same few key sets over
    and over, so a webhook costs a split and a dictionary look-up, not a walk through every
    bracket (a third of the parse's time before; the webhook's hot path).
    """

    _shapes: dict[tuple[str, ...], _Shape] = field(default_factory=dict, init=False)

    def parse(self, body: bytes) -> list[EntityHint]:
        """The hints of one webhook body, in amoCRM's order, or ``MalformedWebhook``."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedWebhook("body is not form-encoded") from None
        # As urllib's parse_qsl in strict mode, which refuses what is not a query string at all
        # (JSON, binary): every field has its "=". A value is unquoted only if a hint reads it.
        if text.count("&") >= MAX_FIELDS:
            raise MalformedWebhook("body is not form-encoded")
        fields = [pair.partition("=") for pair in text.split("&")] if text else []
        if "" in map(_EQUALS, fields):
            raise MalformedWebhook("body is not form-encoded")
        key_set = tuple(map(_KEY, fields))
        shape = self._shapes.get(key_set)
        if shape is None:
            shape = _Shape.of(key_set)
            if len(key_set) <= _MAX_REMEMBERED_FIELDS:
                if len(self._shapes) >= _MAX_SHAPES:
                    del self._shapes[next(iter(self._shapes))]  # the oldest goes first
                self._shapes[key_set] = shape
        return shape.hints(fields)


def _unquote(text: str) -> str:
    """A form value as parse_qsl reads it: "+" is a space, bad escapes become U+FFFD."""
    if "%" in text or "+" in text:
        return unquote(text.replace("+", " "))
    return text


def nest(pairs: Iterable[tuple[str, _V]]) -> dict[str, object]:
    """PHP bracket keys to nested dicts: ``a[b][0][c]=v`` → ``{"a": {"b": {"0": {"c": "v"}}}}``.

    Hand-written rather than qs_codec: qs_codec took 0.78 ms for a 20-field body, this 0.02 ms.
    List indexes stay string keys.
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


@dataclass(frozen=True, slots=True)
class _Entry:
    """One entry of a section: where its fields' values are in the body (their positions)."""

    kind: EntityKind
    action: HintAction
    fields: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a body's keys alone decide: where the values are, or why the body is refused.

    Refusals keep the order a reading of the whole body would find them in: the key syntax,
    the account, then each entry's values (``_hint``) up to a section that is not well formed.
    """

    refused: str | None  # by the keys' syntax, before anything else
    account: tuple[int, ...]  # positions of account[id] and account[subdomain], if values
    account_is_map: bool  # one of them is a map: present whatever the values
    entries: tuple[_Entry, ...]
    then_refused: str | None  # a malformed section after those entries

    @classmethod
    def of(cls, keys: tuple[str, ...]) -> _Shape:
        try:
            data = nest((_unquote(key), position) for position, key in enumerate(keys))
        except MalformedWebhook as exc:
            return cls(str(exc), (), False, (), None)
        account = data.get("account")
        if not isinstance(account, dict):
            return cls(None, (), False, (), None)
        marks = [account.get("id"), account.get("subdomain")]
        positions = tuple(mark for mark in marks if isinstance(mark, int))
        entries: list[_Entry] = []
        try:
            if "leads" in data:
                _section(data["leads"], "deal", _LEAD_ACTIONS, entries)
            if "task" in data:
                _section(data["task"], "task", _TASK_ACTIONS, entries)
        except MalformedWebhook as exc:
            return cls(None, positions, any(map(_is_map, marks)), tuple(entries), str(exc))
        return cls(None, positions, any(map(_is_map, marks)), tuple(entries), None)

    def hints(self, fields: Sequence[tuple[str, str, str]]) -> list[EntityHint]:
        """The hints, from the body's fields as partitioned (key, "=", value not unquoted yet)."""
        if self.refused is not None:
            raise MalformedWebhook(self.refused)
        if not (self.account_is_map or any(fields[p][2] for p in self.account)):
            raise MalformedWebhook("no account block")
        hints = [
            _hint(
                entry.kind,
                entry.action,
                {f: _unquote(fields[p][2]) for f, p in entry.fields.items()},
            )
            for entry in self.entries
        ]
        if self.then_refused is not None:
            raise MalformedWebhook(self.then_refused)
        return hints


def _is_map(mark: object) -> bool:
    return isinstance(mark, dict)


def _section(
    payload: object,
    kind: EntityKind,
    actions: Mapping[str, HintAction],
    into: list[_Entry],
) -> None:
    if not isinstance(payload, dict):
        raise MalformedWebhook(f"{kind} section is not a map of actions")
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
            # Only the fields ``_hint`` reads; one that is a map has no value (as if absent).
            fields = {
                name: mark
                for name, mark in entry.items()
                if name in _HINT_FIELDS and isinstance(mark, int)
            }
            into.append(_Entry(kind, action, fields))


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


# The fields of an entry that ``_hint`` reads: a body's other values are never even unquoted.
_HINT_FIELDS = frozenset(
    ("id", "action_close", "modified_user_id", "created_user_id", "last_modified",
     "old_status_id", "old_pipeline_id", "old_responsible_user_id", "updated_at")
)  # fmt: skip


def _hint(kind: EntityKind, action: HintAction, entry: Mapping[str, str]) -> EntityHint:
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
    if len(value) < 19 and value.isascii() and value.isdigit():
        return int(value)  # the common case, in range by its length
    text = value.strip()
    digits = text[1:] if text.startswith("-") else text
    if not _is_ascii_number(digits, 19):
        return None
    number = int(text)
    return number if -MAX_ID <= number <= MAX_ID else None


def _is_ascii_number(text: str, max_digits: int) -> bool:
    return 0 < len(text) <= max_digits and text.isascii() and text.isdigit()
