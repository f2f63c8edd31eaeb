"""Linking a Telegram account to an amoCRM user by proving control of the amoCRM account.

Telegram has no e-mail, so: the user names their amoCRM e-mail; the bot puts a one-time code in
an amoCRM task for that user; only someone who can open that user's amoCRM sees it. Codes are
stored hashed and live 10 minutes. An admin can instead issue a one-time invite deep link for a
given user.

Guessing is bounded per amoCRM user and per Telegram account, not per code, and in the store,
so that starting over (``/start`` and the e-mail again), another Telegram account or another
replica gains nothing: 5 wrong codes within an hour lock both for 15 minutes, during which no new
code is issued for them; the admins are told once per lock. Each amoCRM user has at most one open
code task: the previous one is closed when a new code is made, and on a lock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from enum import StrEnum

from pydantic import ValidationError

from bot.core import (
    Catalogue,
    Clock,
    Crm,
    CrmError,
    NewTask,
    TaskPatch,
    User,
    Value,
    as_lang,
)
from bot.crm import Directory
from bot.delivery import Outbox
from bot.people.admins import admin_notices
from bot.people.links import ChannelLink, LinkOutcome, Links
from bot.people.prefs import Prefs
from bot.store import Store

log = logging.getLogger(__name__)

CODE_TTL_S = 600
CODE_ATTEMPTS = 5  # wrong codes allowed within FAIL_WINDOW_S, per amoCRM user and per account
FAIL_WINDOW_S = 3600
COOLDOWN_S = 900
INVITE_TTL_S = 7 * 24 * 3600
CODE_TASK_TTL_S = 24 * 3600
CODE_NS = "link_code"
FAILS_NS = "link_fails"  # wrong-code moments of the last hour, per "amo:<id>" and "tg:<id>"
LOCK_NS = "link_lock"  # until when no code is issued or judged, per "amo:<id>" and "tg:<id>"
CODE_TASK_NS = "link_code_task"  # the open code task of an amoCRM user
INVITE_NS = "link_invite"
_CAS_ATTEMPTS = 10


class LinkStep(StrEnum):
    CODE_SENT = "code_sent"
    EMAIL_NOT_FOUND = "email_not_found"
    AMO_TAKEN = "amo_taken"
    TELEGRAM_TAKEN = "telegram_taken"
    COOLING_DOWN = "cooling_down"
    CODE_WRONG = "code_wrong"
    CODE_EXPIRED = "code_expired"
    LOCKED = "locked"
    LINKED = "linked"
    INVITE_INVALID = "invite_invalid"


class LinkResult(Value):
    step: LinkStep
    user: User | None = None
    attempts_left: int | None = None
    wait_minutes: int | None = None  # COOLING_DOWN, LOCKED: when to try again


class PendingCode(Value):
    amo_user_id: int
    code_hash: str
    salt: str
    task_id: int


class TelegramIdentity(Value):
    user_id: int
    chat_id: int
    username: str | None = None


def _hash(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def _amo(amo_user_id: int) -> str:
    return f"amo:{amo_user_id}"


def _tg(who: TelegramIdentity) -> str:
    return f"tg:{who.user_id}"


@dataclass(frozen=True, slots=True, eq=False)
class LinkingService:
    _store: Store
    _crm: Crm
    _directory: Directory
    _links: Links
    _prefs: Prefs
    _outbox: Outbox
    _clock: Clock
    _t: Catalogue

    async def request_code(self, who: TelegramIdentity, email: str) -> LinkResult:
        """Create the amoCRM task holding a fresh code for the user with this e-mail."""
        if (cooling := await self._cooling(_tg(who))) is not None:
            return cooling
        user = await self._directory.user_by_email(email)
        if user is None:
            return LinkResult(step=LinkStep.EMAIL_NOT_FOUND)
        if (cooling := await self._cooling(_amo(user.id))) is not None:
            return cooling
        if await self._links.by_amo(user.id, "telegram") is not None:
            return LinkResult(step=LinkStep.AMO_TAKEN, user=user)
        # One open code task per amoCRM user: asking again replaces it, never adds to it.
        await self._close_code_task(user.id, "code_task_replaced")
        code = f"{secrets.randbelow(1_000_000):06d}"
        now = int(self._clock.now())
        task_id = await self._crm.create_task(
            NewTask(
                # In the amoCRM user's language: they read it in amoCRM.
                text=self._t(as_lang(user.lang), "code_task_text", code=code),
                complete_till=now + CODE_TTL_S,
                responsible_user_id=user.id,
                task_type_id=1,
            )
        )
        await self._store.put_doc(CODE_TASK_NS, _amo(user.id), str(task_id), ttl_s=CODE_TASK_TTL_S)
        salt = secrets.token_hex(8)
        pending = PendingCode(
            amo_user_id=user.id, code_hash=_hash(code, salt), salt=salt, task_id=task_id
        )
        await self._store.put_doc(
            CODE_NS, str(who.user_id), pending.model_dump_json(), ttl_s=CODE_TTL_S
        )
        return LinkResult(step=LinkStep.CODE_SENT, user=user)

    async def submit_code(self, who: TelegramIdentity, code: str) -> LinkResult:
        raw = await self._store.get_doc(CODE_NS, str(who.user_id))
        if raw is None:
            return LinkResult(step=LinkStep.CODE_EXPIRED)
        try:
            pending = PendingCode.model_validate_json(raw)
        except ValidationError:
            await self._store.delete_doc(CODE_NS, str(who.user_id))
            return LinkResult(step=LinkStep.CODE_EXPIRED)
        keys = (_tg(who), _amo(pending.amo_user_id))
        if (cooling := await self._cooling(*keys)) is not None:
            # Locked meanwhile (by guesses from another account): this code is void too.
            await self._store.delete_doc(CODE_NS, str(who.user_id))
            return cooling
        if not hmac.compare_digest(_hash(code.strip(), pending.salt), pending.code_hash):
            wrong = max([await self._count_wrong(key) for key in keys])
            left = CODE_ATTEMPTS - wrong
            if left > 0:
                return LinkResult(step=LinkStep.CODE_WRONG, attempts_left=left)
            return await self._lock(who, pending)
        # Single use: whoever deletes the pending code first links.
        if not await self._store.swap_doc(CODE_NS, str(who.user_id), raw, None):
            return LinkResult(step=LinkStep.CODE_EXPIRED)
        result = await self._link(who, pending.amo_user_id)
        if result.step is LinkStep.LINKED and result.user is not None:
            await self._store.swap_doc(CODE_TASK_NS, _amo(pending.amo_user_id),
                                       str(pending.task_id), None)  # fmt: skip
            done = self._t(as_lang(result.user.lang), "code_task_result")
            await self._crm.update_task(
                TaskPatch(id=pending.task_id, is_completed=True, result_text=done)
            )
        return result

    # --- the bound on guessing ------------------------------------------------------------

    async def _cooling(self, *keys: str) -> LinkResult | None:
        """COOLING_DOWN with the wait left, if any of ``keys`` is locked now."""
        now = int(self._clock.now())
        until = 0
        for key in keys:
            raw = await self._store.get_doc(LOCK_NS, key)
            if raw is not None and raw.isdigit():
                until = max(until, int(raw))
        if until <= now:
            return None
        return LinkResult(step=LinkStep.COOLING_DOWN, wait_minutes=_minutes(until - now))

    async def _count_wrong(self, key: str) -> int:
        """Record one wrong code against ``key``; how many it has had in the last hour."""
        now = int(self._clock.now())
        for _ in range(_CAS_ATTEMPTS):
            raw = await self._store.get_doc(FAILS_NS, key)
            seen = _moments(raw)
            recent = [x for x in seen if x > now - FAIL_WINDOW_S] + [now]
            # Compare-and-set: wrong codes typed at once on two replicas both count.
            if await self._store.swap_doc(
                FAILS_NS, key, raw, json.dumps(recent), ttl_s=FAIL_WINDOW_S
            ):
                return len(recent)
        log.warning("link attempts of %s: gave up counting after conflicts", key)
        return CODE_ATTEMPTS  # fail closed

    async def _lock(self, who: TelegramIdentity, pending: PendingCode) -> LinkResult:
        """Too many wrong codes: no code for the amoCRM user or from this account for a while."""
        now = int(self._clock.now())
        until = now + COOLDOWN_S
        newly = False
        for key in (_tg(who), _amo(pending.amo_user_id)):
            # The wrong codes stay counted: one more within the hour locks again at once.
            newly = await self._lock_key(key, until, now) or newly
        await self._store.delete_doc(CODE_NS, str(who.user_id))
        await self._close_code_task(pending.amo_user_id, "code_task_locked")
        if newly:
            await self._tell_admins(who, pending.amo_user_id)
        return LinkResult(step=LinkStep.LOCKED, wait_minutes=_minutes(COOLDOWN_S))

    async def _lock_key(self, key: str, until: int, now: int) -> bool:
        """Lock ``key`` until ``until``; True if it was not locked already (a new lock)."""
        for _ in range(_CAS_ATTEMPTS):
            raw = await self._store.get_doc(LOCK_NS, key)
            if raw is not None and raw.isdigit() and int(raw) > now:
                return False
            if await self._store.swap_doc(LOCK_NS, key, raw, str(until), ttl_s=COOLDOWN_S):
                return True
        return False

    async def _close_code_task(self, amo_user_id: int, result_key: str) -> None:
        """Close the user's open code task, if there is one: its code no longer counts."""
        raw = await self._store.get_doc(CODE_TASK_NS, _amo(amo_user_id))
        if raw is None or not raw.isdigit():
            return
        if not await self._store.swap_doc(CODE_TASK_NS, _amo(amo_user_id), raw, None):
            return  # another request closes it
        user = await self._directory.user(amo_user_id)
        text = self._t(as_lang(user.lang if user else None), result_key)
        try:
            await self._crm.update_task(
                TaskPatch(id=int(raw), is_completed=True, result_text=text)
            )
        except CrmError:
            log.warning("code task %s of user %s not closed", raw, amo_user_id)

    async def _tell_admins(self, who: TelegramIdentity, amo_user_id: int) -> None:
        target = await self._directory.user(amo_user_id)
        name = target.name if target else str(amo_user_id)
        account = f"@{who.username}" if who.username else str(who.user_id)
        log.warning("link codes for %s: too many wrong codes from Telegram %s", name, account)
        notices = await admin_notices(
            self._links, self._directory, self._prefs,
            lambda lang: self._t(lang, "link_locked_admin", name=name, account=account,
                                 count=CODE_ATTEMPTS, minutes=COOLDOWN_S // 60),
        )  # fmt: skip
        await self._outbox.enqueue(notices)

    async def create_invite(self, amo_user_id: int) -> str:
        """A one-time code for a ``/start`` deep link that links ``amo_user_id``."""
        code = secrets.token_urlsafe(18)  # 24 characters of [A-Za-z0-9_-], as deep links allow
        digest = hashlib.sha256(code.encode()).hexdigest()
        await self._store.put_doc(INVITE_NS, digest, str(amo_user_id), ttl_s=INVITE_TTL_S)
        return code

    async def accept_invite(self, who: TelegramIdentity, code: str) -> LinkResult:
        digest = hashlib.sha256(code.encode()).hexdigest()
        raw = await self._store.get_doc(INVITE_NS, digest)
        if raw is None or not await self._store.swap_doc(INVITE_NS, digest, raw, None):
            return LinkResult(step=LinkStep.INVITE_INVALID)
        return await self._link(who, int(raw))

    async def _link(self, who: TelegramIdentity, amo_user_id: int) -> LinkResult:
        user = await self._directory.user(amo_user_id)
        link = ChannelLink(
            channel="telegram",
            amo_user_id=amo_user_id,
            account_id=str(who.user_id),
            chat_id=str(who.chat_id),
            username=who.username,
            linked_at=int(self._clock.now()),
        )
        outcome = await self._links.link(link)
        if outcome is LinkOutcome.ACCOUNT_TAKEN:
            return LinkResult(step=LinkStep.TELEGRAM_TAKEN, user=user)
        if outcome is LinkOutcome.AMO_TAKEN:
            return LinkResult(step=LinkStep.AMO_TAKEN, user=user)
        return LinkResult(step=LinkStep.LINKED, user=user)


def _moments(raw: str | None) -> list[int]:
    if raw is None:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [x for x in value if isinstance(x, int)] if isinstance(value, list) else []


def _minutes(seconds: int) -> int:
    return max(1, -(-seconds // 60))
