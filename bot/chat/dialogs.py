"""Short conversations: what the bot asked a user and is waiting for (an e-mail, a code, a
comment, a custom snooze time). Kept in the store, so any replica can take the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core import Value
from bot.store import Store

NS = "dialog"
TTL_S = 15 * 60


class Dialog(Value):
    kind: Literal["email", "code", "comment", "snooze"]
    task_id: int | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Dialogs:
    _store: Store
    _channel: str

    def _key(self, user: int | str) -> str:
        return f"{self._channel}:{user}"

    async def get(self, user: int | str) -> Dialog | None:
        raw = await self._store.get_doc(NS, self._key(user))
        return Dialog.model_validate_json(raw) if raw else None

    async def set(self, user: int | str, dialog: Dialog) -> None:
        await self._store.put_doc(NS, self._key(user), dialog.model_dump_json(), ttl_s=TTL_S)

    async def clear(self, user: int | str) -> None:
        await self._store.delete_doc(NS, self._key(user))
