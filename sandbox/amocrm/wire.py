"""Records rendered as the v4 API's JSON objects (reference §2–§6)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from zoneinfo import ZoneInfo

from sandbox.amocrm.records import (
    TASK_TYPES,
    Event,
    Group,
    JsonDict,
    Lead,
    LossReason,
    Note,
    Pipeline,
    Status,
    Task,
    User,
    Webhook,
)
from sandbox.amocrm.state import AccountState


def _fields(record: object, names: str) -> JsonDict:
    """The record's attributes named (space-separated), as they are: for the fields whose wire
    name and value are the record's own."""
    return {name: getattr(record, name) for name in names.split()}


_EVENT_ENTITY_PATHS: Mapping[str, str] = MappingProxyType({"lead": "leads", "task": "tasks"})


class Wire:
    """Renders records with links under `base_url` (the emulator's own address)."""

    def __init__(self, state: AccountState, base_url: str) -> None:
        self._state = state
        self.base_url = base_url

    def links(self, path: str) -> JsonDict:
        return {"self": {"href": f"{self.base_url}{path}"}}

    def group(self, group: Group) -> JsonDict:
        return {"id": group.id, "name": group.name, "uuid": None}

    def user(self, user: User) -> JsonDict:
        def entity_rights(view: str, edit: str) -> JsonDict:
            return {
                "view": view,
                "edit": edit,
                "add": "A" if edit != "D" else "D",
                "delete": edit,
                "export": "A" if user.is_admin else "D",
            }

        group = self._state.groups.get(user.group_id)
        return {
            "id": user.id,
            "name": user.name,
            "email": user.email,
            "lang": user.lang,
            "rights": {
                "leads": entity_rights(user.leads_view, user.leads_edit),
                "contacts": entity_rights(user.leads_view, user.leads_edit),
                "companies": entity_rights(user.leads_view, user.leads_edit),
                "tasks": {"edit": user.tasks_edit, "delete": user.tasks_delete},
                "mail_access": False,
                "catalog_access": user.is_admin,
                "status_rights": None,
                "is_admin": user.is_admin,
                "is_free": False,
                "is_active": user.is_active,
                # amoCRM shows the default group (0) as null here.
                "group_id": user.group_id or None,
                "role_id": None,
            },
            "_links": self.links(f"/api/v4/users/{user.id}"),
            "_embedded": {
                "roles": [],
                "groups": [{"id": group.id, "name": group.name}] if group else [],
            },
        }

    def status(self, status: Status) -> JsonDict:
        return {
            **_fields(status, "id name sort is_editable pipeline_id color type"),
            "account_id": self._state.account_id,
            "_links": self.links(
                f"/api/v4/leads/pipelines/{status.pipeline_id}/statuses/{status.id}"
            ),
        }

    def pipeline(self, pipeline: Pipeline) -> JsonDict:
        return {
            **_fields(pipeline, "id name sort is_main"),
            "is_unsorted_on": False,
            "is_archive": False,
            "account_id": self._state.account_id,
            "_links": self.links(f"/api/v4/leads/pipelines/{pipeline.id}"),
            "_embedded": {
                "statuses": [self.status(s) for s in self._state.pipeline_statuses(pipeline.id)]
            },
        }

    def lead(self, lead: Lead, *, with_: Collection[str] = ()) -> JsonDict:
        embedded: JsonDict = {"tags": [], "companies": []}
        if "contacts" in with_:
            embedded["contacts"] = []
        reason = self._state.loss_reasons.get(lead.loss_reason_id or 0)
        if "loss_reason" in with_:
            # The reason itself rides along, as a one-item list (none: an empty list) [?].
            embedded["loss_reason"] = [self.loss_reason(reason)] if reason else []
        body: JsonDict = {
            **_fields(
                lead,
                "id name price responsible_user_id group_id status_id"
                " pipeline_id loss_reason_id created_by updated_by created_at"
                " updated_at closed_at",
            ),
            "closest_task_at": self._state.closest_task_at(lead.id),
            "is_deleted": lead.is_deleted,
            "custom_fields_values": None,
            "score": None,
            "account_id": self._state.account_id,
            "labor_cost": None,
            "_links": self.links(f"/api/v4/leads/{lead.id}"),
            "_embedded": embedded,
        }
        if "is_price_modified_by_robot" in with_:
            body["is_price_modified_by_robot"] = False
        return body

    def loss_reason(self, reason: LossReason) -> JsonDict:
        return {
            **_fields(reason, "id name sort created_at updated_at"),
            "_links": self.links(f"/api/v4/leads/loss_reasons/{reason.id}"),
        }

    def task(self, task: Task) -> JsonDict:
        return {
            **_fields(
                task,
                "id created_by updated_by created_at updated_at"
                " responsible_user_id group_id entity_id entity_type duration"
                " is_completed task_type_id text",
            ),
            # PHP serialises an empty result object as [] (reference §0).
            "result": [] if task.result_text is None else {"text": task.result_text},
            "complete_till": task.complete_till,
            "account_id": self._state.account_id,
            "_links": self.links(f"/api/v4/tasks/{task.id}"),
        }

    def note(self, note: Note) -> JsonDict:
        return {
            **_fields(note, "id entity_id created_by"),
            "updated_by": note.created_by,
            "created_at": note.created_at,
            "updated_at": note.created_at,
            **_fields(note, "responsible_user_id group_id note_type params"),
            "account_id": self._state.account_id,
            "_links": self.links(f"/api/v4/leads/{note.entity_id}/notes/{note.id}"),
        }

    def event(self, event: Event, *, with_: Collection[str] = ()) -> JsonDict:
        entity_path = _EVENT_ENTITY_PATHS.get(event.entity_type, event.entity_type)
        entity: JsonDict = {
            "id": event.entity_id,
            "_links": self.links(f"/api/v4/{entity_path}/{event.entity_id}"),
        }
        if "lead_name" in with_ and event.entity_type == "lead":
            lead = self._state.leads.get(event.entity_id)
            entity["name"] = lead.name if lead else None
        return {
            **_fields(event, "id type entity_id entity_type created_by created_at"),
            "value_after": list(event.value_after),
            "value_before": list(event.value_before),
            "account_id": self._state.account_id,
            "_links": self.links(f"/api/v4/events/{event.id}"),
            "_embedded": {"entity": entity},
        }

    def webhook(self, hook: Webhook) -> JsonDict:
        return {
            **_fields(hook, "id destination created_at updated_at"),
            "account_id": self._state.account_id,
            **_fields(hook, "created_by sort disabled"),
            "settings": list(hook.settings),
        }

    def account(self, *, current_user_id: int, with_: Collection[str]) -> JsonDict:
        state = self._state
        body: JsonDict = {
            "id": state.account_id,
            "name": state.name,
            "subdomain": state.subdomain,
            "created_at": 1_500_000_000,
            "created_by": state.admin_user_id,
            "updated_at": state.now(),
            "updated_by": state.admin_user_id,
            "current_user_id": current_user_id,
            "country": "RU",
            "currency": "RUB",
            "currency_symbol": "₽",
            "customers_mode": "disabled",
            "is_unsorted_on": False,
            "is_loss_reason_enabled": bool(self._state.loss_reasons),
            "is_helpbot_enabled": False,
            "is_technical_account": False,
            "contact_name_display_order": 1,
            "_links": self.links("/api/v4/account"),
        }
        if "amojo_id" in with_:
            body["amojo_id"] = f"{state.account_id:08x}-amojo"
        if "version" in with_:
            body["version"] = 11
        if "is_api_filter_enabled" in with_:
            body["is_api_filter_enabled"] = True
        embedded: JsonDict = {}
        if "users_groups" in with_:
            embedded["users_groups"] = [self.group(g) for g in state.groups.values()]
        if "task_types" in with_:
            embedded["task_types"] = [
                {"id": tid, "name": name, "color": None, "icon_id": None, "code": code}
                for tid, name, code in TASK_TYPES
            ]
        if "datetime_settings" in with_:
            embedded["datetime_settings"] = self._datetime_settings()
        if embedded:
            body["_embedded"] = embedded
        return body

    def _datetime_settings(self) -> JsonDict:
        zone = ZoneInfo(self._state.timezone)
        offset = datetime.fromtimestamp(self._state.now(), UTC).astimezone(zone).strftime("%z")
        return {
            "date_pattern": "d.m.Y H:i",
            "short_date_pattern": "d.m.Y",
            "short_time_pattern": "H:i",
            "date_format": "d.m.Y",
            "time_format": "H:i:s",
            "timezone": self._state.timezone,
            "timezone_offset": f"{offset[:3]}:{offset[3:]}",
        }
