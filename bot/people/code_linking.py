"""Linking a Telegram account to an amoCRM user by proving control of the amoCRM account.

Telegram has no e-mail, so: the user names their amoCRM e-mail; the bot puts a one-time code in
an amoCRM task for that user; only someone who can open that user's amoCRM sees it. Codes are
stored hashed, live 10 minutes, allow 5 attempts, then a cool-down. An admin can instead issue a
one-time invite deep link for a given user.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum

from bot.core import Catalogue, Clock, Crm, NewTask, TaskPatch, User, Value, as_lang
from bot.crm import Directory
from bot.people.links import ChannelLink, LinkOutcome, Links
from bot.store import Store

CODE_TTL_S = 600
CODE_ATTEMPTS = 5
COOLDOWN_S = 900
INVITE_TTL_S = 7 * 24 * 3600
CODE_NS = "link_code"
COOLDOWN_NS = "link_cooldown"
INVITE_NS = "link_invite"


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


class PendingCode(Value):
    amo_user_id: int
    code_hash: str
    salt: str
    attempts_left: int
    task_id: int


class TelegramIdentity(Value):
    user_id: int
    chat_id: int
    username: str | None = None


def _hash(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


class LinkingService:
    def __init__(
        self,
        store: Store,
        crm: Crm,
        directory: Directory,
        links: Links,
        clock: Clock,
        t: Catalogue,
    ) -> None:
        self._store = store
        self._crm = crm
        self._directory = directory
        self._links = links
        self._clock = clock
        self._t = t

    async def request_code(self, who: TelegramIdentity, email: str) -> LinkResult:
        """Create the amoCRM task holding a fresh code for the user with this e-mail."""
        if await self._store.get_doc(COOLDOWN_NS, str(who.user_id)) is not None:
            return LinkResult(step=LinkStep.COOLING_DOWN)
        user = await self._directory.user_by_email(email)
        if user is None:
            return LinkResult(step=LinkStep.EMAIL_NOT_FOUND)
        if await self._links.by_amo(user.id, "telegram") is not None:
            return LinkResult(step=LinkStep.AMO_TAKEN, user=user)
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
        salt = secrets.token_hex(8)
        pending = PendingCode(
            amo_user_id=user.id,
            code_hash=_hash(code, salt),
            salt=salt,
            attempts_left=CODE_ATTEMPTS,
            task_id=task_id,
        )
        await self._store.put_doc(
            CODE_NS, str(who.user_id), pending.model_dump_json(), ttl_s=CODE_TTL_S
        )
        return LinkResult(step=LinkStep.CODE_SENT, user=user)

    async def submit_code(self, who: TelegramIdentity, code: str) -> LinkResult:
        raw = await self._store.get_doc(CODE_NS, str(who.user_id))
        if raw is None:
            return LinkResult(step=LinkStep.CODE_EXPIRED)
        pending = PendingCode.model_validate_json(raw)
        if not hmac.compare_digest(_hash(code.strip(), pending.salt), pending.code_hash):
            left = pending.attempts_left - 1
            if left <= 0:
                await self._store.delete_doc(CODE_NS, str(who.user_id))
                await self._store.put_doc(COOLDOWN_NS, str(who.user_id), "1", ttl_s=COOLDOWN_S)
                return LinkResult(step=LinkStep.LOCKED)
            fewer = pending.model_copy(update={"attempts_left": left}).model_dump_json()
            # Compare-and-set: two wrong guesses at once still cost two attempts.
            if not await self._store.swap_doc(
                CODE_NS, str(who.user_id), raw, fewer, ttl_s=CODE_TTL_S
            ):
                return await self.submit_code(who, code)  # changed meanwhile: judge again
            return LinkResult(step=LinkStep.CODE_WRONG, attempts_left=left)
        # Single use: whoever deletes the pending code first links.
        if not await self._store.swap_doc(CODE_NS, str(who.user_id), raw, None):
            return LinkResult(step=LinkStep.CODE_EXPIRED)
        result = await self._link(who, pending.amo_user_id)
        if result.step is LinkStep.LINKED and result.user is not None:
            done = self._t(as_lang(result.user.lang), "code_task_result")
            await self._crm.update_task(
                TaskPatch(id=pending.task_id, is_completed=True, result_text=done)
            )
        return result

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
