"""The in-memory account: its records, id sequences and event log (no behaviour beyond lookups)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import count
from types import MappingProxyType

from sandbox.amocrm import records
from sandbox.amocrm.records import JsonDict, Made, MadeAndUpdated

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"

# First id of each sequence: distinct ranges make a mixed-up id obvious in a failing test.
_ID_STARTS: Mapping[str, int] = MappingProxyType(
    {
        "user": 8_000_001,
        "group": 300_001,
        "pipeline": 5_000_001,
        "status": 50_000_001,
        "lead": 20_000_001,
        "task": 40_000_001,
        "note": 70_000_001,
        "webhook": 1,
        "event": 1,
        "loss_reason": 9_001,
    }
)


def _base32(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return "".join(reversed(chars))


def event_id(created_at: int, seq: int) -> str:
    """A 26-character lowercase ULID-like id ("01pz58t6p04ymgsgfbmfyfy1mf"), sortable by time."""
    return _base32(created_at * 1000, 10) + _base32(seq * 7_919 + 1_000_003, 16)


class AccountState:
    """Everything the account holds. Mutations that a person would make live in `actions`."""

    def __init__(self, *, account_id: int, subdomain: str, clock: Callable[[], float]) -> None:
        self.account_id = account_id
        self.subdomain = subdomain
        self.name = subdomain
        self.timezone = "Europe/Moscow"
        self._clock = clock
        self._ids = {kind: count(start) for kind, start in _ID_STARTS.items()}
        self.groups: dict[int, records.Group] = {0: records.Group(id=0, name="Отдел продаж")}
        self.users: dict[int, records.User] = {}
        self.pipelines: dict[int, records.Pipeline] = {}
        self.statuses: dict[tuple[int, int], records.Status] = {}  # by (pipeline_id, status_id)
        self.leads: dict[int, records.Lead] = {}
        self.loss_reasons: dict[int, records.LossReason] = {}
        self.tasks: dict[int, records.Task] = {}
        self.notes: dict[int, records.Note] = {}
        self.events: list[records.Event] = []
        self.webhooks: dict[int, records.Webhook] = {}
        self.admin_user_id = 0

    def now(self) -> int:
        return int(self._clock())

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    def user(self, user_id: int) -> records.User:
        return self.users[user_id]

    def group_of(self, user_id: int) -> int:
        user = self.users.get(user_id)
        return user.group_id if user else 0

    def made(self, kind: str, responsible_user_id: int, actor: int) -> Made:
        """A new ``kind`` record's id, owner (and the owner's group) and maker, now."""
        return Made(id=self.next_id(kind), responsible_user_id=responsible_user_id,
                    group_id=self.group_of(responsible_user_id), created_by=actor,
                    created_at=self.now())  # fmt: skip

    def made_and_updated(self, kind: str, responsible_user_id: int, actor: int) -> MadeAndUpdated:
        made = self.made(kind, responsible_user_id, actor)
        return MadeAndUpdated(**made, updated_by=actor, updated_at=made["created_at"])

    def status(self, pipeline_id: int, status_id: int) -> records.Status:
        return self.statuses[(pipeline_id, status_id)]

    def pipeline_statuses(self, pipeline_id: int) -> list[records.Status]:
        pipeline = self.pipelines[pipeline_id]
        return [self.statuses[(pipeline_id, sid)] for sid in pipeline.status_ids]

    def loss_reason(self, reason_id: int) -> records.LossReason:
        return self.loss_reasons[reason_id]

    def live_lead(self, lead_id: int) -> records.Lead:
        lead = self.leads[lead_id]
        if lead.is_deleted:
            raise KeyError(lead_id)
        return lead

    def closest_task_at(self, lead_id: int) -> int | None:
        dues = [
            t.complete_till
            for t in self.tasks.values()
            if t.entity_type == "leads" and t.entity_id == lead_id and not t.is_completed
        ]
        return min(dues) if dues else None

    def record_event(
        self,
        kind: str,
        *,
        entity_type: str,
        entity_id: int,
        created_by: int,
        after: tuple[JsonDict, ...] = (),
        before: tuple[JsonDict, ...] = (),
    ) -> records.Event:
        seq = self.next_id("event")
        created_at = self.now()
        event = records.Event(
            id=event_id(created_at, seq),
            seq=seq,
            type=kind,
            entity_type=entity_type,
            entity_id=entity_id,
            created_by=created_by,
            created_at=created_at,
            value_after=after,
            value_before=before,
        )
        self.events.append(event)
        return event
