"""Who made a change amobridge wrote to amoCRM, remembered before the write.

amoCRM credits every write amobridge makes to the token's own user, and a write whose answer was
lost comes back later by a webhook, the events poll or the sync, none of which knows who pressed
the button. So before writing, the action stores a claim: "this task is being completed (or moved,
or handed over) by Ivan from Telegram". When the processor then sees the entity change from not
matching the claim to matching it, whatever path brought the change, the events it journals name
the presser. A claim is dropped once the write is settled (seen applied, or seen not applied), and
expires on its own in any case, so that a later change made in amoCRM is not credited to it.

A task amobridge creates (a follow-up) has no id before the write, so its claim is keyed by what
identifies it instead: the entity it hangs on, its responsible and its deadline. The first sight
of a task that matches it (a creation, by any path) names the presser, who is from then on its
author (``author``): amoCRM's ``created_by`` says the token's user for as long as the task lives.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import ValidationError

from bot.core import Deal, EntityHint, EntityKind, HintSource, NewTask, Task, WriteEffect
from bot.store import Store

CLAIM_NS = "write_claim"
CLAIM_TTL_S = 3600
AUTHOR_NS = "task_author"
AUTHOR_TTL_S = 400 * 24 * 3600  # as long as the activity log: tasks rarely live longer


class Claim(WriteEffect):
    """What a pending write sets, and on whose behalf. Unset fields are not part of it."""

    actor_id: int
    via: str

    def met_by(self, entity: Task | Deal | None) -> bool:
        """Does ``entity`` show every change this claim makes?"""
        if entity is None:
            return False
        if isinstance(entity, Task):
            if self.is_completed is not None and entity.is_completed != self.is_completed:
                return False
            if self.complete_till is not None and entity.complete_till != self.complete_till:
                return False
        elif self.is_completed is not None or self.complete_till is not None:
            return False
        return (
            self.responsible_user_id is None
            or entity.responsible_user_id == self.responsible_user_id
        )


def _key(kind: EntityKind, entity_id: int) -> str:
    return f"{kind}:{entity_id}"


def _new_task_key(
    entity_type: str | None, entity_id: int | None, responsible: int | None, complete_till: int
) -> str:
    return f"new-task:{entity_type}:{entity_id}:{responsible}:{complete_till}"


@dataclass(frozen=True, slots=True, eq=False)
class Claims:
    """The store's record of writes under way (any replica may see the change come back)."""

    _store: Store

    async def put(self, kind: EntityKind, entity_id: int, claim: Claim) -> None:
        await self._store.put_doc(
            CLAIM_NS, _key(kind, entity_id), claim.model_dump_json(), ttl_s=CLAIM_TTL_S
        )

    async def get(self, kind: EntityKind, entity_id: int) -> Claim | None:
        return await self._read(_key(kind, entity_id))

    async def _read(self, key: str) -> Claim | None:
        raw = await self._store.get_doc(CLAIM_NS, key)
        if raw is None:
            return None
        try:
            return Claim.model_validate_json(raw)
        except ValidationError:
            return None

    async def drop(self, kind: EntityKind, entity_id: int) -> None:
        await self._store.delete_doc(CLAIM_NS, _key(kind, entity_id))

    async def put_new_task(self, task: NewTask, actor_id: int, via: str) -> None:
        """Before creating ``task`` for ``actor_id``: its creation, however it comes back, is
        theirs (not the token owner's, whom amoCRM names as its author)."""
        claim = Claim(actor_id=actor_id, via=via, complete_till=task.complete_till,
                      responsible_user_id=task.responsible_user_id)  # fmt: skip
        key = _new_task_key(task.entity_type, task.entity_id, task.responsible_user_id,
                            task.complete_till)  # fmt: skip
        await self._store.put_doc(CLAIM_NS, key, claim.model_dump_json(), ttl_s=CLAIM_TTL_S)

    async def put_author(self, task_id: int, actor_id: int) -> None:
        """``actor_id`` made the task through amobridge (amoCRM names the token's user)."""
        await self._store.put_doc(AUTHOR_NS, str(task_id), str(actor_id), ttl_s=AUTHOR_TTL_S)

    async def author(self, task_id: int) -> int | None:
        """Who made the task through amobridge, if someone did."""
        raw = await self._store.get_doc(AUTHOR_NS, str(task_id))
        return int(raw) if raw is not None and raw.isdigit() else None

    async def _new_task_claim(self, task: Task) -> Claim | None:
        key = _new_task_key(task.entity_type, task.entity_id, task.responsible_user_id,
                            task.complete_till)  # fmt: skip
        return await self._read(key)

    async def attribute(
        self,
        kind: EntityKind,
        entity_id: int,
        before: Task | Deal | None,
        current: Task | Deal | None,
        hint: EntityHint | None,
    ) -> EntityHint | None:
        """``hint``, naming the claim's presser if this change is the one the claim made."""
        if before == current or (hint is not None and hint.source is HintSource.ACTION):
            return hint  # nothing changed, or the action itself, which names its presser
        claim = await self.get(kind, entity_id)
        if claim is None and before is None and isinstance(current, Task):
            claim = await self._new_task_claim(current)  # first sight: one we created?
            if claim is not None and claim.met_by(current):
                await self.put_author(entity_id, claim.actor_id)
        if claim is None or not claim.met_by(current) or claim.met_by(before):
            return hint
        if hint is None:
            return EntityHint(
                kind=kind, id=entity_id, source=HintSource.SYNC, actor_id=claim.actor_id,
                via=claim.via,
            )  # fmt: skip
        return hint.model_copy(update={"actor_id": claim.actor_id, "via": claim.via})
