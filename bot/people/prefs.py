"""A user's own settings (``/remind``, ``/tz``, ``/lang``, ``/messenger``, ``/quiet``,
``/mute``, ``/digest``), over the account's defaults."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from bot.core import Account, Channel, Lang, User, Value, as_lang
from bot.store import Store

NS = "prefs"


class UserPrefs(Value):
    lang: Lang | None = None
    timezone: str | None = None
    lead_minutes: tuple[int, ...] | None = None
    messenger: Channel | None = None  # None: every linked messenger (``/messenger``)
    quiet_start: time | None = None  # ``/quiet 22:00-08:00``, in the user's timezone
    quiet_end: time | None = None
    muted_until: int | None = None  # ``/mute 2h``: Unix time
    # ``/digest``: alerts kept and sent together every so many minutes, or daily at a time
    # with the day's tasks; at most one of the two is set.
    digest_every_min: int | None = None
    digest_daily: time | None = None

    @property
    def digest(self) -> bool:
        return self.digest_every_min is not None or self.digest_daily is not None


@dataclass(frozen=True, slots=True, eq=False)
class Prefs:
    _store: Store

    async def get(self, amo_user_id: int) -> UserPrefs:
        raw = await self._store.get_doc(NS, str(amo_user_id))
        return UserPrefs.model_validate_json(raw) if raw else UserPrefs()

    async def all(self) -> dict[int, UserPrefs]:
        """Everyone's settings, for the jobs that act on them (one document per person)."""
        return {
            int(key): UserPrefs.model_validate_json(raw)
            for key, raw in (await self._store.list_docs(NS)).items()
        }

    async def update(self, amo_user_id: int, **changes: object) -> UserPrefs:
        updated = (await self.get(amo_user_id)).model_copy(update=changes)
        await self._store.put_doc(NS, str(amo_user_id), updated.model_dump_json())
        return updated


def language(prefs: UserPrefs, user: User | None) -> Lang:
    """The user's choice, else their amoCRM language."""
    return prefs.lang or as_lang(user.lang if user else None)


def timezone(prefs: UserPrefs, account: Account) -> str:
    return prefs.timezone or account.timezone
