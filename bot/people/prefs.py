"""A user's own settings (``/remind``, ``/tz``, ``/lang``, ``/messenger``, ``/quiet``,
``/mute``, ``/digest``, ``/hours``), over the account's defaults, and the account's own delivery
settings (``/config hours``, ``/config other_messenger``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from pydantic import Field

from bot.core import Account, Channel, Lang, User, Value, as_lang
from bot.people.hours import DEFAULT_HOURS, WorkingHours
from bot.store import Store

NS = "prefs"
ACCOUNT_NS = "account_prefs"
MIN_OTHER_MESSENGER_MIN = 5
MAX_OTHER_MESSENGER_MIN = 24 * 60


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
    hours: WorkingHours | None = None  # ``/hours``; None: the account's

    @property
    def digest(self) -> bool:
        return self.digest_every_min is not None or self.digest_daily is not None


class AccountPrefs(Value):
    """The account's delivery settings (admins, ``/config``)."""

    hours: WorkingHours | None = None  # None: amobridge's default, and nothing held
    # A reminder nobody acted on this long is repeated once in the person's other messenger.
    other_messenger_after_min: int | None = Field(
        default=None, ge=MIN_OTHER_MESSENGER_MIN, le=MAX_OTHER_MESSENGER_MIN
    )


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

    async def account(self) -> AccountPrefs:
        raw = await self._store.get_doc(ACCOUNT_NS, "account")
        return AccountPrefs.model_validate_json(raw) if raw else AccountPrefs()

    async def update_account(self, **changes: object) -> AccountPrefs:
        """A compare-and-set, so two admins changing different settings both keep theirs."""
        while True:
            raw = await self._store.get_doc(ACCOUNT_NS, "account")
            current = AccountPrefs.model_validate_json(raw) if raw else AccountPrefs()
            updated = AccountPrefs.model_validate(current.model_dump() | changes)
            if await self._store.swap_doc(ACCOUNT_NS, "account", raw, updated.model_dump_json()):
                return updated


def language(prefs: UserPrefs, user: User | None) -> Lang:
    """The user's choice, else their amoCRM language."""
    return prefs.lang or as_lang(user.lang if user else None)


def timezone(prefs: UserPrefs, account: Account) -> str:
    return prefs.timezone or account.timezone


def working_hours(prefs: UserPrefs, account: AccountPrefs) -> WorkingHours:
    """The person's hours, else the account's, else amobridge's default (09:00-19:00 mon-fri)."""
    return prefs.hours or account.hours or DEFAULT_HOURS


def chosen_hours(prefs: UserPrefs, account: AccountPrefs) -> WorkingHours | None:
    """Hours someone set (the person or an admin): only these hold messages back."""
    return prefs.hours or account.hours
