"""amoCRM rights, applied: who may edit which task, and to whom they may hand it.

Letters: A all, G the user's group, M own only, D denied (reference §4).
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core import Deal, Right, Task, User


def can_edit_task(actor: User, task: Task, responsible: User | None) -> bool:
    right = actor.rights.tasks_edit
    if right is Right.ALL or actor.rights.is_admin:
        return True
    if right is Right.GROUP:
        return responsible is not None and responsible.group_id == actor.group_id
    if right is Right.OWN:
        return task.responsible_user_id == actor.id
    return False


def may_assign_to(actor: User, target: User) -> bool:
    """Whether ``actor`` may make ``target`` responsible for a task they can edit."""
    if not target.is_active:
        return False
    right = actor.rights.tasks_edit
    if right is Right.ALL or actor.rights.is_admin:
        return True
    if right in (Right.GROUP, Right.OWN):
        # M edits only their own tasks, and may hand one to a colleague of their group.
        return target.group_id == actor.group_id
    return False  # D may not edit at all


def assignees(actor: User, users: Iterable[User], *, excluding: int | None = None) -> list[User]:
    """The users ``actor`` may hand a task to, by name, without the current responsible."""
    return sorted(
        (u for u in users if u.id != excluding and may_assign_to(actor, u)), key=lambda u: u.name
    )


def can_view_deal(user: User, deal: Deal, responsible: User | None) -> bool:
    right = user.rights.leads_view
    if right is Right.ALL or user.rights.is_admin:
        return True
    if right is Right.GROUP:
        group = responsible.group_id if responsible is not None else deal.group_id
        return group is not None and group == user.group_id
    if right is Right.OWN:
        return deal.responsible_user_id == user.id
    return False
