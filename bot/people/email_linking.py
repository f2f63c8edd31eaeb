"""Linking messenger accounts to amoCRM users by e-mail (Slack gives each user's verified e-mail).

The messenger's directory is a port (``AccountBook``): the core asks it who an account is and
where to write to them, and never sees the platform's API. Matching is case-insensitive on the
e-mail of an active amoCRM user; bots and deactivated accounts are never linked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.core import Channel, Clock, User, Value
from bot.crm import Directory
from bot.people.links import ChannelLink, LinkOutcome, Links


class MessengerAccount(Value):
    account_id: str
    name: str
    email: str | None = None
    is_bot: bool = False
    deleted: bool = False


class AccountBook(Protocol):
    async def account(self, account_id: str) -> MessengerAccount | None:
        """The account, or None if the messenger does not know it."""
        ...

    async def accounts(self) -> list[MessengerAccount]:
        """Every account of the workspace."""
        ...

    async def open_dm(self, account_id: str) -> str:
        """The chat where the bot writes to this account alone."""
        ...


class EmailLinkStep(StrEnum):
    LINKED = "linked"
    RESUMED = "resumed"  # linked before and paused (deactivated, then back): delivering again
    ALREADY = "already"
    NO_EMAIL = "no_email"
    NOT_FOUND = "not_found"
    AMO_TAKEN = "amo_taken"
    SKIPPED = "skipped"  # a bot or a deactivated account


class EmailLinkResult(Value):
    account: MessengerAccount
    step: EmailLinkStep
    user: User | None = None

    @property
    def ok(self) -> bool:
        return self.step in (EmailLinkStep.LINKED, EmailLinkStep.RESUMED, EmailLinkStep.ALREADY)


class Rescheduler(Protocol):
    """Plans a newly linked (or resumed) person's reminders: the task package's reminder service,
    seen through a port since linking sits below it."""

    async def reschedule_user(self, amo_user_id: int) -> None: ...


@dataclass(frozen=True, slots=True, eq=False)
class EmailLinking:
    _channel: Channel
    _book: AccountBook
    _links: Links
    _directory: Directory
    _reminders: Rescheduler
    _clock: Clock

    async def link(self, account_id: str) -> EmailLinkResult:
        """Link the account that asked (``/amo link``)."""
        account = await self._book.account(account_id)
        if account is None:
            account = MessengerAccount(account_id=account_id, name=account_id)
            return EmailLinkResult(account=account, step=EmailLinkStep.NO_EMAIL)
        return await self._link(account)

    async def link_all(self) -> list[EmailLinkResult]:
        """Link every account of the workspace whose e-mail matches (``/amo link all``)."""
        results = []
        for account in await self._book.accounts():
            results.append(await self._link(account))
        return results

    async def _link(self, account: MessengerAccount) -> EmailLinkResult:
        if account.is_bot or account.deleted:
            return EmailLinkResult(account=account, step=EmailLinkStep.SKIPPED)
        existing = await self._links.by_account(self._channel, account.account_id)
        if existing is not None:
            user = await self._directory.user(existing.amo_user_id)
            if existing.paused:
                await self._links.set_paused(existing.amo_user_id, self._channel, False)
                await self._reminders.reschedule_user(existing.amo_user_id)
                return EmailLinkResult(account=account, step=EmailLinkStep.RESUMED, user=user)
            return EmailLinkResult(account=account, step=EmailLinkStep.ALREADY, user=user)
        if not account.email:
            return EmailLinkResult(account=account, step=EmailLinkStep.NO_EMAIL)
        user = await self._directory.user_by_email(account.email)
        if user is None:
            return EmailLinkResult(account=account, step=EmailLinkStep.NOT_FOUND)
        link = ChannelLink(
            channel=self._channel,
            amo_user_id=user.id,
            account_id=account.account_id,
            chat_id=await self._book.open_dm(account.account_id),
            username=account.name,
            linked_at=int(self._clock.now()),
        )
        outcome = await self._links.link(link)
        if outcome is LinkOutcome.AMO_TAKEN:
            return EmailLinkResult(account=account, step=EmailLinkStep.AMO_TAKEN, user=user)
        if outcome is LinkOutcome.ACCOUNT_TAKEN:  # linked by a concurrent request meanwhile
            return EmailLinkResult(account=account, step=EmailLinkStep.ALREADY, user=user)
        await self._reminders.reschedule_user(user.id)
        return EmailLinkResult(account=account, step=EmailLinkStep.LINKED, user=user)
