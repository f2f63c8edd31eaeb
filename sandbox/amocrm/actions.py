"""Changes made as a person in the amoCRM UI would make them: each one updates the state, appends
the events amoCRM would log and hands the webhook view of the change to a sink."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from sandbox.amocrm import records
from sandbox.amocrm.hookfields import lead_fields, lead_status_fields
from sandbox.amocrm.records import JsonDict, Right
from sandbox.amocrm.task_actions import TaskActions

_STATUS_COLORS = ("#99ccff", "#ffff99", "#ffcc66", "#ffcccc", "#deff81", "#87f2c0")


@dataclass(frozen=True, slots=True)
class LeadEdit:
    """A person's edit of a deal's card (budget, planned close date, name); None: as it is."""

    price: int | None = None
    closed_at: int | None = None
    name: str | None = None


class AccountActions(TaskActions):
    """Every change; the task ones are `TaskActions`'."""

    # -- account structure (no events: amoCRM logs none for these) --

    def add_group(self, name: str) -> int:
        group_id = self._state.next_id("group")
        self._state.groups[group_id] = records.Group(id=group_id, name=name)
        return group_id

    def add_user(
        self,
        name: str,
        email: str,
        *,
        group_id: int = 0,
        is_admin: bool = False,
        lang: str = "ru",
        is_active: bool = True,
        leads_view: Right = "A",
        leads_edit: Right = "A",
        tasks_edit: Right = "A",
        tasks_delete: Right = "A",
    ) -> int:
        if group_id not in self._state.groups:
            raise KeyError(f"unknown group {group_id}")
        user_id = self._state.next_id("user")
        self._state.users[user_id] = records.User(
            id=user_id,
            name=name,
            email=email,
            lang=lang,
            group_id=group_id,
            is_admin=is_admin,
            is_active=is_active,
            leads_view=leads_view,
            leads_edit=leads_edit,
            tasks_edit=tasks_edit,
            tasks_delete=tasks_delete,
        )
        if is_admin and not self._state.admin_user_id:
            self._state.admin_user_id = user_id
        return user_id

    def add_pipeline(
        self, name: str, statuses: Sequence[str], *, is_main: bool = False
    ) -> tuple[int, list[int]]:
        state = self._state
        pipeline_id = state.next_id("pipeline")
        if is_main:
            for other in list(state.pipelines.values()):
                state.pipelines[other.id] = replace(other, is_main=False)
        status_ids = [state.next_id("status") for _ in statuses]
        for index, (status_id, status_name) in enumerate(zip(status_ids, statuses, strict=True)):
            state.statuses[(pipeline_id, status_id)] = records.Status(
                id=status_id,
                pipeline_id=pipeline_id,
                name=status_name,
                sort=(index + 1) * 10,
                color=_STATUS_COLORS[index % len(_STATUS_COLORS)],
                type=0,
                is_editable=True,
            )
        for status_id, status_name, sort, color in (
            (records.WON_STATUS_ID, "Успешно реализовано", 10000, "#CCFF66"),
            (records.LOST_STATUS_ID, "Закрыто и не реализовано", 11000, "#D5D8DB"),
        ):
            state.statuses[(pipeline_id, status_id)] = records.Status(
                id=status_id,
                pipeline_id=pipeline_id,
                name=status_name,
                sort=sort,
                color=color,
                type=0,
                is_editable=False,
            )
        state.pipelines[pipeline_id] = records.Pipeline(
            id=pipeline_id,
            name=name,
            sort=len(state.pipelines) + 1,
            is_main=is_main,
            status_ids=(*status_ids, records.WON_STATUS_ID, records.LOST_STATUS_ID),
        )
        return pipeline_id, status_ids

    # -- leads --

    def add_lead(
        self,
        name: str,
        *,
        status_id: int,
        pipeline_id: int,
        responsible_user_id: int,
        price: int = 0,
        closed_at: int | None = None,
        by_user: int | None = None,
    ) -> int:
        """``closed_at`` on an open deal: the date the team plans to close it."""
        state = self._state
        state.status(pipeline_id, status_id)
        state.user(responsible_user_id)
        actor = self._actor(by_user)
        made = state.made_and_updated("lead", responsible_user_id, actor)
        closed = status_id in (records.WON_STATUS_ID, records.LOST_STATUS_ID)
        lead = records.Lead(
            **made,
            name=name,
            price=price,
            status_id=status_id,
            pipeline_id=pipeline_id,
            closed_at=made["created_at"] if closed else closed_at,
        )
        # amoCRM logs a system note with the lead_added event; only its id is visible.
        note = {"note": {"id": state.next_id("note")}}
        self._emit("leads", add=self._store_lead(lead, "lead_added", actor, after=(note,)))
        return lead.id

    def _store_lead(
        self,
        lead: records.Lead,
        event: str,
        actor: int,
        *,
        after: tuple[JsonDict, ...] = (),
        before: tuple[JsonDict, ...] = (),
    ) -> JsonDict:
        """Keep the deal as it now is and log ``event`` as ``actor``'s (with the values
        ``after`` and ``before`` it); the deal's webhook fields."""
        state = self._state
        state.leads[lead.id] = lead
        state.record_event(event, entity_type="lead", entity_id=lead.id, created_by=actor,
                           after=after, before=before)  # fmt: skip
        return lead_fields(lead, state.account_id)

    def move_lead(
        self,
        lead_id: int,
        status_id: int,
        *,
        pipeline_id: int | None = None,
        loss_reason_id: int | None = None,
        by_user: int | None = None,
    ) -> None:
        """``loss_reason_id``: why, when the move is to "lost" (one of the account's reasons)."""
        state = self._state
        old = state.live_lead(lead_id)
        target_pipeline = old.pipeline_id if pipeline_id is None else pipeline_id
        state.status(target_pipeline, status_id)
        if loss_reason_id is not None:
            if status_id != records.LOST_STATUS_ID:
                raise ValueError("a loss reason goes with a move to lost (143)")
            state.loss_reason(loss_reason_id)
        if (old.status_id, old.pipeline_id) == (status_id, target_pipeline):
            return
        actor, now = self._actor(by_user), state.now()
        closing = status_id in (records.WON_STATUS_ID, records.LOST_STATUS_ID)
        reopening = (
            old.status_id in (records.WON_STATUS_ID, records.LOST_STATUS_ID) and not closing
        )
        lead = replace(
            old,
            status_id=status_id,
            pipeline_id=target_pipeline,
            updated_by=actor,
            updated_at=now,
            # Closing stamps the date; a reopened deal has none; an open deal's planned date
            # stays. (The real amoCRM's handling of a planned date on close is [?]: we stamp.)
            closed_at=now if closing else None if reopening else old.closed_at,
            loss_reason_id=loss_reason_id if status_id == records.LOST_STATUS_ID else None,
        )
        fields = self._store_lead(
            lead, "lead_status_changed", actor,
            after=({"lead_status": {"id": status_id, "pipeline_id": target_pipeline}},),
            before=({"lead_status": {"id": old.status_id, "pipeline_id": old.pipeline_id}},),
        )  # fmt: skip
        self._emit(
            "leads",
            status=lead_status_fields(
                lead,
                state.account_id,
                old_status_id=old.status_id,
                old_pipeline_id=old.pipeline_id,
            ),
            update=fields,
        )

    def edit_lead(self, lead_id: int, edit: LeadEdit, *, by_user: int | None = None) -> None:
        """A person edits a deal's card. A new budget is logged as amoCRM logs it
        (``sale_field_changed``); any change sends the leads "update" webhook."""
        state = self._state
        old = state.live_lead(lead_id)
        if edit.price is not None and edit.price < 0:
            raise ValueError("a deal's budget is 0 or more")
        lead = replace(
            old,
            price=old.price if edit.price is None else edit.price,
            closed_at=edit.closed_at or old.closed_at,
            name=edit.name or old.name,
        )
        if lead == old:
            return
        actor = self._actor(by_user)
        lead = replace(lead, updated_by=actor, updated_at=state.now())
        state.leads[lead_id] = lead
        if lead.price != old.price:
            sale = [{"sale_field_value": {"sale": price}} for price in (lead.price, old.price)]
            state.record_event(
                "sale_field_changed",
                entity_type="lead",
                entity_id=lead_id,
                created_by=actor,
                after=(sale[0],),
                before=(sale[1],),
            )
        self._emit("leads", update=lead_fields(lead, state.account_id))

    def add_loss_reason(self, name: str) -> int:
        state = self._state
        now = state.now()
        reason = records.LossReason(
            id=state.next_id("loss_reason"), name=name, sort=len(state.loss_reasons) + 1,
            created_at=now, updated_at=now,
        )  # fmt: skip
        state.loss_reasons[reason.id] = reason
        return reason.id

    def set_lead_responsible(
        self, lead_id: int, user_id: int, *, by_user: int | None = None
    ) -> None:
        state = self._state
        old = state.live_lead(lead_id)
        state.user(user_id)
        if old.responsible_user_id == user_id:
            return
        actor = self._actor(by_user)
        lead = replace(
            old,
            responsible_user_id=user_id,
            group_id=state.group_of(user_id),
            updated_by=actor,
            updated_at=state.now(),
        )
        fields = self._store_lead(
            lead, "entity_responsible_changed", actor,
            after=({"responsible_user": {"id": user_id}},),
            before=({"responsible_user": {"id": old.responsible_user_id}},),
        )  # fmt: skip
        self._emit(
            "leads",
            responsible={**fields, "old_responsible_user_id": str(old.responsible_user_id)},
            update=fields,
        )

    def delete_lead(self, lead_id: int, *, by_user: int | None = None) -> None:
        state = self._state
        old = state.live_lead(lead_id)
        actor = self._actor(by_user)
        deleted = replace(old, is_deleted=True, updated_by=actor, updated_at=state.now())
        self._store_lead(deleted, "lead_deleted", actor)
        self._emit("leads", delete={"id": str(lead_id)})

    # -- notes and webhooks (API-only changes: no UI event of their own here) --

    def add_note(
        self,
        lead_id: int,
        note_type: str,
        params: JsonDict,
        *,
        by_user: int | None = None,
        responsible_user_id: int | None = None,
    ) -> records.Note:
        state = self._state
        state.live_lead(lead_id)
        actor = self._actor(by_user)
        responsible = actor if responsible_user_id is None else responsible_user_id
        made = state.made("note", responsible, actor)
        note = records.Note(**made, entity_id=lead_id, note_type=note_type, params=params)
        state.notes[note.id] = note
        return note

    def save_webhook(
        self, destination: str, settings: Sequence[str], sort: int, *, by_user: int
    ) -> records.Webhook:
        """Create a hook, or update the one with this destination (as amoCRM does)."""
        state, now = self._state, self._state.now()
        existing = next((h for h in state.webhooks.values() if h.destination == destination), None)
        if existing is not None:
            hook = replace(
                existing, settings=tuple(settings), sort=sort, updated_at=now, disabled=False
            )
        else:
            hook = records.Webhook(
                id=state.next_id("webhook"),
                destination=destination,
                settings=tuple(settings),
                sort=sort,
                created_by=by_user,
                created_at=now,
                updated_at=now,
            )
        state.webhooks[hook.id] = hook
        return hook

    def delete_webhook(self, destination: str) -> bool:
        state = self._state
        for hook in list(state.webhooks.values()):
            if hook.destination == destination:
                del state.webhooks[hook.id]
                return True
        return False
