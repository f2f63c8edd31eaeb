"""amoCRM names both ways: what an admin typed (``pipeline:"sales"``) to ids, with suggestions on
a miss, and a stored subscription back to the ``/subscribe`` words that make it again (what
``/config export`` writes).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from bot.admin.grammar import FilterSpec, TargetSpec
from bot.alerts import DEFAULT_SHARED_FIELDS, WEEKDAYS, Filters, Subscription, Target
from bot.core import LOST_STATUS_ID, WON_STATUS_ID
from bot.crm import Directory

# amoCRM's two closing statuses have fixed ids in every pipeline; people call them by these.
STATUS_ALIASES = {
    "won": WON_STATUS_ID,
    "выиграна": WON_STATUS_ID,
    "выиграно": WON_STATUS_ID,
    "успешно реализовано": WON_STATUS_ID,
    "lost": LOST_STATUS_ID,
    "проиграна": LOST_STATUS_ID,
    "проиграно": LOST_STATUS_ID,
    "закрыто и не реализовано": LOST_STATUS_ID,
}
_ALIAS_OF = {WON_STATUS_ID: "won", LOST_STATUS_ID: "lost"}
_EVENT_WORD = {
    "deal_created": "new_deal", "deal_status": "moved", "deal_won": "won", "deal_lost": "lost",
    "deal_responsible": "handed", "big_deal": "big_deal", "stale_deal": "stale",
    "close_date_near": "close_date", "task_created": "new_task", "task_completed": "task_done",
    "task_overdue": "overdue",
    "task_reassigned": "task_handed", "task_escalated": "escalated", "report": "report",
}  # fmt: skip


class UnknownName(Exception):
    def __init__(self, what: str, typed: str, suggestions: list[str]) -> None:
        super().__init__(typed)
        self.what = what
        self.typed = typed
        self.suggestions = suggestions


def pick(what: str, typed: str, named: Iterable[tuple[str, int]]) -> list[int]:
    """The ids of ``typed`` among the names: an exact match (any case), else the one name it
    starts; several ids when one name stands for several (a status in two pipelines)."""
    options = list(named)
    wanted = typed.strip().casefold()
    exact = [i for name, i in options if name.casefold() == wanted]
    if exact:
        return exact
    starts = {name for name, _ in options if name.casefold().startswith(wanted)}
    if len(starts) == 1:
        [name] = starts
        return [i for n, i in options if n == name]
    by_fold = {name.casefold(): name for name, _ in options}
    close = difflib.get_close_matches(wanted, list(by_fold), n=3, cutoff=0.5)
    suggestions = [by_fold[c] for c in close] or sorted(starts)[:3] or sorted(by_fold.values())[:5]
    raise UnknownName(what, typed, suggestions)


def quoted(name: str) -> str:
    """A name as one word of the grammar: quoted when it has spaces or quotes."""
    if name and not any(c.isspace() or c in "\"'\\" for c in name):
        return name
    if '"' not in name and "\\" not in name:
        return f'"{name}"'
    return "'" + name.replace("'", "'\"'\"'") + "'"  # shlex's way


@dataclass(frozen=True, slots=True, eq=False)
class Names:
    _directory: Directory

    # --- typed → ids ------------------------------------------------------------------------

    async def pipeline(self, typed: str) -> int:
        pipelines = await self._directory.pipelines()
        return pick("pipeline", typed, ((p.name, p.id) for p in pipelines))[0]

    async def statuses(self, typed: str, pipeline_id: int | None) -> list[int]:
        alias = STATUS_ALIASES.get(typed.strip().casefold())
        if alias is not None:
            return [alias]
        pipelines = [
            p
            for p in await self._directory.pipelines()
            if pipeline_id is None or p.id == pipeline_id
        ]
        return pick("status", typed, ((s.name, s.id) for p in pipelines for s in p.statuses))

    async def user(self, typed: str) -> int:
        users = await self._directory.active_users()
        handle = typed.lstrip("@")
        named = [(u.name, u.id) for u in users] + [(u.email, u.id) for u in users if u.email]
        named += [(u.name.split()[0], u.id) for u in users if u.name.split()]
        ids = set(pick("user", handle, named))
        if len(ids) != 1:
            raise UnknownName("user", typed, sorted(u.name for u in users if u.id in ids))
        return ids.pop()

    async def group(self, typed: str) -> int:
        account = await self._directory.account()
        return pick("group", typed, ((g.name, g.id) for g in account.groups))[0]

    async def task_type(self, typed: str) -> int:
        account = await self._directory.account()
        return pick("task_type", typed, ((k.name, k.id) for k in account.task_types))[0]

    async def filters(self, spec: FilterSpec) -> Filters:
        pipeline = await self.pipeline(spec.pipeline) if spec.pipeline else None
        return Filters(
            pipeline_ids=(pipeline,) if pipeline is not None else (),
            status_ids=tuple(await self.statuses(spec.status, pipeline)) if spec.status else (),
            price_min=spec.price_min,
            price_max=spec.price_max,
            responsible_ids=(await self.user(spec.user),) if spec.user else (),
            group_ids=(await self.group(spec.group),) if spec.group else (),
            task_type_ids=(await self.task_type(spec.task_type),) if spec.task_type else (),
            tags=spec.tags,
            by_others=spec.by_others,
        )

    async def target(self, spec: TargetSpec, *, me: int, here: Target | None) -> Target:
        """``me``: who typed it; ``here``: the shared chat it was typed in (None: private)."""
        if spec.kind == "me" or (spec.kind == "here" and here is None):
            return Target(kind="user", id=str(me))
        if spec.kind == "here":
            assert here is not None
            return here
        if spec.kind in ("responsible", "author"):
            return Target(kind=spec.kind)
        if spec.kind == "supervisors":
            group = await self.group(spec.name) if spec.name else None
            return Target(kind="supervisors", id=str(group) if group is not None else None)
        if spec.kind == "user":
            return Target(kind="user", id=str(await self.user(spec.name or "")))
        if spec.kind == "group":
            return Target(kind="group", id=str(await self.group(spec.name or "")))
        messenger, _, chat = (spec.name or "").partition(":")
        return Target(kind="slack_channel" if messenger == "slack" else "telegram_chat", id=chat)

    # --- ids → words ------------------------------------------------------------------------

    async def user_name(self, user_id: int) -> str:
        """A user as typed back: the name, or the e-mail when two share the name."""
        users = await self._directory.active_users()
        user = next((u for u in users if u.id == user_id), None)
        if user is None:
            return str(user_id)
        twins = sum(1 for u in users if u.name.casefold() == user.name.casefold())
        return user.email if twins > 1 and user.email else user.name

    async def group_name(self, group_id: int) -> str:
        account = await self._directory.account()
        return next((g.name for g in account.groups if g.id == group_id), str(group_id))

    async def user_word(self, user_id: int) -> str:
        return quoted(await self.user_name(user_id))

    async def group_word(self, group_id: int) -> str:
        return quoted(await self.group_name(group_id))

    async def status_word(self, status_id: int) -> str:
        if status_id in _ALIAS_OF:
            return _ALIAS_OF[status_id]
        for pipeline in await self._directory.pipelines():
            for status in pipeline.statuses:
                if status.id == status_id:
                    return quoted(status.name)
        return str(status_id)

    async def status_place(self, status_id: int) -> tuple[str, str] | None:
        """(pipeline name, status name) of a stage, None if amoCRM no longer has it."""
        for pipeline in await self._directory.pipelines():
            for status in pipeline.statuses:
                if status.id == status_id:
                    return pipeline.name, status.name
        return None

    async def pipeline_word(self, pipeline_id: int) -> str:
        pipelines = await self._directory.pipelines()
        return quoted(next((p.name for p in pipelines if p.id == pipeline_id), str(pipeline_id)))

    async def rule(self, s: Subscription) -> str:
        """The ``/subscribe`` words that make ``s`` again (without the command itself)."""
        f = s.filters
        words = [_EVENT_WORD[s.kind.value]]
        if s.report is not None:  # "report weekly mon 09:00"
            words.append(s.report.every)
            if s.report.every == "weekly":
                words.append(WEEKDAYS[s.report.weekday])
            words.append(s.report.at)
        account = await self._directory.account()
        types = {k.id: k.name for k in account.task_types}
        words += [f"pipeline:{await self.pipeline_word(i)}" for i in f.pipeline_ids]
        if f.status_ids:  # one name stands for the status in every pipeline that has it
            words.append(f"status:{await self.status_word(f.status_ids[0])}")
        if f.price_min is not None:
            words.append(f"price>={f.price_min}")
        if f.price_max is not None:
            words.append(f"price<={f.price_max}")
        words += [f"user:{await self.user_word(i)}" for i in f.responsible_ids]
        words += [f"group:{await self.group_word(i)}" for i in f.group_ids]
        words += [f"type:{quoted(types.get(i, str(i)))}" for i in f.task_type_ids]
        words += [f"tag:{quoted(tag)}" for tag in f.tags]
        if f.by_others:
            words.append("by_others")
        if s.mode == "digest":
            words.append("digest")
        if s.target.shared and s.fields != DEFAULT_SHARED_FIELDS:
            words.append("fields:" + ",".join(s.fields))
        words += ["to", await self._target_word(s.target)]
        return " ".join(words)

    async def _target_word(self, target: Target) -> str:
        if target.kind == "user" and target.id:
            return f"user:{await self.user_word(int(target.id))}"
        if target.kind == "group" and target.id:
            return f"group:{await self.group_word(int(target.id))}"
        if target.kind == "supervisors" and target.id:
            return f"supervisors:{await self.group_word(int(target.id))}"
        if target.kind == "slack_channel":
            return f"slack:{target.id}"
        if target.kind == "telegram_chat":
            return f"telegram:{target.id}"
        return target.kind
