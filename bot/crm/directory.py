"""The account, its users and pipelines, read from amoCRM and kept for a few minutes.

Read-mostly data every message needs (names, rights, timezone); each replica keeps its own copy.
"""

from __future__ import annotations

import asyncio
import logging

from bot.core import Account, Clock, Crm, CrmError, Pipeline, User
from bot.crm.rights import assignees

log = logging.getLogger(__name__)

REFRESH_S = 600.0


class Directory:
    def __init__(self, crm: Crm, clock: Clock, *, base_url: str, ttl_s: float = REFRESH_S):
        self._crm = crm
        self._clock = clock
        self._base_url = base_url.rstrip("/")
        self._ttl_s = ttl_s
        self._lock = asyncio.Lock()
        self._loaded_at: float | None = None
        self._account: Account | None = None
        self._users: dict[int, User] = {}
        self._pipelines: list[Pipeline] = []
        self._loss_reasons: dict[int, str] = {}
        self._loss_reasons_at: float | None = None
        # Whom each reader may hand a task to, until the users are read again: every card for
        # one person offers the same people (a burst of reminders draws thousands of them).
        self._assignees: dict[tuple[User, int | None], tuple[User, ...]] = {}

    async def _ensure(self) -> None:
        if self._loaded_at is not None and self._clock.now() - self._loaded_at < self._ttl_s:
            return
        async with self._lock:
            if self._loaded_at is not None and self._clock.now() - self._loaded_at < self._ttl_s:
                return
            await self.refresh()

    async def refresh(self) -> None:
        account, users, pipelines = await asyncio.gather(
            self._crm.account(), self._crm.users(), self._crm.pipelines()
        )
        self._account = account
        self._users = {u.id: u for u in users}
        self._assignees = {}
        self._pipelines = pipelines
        self._loaded_at = self._clock.now()

    async def account(self) -> Account:
        await self._ensure()
        assert self._account is not None
        return self._account

    async def user(self, user_id: int) -> User | None:
        await self._ensure()
        return self._users.get(user_id)

    async def user_by_email(self, email: str) -> User | None:
        """The active user with this e-mail (case-insensitive)."""
        await self._ensure()
        wanted = email.strip().lower()
        for user in self._users.values():
            if user.is_active and (user.email or "").lower() == wanted:
                return user
        return None

    async def active_users(self) -> list[User]:
        await self._ensure()
        return sorted((u for u in self._users.values() if u.is_active), key=lambda u: u.name)

    async def assignees(self, actor: User, *, excluding: int | None) -> tuple[User, ...]:
        """``rights.assignees`` among the active users, by name."""
        await self._ensure()
        key = (actor, excluding)
        found = self._assignees.get(key)
        if found is None:
            found = tuple(assignees(actor, await self.active_users(), excluding=excluding))
            self._assignees[key] = found
        return found

    async def loss_reason(self, reason_id: int) -> str | None:
        """A loss reason's name; the list is read again (at most once per refresh period) when
        an id is new to it, as admins add reasons."""
        fresh = self._loss_reasons_at is not None and (
            self._clock.now() - self._loss_reasons_at < self._ttl_s
        )
        if reason_id not in self._loss_reasons and not fresh:
            try:
                reasons = await self._crm.loss_reasons()
            except CrmError as exc:
                log.warning("loss reasons not read: %s", exc)
                return None
            self._loss_reasons = {r.id: r.name for r in reasons}
            self._loss_reasons_at = self._clock.now()
        return self._loss_reasons.get(reason_id)

    async def pipelines(self) -> list[Pipeline]:
        await self._ensure()
        return list(self._pipelines)

    async def status_name(self, pipeline_id: int, status_id: int) -> tuple[str, str]:
        """(pipeline name, status name); ids as text where the directory does not know them."""
        await self._ensure()
        for pipeline in self._pipelines:
            if pipeline.id == pipeline_id:
                status = next((s.name for s in pipeline.statuses if s.id == status_id), None)
                return pipeline.name, status or str(status_id)
        return str(pipeline_id), str(status_id)

    async def task_type_name(self, type_id: int | None) -> str | None:
        account = await self.account()
        return next((t.name for t in account.task_types if t.id == type_id), None)

    def deal_url(self, deal_id: int) -> str:
        return f"{self._base_url}/leads/detail/{deal_id}"
