"""The demo account: a small sales team with deals and tasks, timed relative to the clock."""

from __future__ import annotations

from dataclasses import dataclass, fields

from sandbox.amocrm.emulator import AmoEmulator
from sandbox.amocrm.records import LOST_STATUS_ID, WON_STATUS_ID, Right

_MIN = 60
_HOUR = 3600


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoIds:
    """Ids created by `seed_demo_account`.

    Rights: admin all A; supervisor (Sales A) leads view/edit G, tasks edit G; Ivan and Maria
    (Sales A) leads view/edit M, tasks edit/delete M; Oleg (Sales B) leads view/edit M, tasks
    edit D; the former employee (Sales B) is inactive.
    """

    admin: int
    supervisor: int
    ivan: int
    maria: int
    oleg: int
    former: int
    group_a: int
    group_b: int
    pipeline: int
    incoming: int
    qualified: int
    negotiation: int
    contract: int
    won: int
    lost: int
    leads: tuple[int, ...]
    task_due_15m: int
    task_due_60m: int
    task_due_3h: int
    task_overdue: int
    task_completed: int

    @property
    def users(self) -> tuple[int, ...]:
        return (self.admin, self.supervisor, self.ivan, self.maria, self.oleg, self.former)

    @property
    def managers(self) -> tuple[int, ...]:
        return (self.ivan, self.maria, self.oleg)

    @property
    def statuses(self) -> tuple[int, ...]:
        return (
            self.incoming,
            self.qualified,
            self.negotiation,
            self.contract,
            self.won,
            self.lost,
        )

    @property
    def tasks(self) -> tuple[int, ...]:
        """Every ``task_…`` id, in the order they are declared (and made)."""
        return tuple(getattr(self, f.name) for f in fields(self) if f.name.startswith("task_"))


def seed_demo_account(emu: AmoEmulator) -> DemoIds:
    emu.account_name = "Demo Sales"
    emu.timezone = "Europe/Moscow"
    admin = emu.add_user("Anna Admin", "anna@demo.example", is_admin=True)
    emu.api_user_id = admin
    group_a = emu.add_group("Sales A")
    group_b = emu.add_group("Sales B")

    def member(
        name: str, email: str, group: int, leads: Right, tasks: Right, *, active: bool = True
    ) -> int:
        """A team member: ``leads`` their leads view and edit rights, ``tasks`` their task
        edit and delete rights."""
        return emu.add_user(name, email, group_id=group, is_active=active, leads_view=leads,
                            leads_edit=leads, tasks_edit=tasks, tasks_delete=tasks)  # fmt: skip

    supervisor = member("Sergey Supervisor", "sergey@demo.example", group_a, "G", "G")
    ivan = member("Ivan Petrov", "ivan@demo.example", group_a, "M", "M")
    maria = member("Maria Ivanova", "maria@demo.example", group_a, "M", "M")
    oleg = member("Oleg Sidorov", "oleg@demo.example", group_b, "M", "D")
    former = member("Former Employee", "former@demo.example", group_b, "M", "M", active=False)
    pipeline, (incoming, qualified, negotiation, contract) = emu.add_pipeline(
        "Sales", ["Incoming", "Qualified", "Negotiation", "Contract"], is_main=True
    )
    for reason in ("Too expensive", "Chose a competitor", "No budget this year"):
        emu.add_loss_reason(reason)

    def lead(name: str, status: int, owner: int, price: int) -> int:
        return emu.add_lead(
            name, status_id=status, pipeline_id=pipeline, responsible_user_id=owner, price=price
        )

    acme = lead("Acme Corp: 50 licenses", incoming, ivan, 120_000)
    globex = lead("Globex renewal", negotiation, ivan, 450_000)
    initech = lead("Initech pilot", qualified, maria, 80_000)
    umbrella = lead("Umbrella LLC rollout", contract, maria, 1_200_000)
    stark = lead("Stark Industries expansion", negotiation, oleg, 300_000)
    hooli = lead("Hooli support plan", WON_STATUS_ID, oleg, 90_000)

    now = int(emu.clock())

    def task(text: str, owner: int, due: int, deal: int, task_type: int = 1) -> int:
        return emu.add_task(
            text,
            responsible_user_id=owner,
            complete_till=due,
            entity_id=deal,
            task_type_id=task_type,
        )

    due_15m = task("Call Acme about the license count", ivan, now + 15 * _MIN, acme)
    due_60m = task("Meeting with Initech", maria, now + 60 * _MIN, initech, task_type=2)
    due_3h = task("Send the contract draft to Stark", oleg, now + 3 * _HOUR, stark)
    overdue = task("Follow up on the Globex renewal", ivan, now - 2 * _HOUR, globex)
    completed = task("Prepare the Umbrella proposal", maria, now - 1 * _HOUR, umbrella)
    emu.complete_task(completed, "Proposal sent", by_user=maria)
    return DemoIds(
        admin=admin,
        supervisor=supervisor,
        ivan=ivan,
        maria=maria,
        oleg=oleg,
        former=former,
        group_a=group_a,
        group_b=group_b,
        pipeline=pipeline,
        incoming=incoming,
        qualified=qualified,
        negotiation=negotiation,
        contract=contract,
        won=WON_STATUS_ID,
        lost=LOST_STATUS_ID,
        leads=(acme, globex, initech, umbrella, stark, hooli),
        task_due_15m=due_15m,
        task_due_60m=due_60m,
        task_due_3h=due_3h,
        task_overdue=overdue,
        task_completed=completed,
    )
