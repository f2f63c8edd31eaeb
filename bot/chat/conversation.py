"""What people type and press, answered the same way in every messenger.

A messenger's handler parses its platform's update, asks ``speaker`` who is talking, and calls
one of these use cases; it gets back the text to answer with (already in the speaker's language),
or None when the answer is an edited card. The platform decides how to show it: a Telegram reply,
a Slack ephemeral message. Commands that only make sense in one messenger (``/start`` with its
code, ``/amo link``) stay in that messenger's handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.chat import commands as cmd
from bot.chat.own_settings import OwnSettings
from bot.core import (
    DEFAULT_LANG,
    Button,
    Card,
    Catalogue,
    Channel,
    Clock,
    Deal,
    DealCard,
    Lang,
    ParseError,
    Reader,
    Task,
    TaskCard,
    User,
    as_lang,
    human_duration,
    human_moment,
    parse_moment,
    wall_clock,
)
from bot.crm import Directory, assignees
from bot.delivery import MessageRef, Outbox, OutboxItem
from bot.people import Links, Prefs, Speaker, language
from bot.store import Store
from bot.tasks import (
    DEFAULT_LEAD_MINUTES,
    Action,
    ActionResult,
    CardFactory,
    DealAction,
    DealPayload,
    Outcome,
    Payload,
    ReminderService,
    TaskActions,
    subject,
)

TOMORROW_AT = 9  # "tomorrow": 09:00 in the speaker's timezone
FOLLOW_UP_AT = 10  # a follow-up task: tomorrow 10:00


@dataclass(frozen=True, slots=True, eq=False)
class Conversation:
    _store: Store
    _directory: Directory
    _links: Links
    _prefs: Prefs
    _own: OwnSettings
    _reminders: ReminderService
    _actions: TaskActions
    _cards: CardFactory
    _outbox: Outbox
    _clock: Clock
    t: Catalogue  # public: the Slack Home tab writes with the same catalogue

    async def speaker(
        self, channel: Channel, account_id: str | int, platform_lang: str | None
    ) -> Speaker:
        """The speaker's link and amoCRM user, and the language and timezone to answer in."""
        link = await self._links.by_account(channel, account_id)
        account = await self._directory.account()
        user = await self._directory.user(link.amo_user_id) if link is not None else None
        # Someone deactivated in amoCRM is nobody here: their link no longer speaks for anyone.
        if link is None or user is None or not user.is_active:
            lang = as_lang(platform_lang)
            return Speaker(
                channel=channel, account_id=str(account_id), lang=lang,
                reader=Reader(lang=lang, timezone=account.timezone),
            )  # fmt: skip
        reader = await self._reminders.reader(user.id)
        return Speaker(
            channel=channel, account_id=str(account_id), lang=reader.lang, link=link, user=user,
            reader=reader,
        )  # fmt: skip

    def usage(self, lang: Lang, exc: cmd.CommandError | ParseError) -> str:
        """What was wrong, and an example of the right way."""
        example = getattr(exc, "usage", None) or "usage_snooze"
        params = getattr(exc, "params", {})
        return f"{self.t(lang, exc.code, **params)}\n{self.t(lang, example)}"

    def lead_times_text(self, lang: Lang, minutes: tuple[int, ...]) -> str:
        if not minutes:
            return self.t(lang, "remind_off")
        durations = ", ".join(human_duration(self.t, lang, m) for m in minutes)
        return self.t(lang, "remind_set", lead=durations)

    async def linked(self, user: User) -> None:
        """A new link: plan the user's reminders."""
        await self._reminders.reschedule_user(user.id)

    async def linked_text(self, user: User) -> str:
        """The welcome after a link: in the user's own language, with their reminder times."""
        prefs = await self._prefs.get(user.id)
        lang = language(prefs, user)
        lead = self.lead_times_text(lang, prefs.lead_minutes or DEFAULT_LEAD_MINUTES)
        return self.t(lang, "linked_ok", name=user.name) + "\n" + lead

    # --- commands every messenger has ---------------------------------------------------------

    async def run(self, me: Speaker, command: cmd.Command) -> str | None:
        """Answer a command shared by every messenger; None for one this messenger handles."""
        t = self.t
        if isinstance(command, cmd.Help):
            return t(me.lang, f"help_{me.channel}")
        shared = (
            cmd.Tasks | cmd.Remind | cmd.SetTimezone | cmd.SetLanguage | cmd.SetMessenger
            | cmd.Quiet | cmd.Hours | cmd.Mute | cmd.Digest
        )  # fmt: skip
        if not isinstance(command, shared):
            return None
        if me.user is None or me.link is None:
            return t(me.lang, f"not_linked_{me.channel}")
        if isinstance(command, cmd.Tasks):
            return await self.tasks(me)
        if isinstance(command, cmd.SetMessenger):
            return await self._own.messenger(me.user.id, me.reader, command)
        if isinstance(command, cmd.Quiet):
            return await self._own.quiet(me.user.id, me.reader, command)
        if isinstance(command, cmd.Hours):
            text = await self._own.hours(me.user.id, me.reader, command)
            await self._reminders.reschedule_user(me.user.id)  # overdue repeats move
            return text
        if isinstance(command, cmd.Mute):
            return await self._own.mute(me.user.id, me.reader, command)
        if isinstance(command, cmd.Digest):
            return await self._own.digest(me.user.id, me.reader, command)
        if isinstance(command, cmd.Remind):
            await self._prefs.update(me.user.id, lead_minutes=command.lead_minutes)
            await self._reminders.reschedule_user(me.user.id)
            return self.lead_times_text(me.lang, command.lead_minutes)
        if isinstance(command, cmd.SetTimezone):
            if command.timezone is None:
                return t(me.lang, "tz_current", tz=me.reader.timezone)
            await self._prefs.update(me.user.id, timezone=command.timezone)
            await self._reminders.reschedule_user(me.user.id)
            local = datetime.fromtimestamp(self._clock.now(), ZoneInfo(command.timezone))
            return t(me.lang, "tz_set", tz=command.timezone, time=local.strftime("%H:%M"))
        if command.lang is None:
            return t(me.lang, "lang_current") + "\n" + t(me.lang, "usage_lang")
        await self._prefs.update(me.user.id, lang=command.lang)
        return t(command.lang, "lang_set")

    async def unlink(self, me: Speaker) -> str:
        if me.link is None or me.user is None:
            return self.t(me.lang, f"not_linked_{me.channel}")
        await self._links.unlink(me.link)
        await self._reminders.reschedule_user(me.user.id)
        return self.t(me.lang, f"unlinked_{me.channel}")

    async def resume(self, me: Speaker) -> None:
        """The user is back after a pause (they unblocked the bot): deliver again."""
        if me.link is not None and me.user is not None and me.link.paused:
            await self._links.set_paused(me.user.id, me.channel, False)
            await self._reminders.reschedule_user(me.user.id)

    async def todays_tasks(self, me: Speaker) -> list[Task]:
        """The speaker's open tasks due today (their timezone) or overdue, by deadline."""
        assert me.user is not None
        return await self._reminders.todays_tasks(me.user.id, me.reader.timezone)

    async def today_cards(self, me: Speaker) -> list[TaskCard]:
        """Today's tasks of the speaker as cards with their buttons (``/tasks``, Slack's Home)."""
        assert me.user is not None
        now = int(self._clock.now())
        cards = []
        for task in await self.todays_tasks(me):
            deal = await self._store.get_deal(task.deal_id) if task.deal_id else None
            cards.append(await self._cards.task_card(
                task, me.reader, now, deal=deal.value if deal else None, actor=me.user
            ))  # fmt: skip
        return cards

    async def tasks(self, me: Speaker) -> str:
        """Queue a card for each of today's tasks to the speaker's chat; the header to answer."""
        assert me.user is not None
        assert me.link is not None
        cards = await self.today_cards(me)
        if not cards:
            return self.t(me.lang, "tasks_none")
        await self._outbox.enqueue([
            OutboxItem(
                channel=me.channel, chat_id=me.link.chat_id, recipient=me.user.id,
                subject=subject(card.task_id), card=card,
            )
            for card in cards
        ])  # fmt: skip
        return self.t(me.lang, "tasks_header", count=len(cards))

    # --- buttons and the answers they ask for ---------------------------------------------------

    def refusal(self, me: Speaker, result: ActionResult) -> str | None:
        """Success shows in the edited card; only refusals and failures get a message."""
        if result.outcome is Outcome.DONE:
            return None
        return self.t(me.lang, f"action_{result.outcome.value}")

    async def complete(self, me: Speaker, task_id: int, comment: str | None = None) -> str | None:
        assert me.user is not None
        result = await self._actions.complete(
            me.user, task_id, via=me.channel, lang=me.lang, comment=comment
        )
        return self.refusal(me, result)

    async def reassign(self, me: Speaker, task_id: int, assignee_id: int) -> str | None:
        assert me.user is not None
        result = await self._actions.reassign(
            me.user, task_id, assignee_id, via=me.channel, lang=me.lang
        )
        return self.refusal(me, result)

    def snooze_until(self, me: Speaker, choice: str) -> int | None:
        """A snooze button's choice ("15", "60", "tm") as a moment; None if it is not one."""
        now = int(self._clock.now())
        if choice == "tm":
            zone = ZoneInfo(me.reader.timezone)
            day = datetime.fromtimestamp(now, zone).date() + timedelta(days=1)
            return wall_clock(day, datetime.min.time().replace(hour=TOMORROW_AT), zone)
        if choice.isdigit() and 0 < int(choice) <= 7 * 24 * 60:
            return now + int(choice) * 60
        return None

    def typed_moment(self, me: Speaker, text: str) -> int:
        """A typed snooze time ("2h", "fri 10:00", "завтра 9:00"). Raises ParseError."""
        return parse_moment(text, now=int(self._clock.now()), timezone=me.reader.timezone)

    async def snooze(self, me: Speaker, task_id: int, until: int) -> str | None:
        assert me.user is not None
        when = human_moment(self.t, me.reader, until, int(self._clock.now()))
        result = await self._actions.snooze(
            me.user, task_id, until, via=me.channel, lang=me.lang, until_text=when
        )
        return self.refusal(me, result)

    async def press(self, me: Speaker, p: Payload) -> str | None:
        """A button that writes (complete, a snooze choice, an assignee); its refusal text."""
        if p.action is Action.COMPLETE:
            return await self.complete(me, p.task_id)
        if p.action is Action.SNOOZE:
            until = self.snooze_until(me, p.arg)
            if until is None:
                return self.t(me.lang, "action_stale")
            return await self.snooze(me, p.task_id, until)
        if p.action is Action.REASSIGN and p.arg.isdigit():
            return await self.reassign(me, p.task_id, int(p.arg))
        return self.t(me.lang, "action_stale")

    async def deal_press(self, me: Speaker, payload: DealPayload) -> str | None:
        """A deal alert's button; the text to answer (None: the edited cards say it)."""
        if payload.action is DealAction.TAKE:
            return await self.take(me, payload.deal_id)
        return await self.follow_up(me, payload.deal_id)

    async def take(self, me: Speaker, deal_id: int) -> str | None:
        assert me.user is not None
        result = await self._actions.take(me.user, deal_id, via=me.channel, lang=me.lang)
        if result.outcome is Outcome.DONE and result.deal is not None:
            await self._show_taken(result.deal, me.user, me.channel)
            return None
        if result.outcome is Outcome.ALREADY_DONE and result.deal is not None:
            owner = await self._directory.user(result.deal.responsible_user_id)
            return self.t(me.lang, "deal_taken_already", name=owner.name if owner else "?")
        if result.outcome is Outcome.DENIED:
            return self.t(me.lang, "deal_take_denied")
        if result.outcome is Outcome.UNKNOWN:
            return self.t(me.lang, "deal_take_unknown")
        return self.t(me.lang, f"action_{result.outcome.value}")

    async def _show_taken(self, deal: Deal, actor: User, via: str) -> None:
        """Every copy of the deal's alerts: who took it, and no Take button left."""
        url = self._directory.deal_url(deal.id)

        async def card_for(ref: MessageRef) -> Card:
            reader = await self._reminders.reader(ref.recipient) if ref.recipient else None
            lang = reader.lang if reader is not None else DEFAULT_LANG
            t = self.t
            return DealCard(
                deal_id=deal.id, heading=t(lang, "alert_deal_taken"), title=deal.name, url=url,
                outcome=t(lang, "outcome_taken", actor=actor.name, via=t(lang, f"via_{via}")),
                rows=((Button(label=t(lang, "btn_open"), url=url),),),
            )  # fmt: skip

        await self._outbox.edit_everywhere(f"deal:{deal.id}", card_for)

    async def follow_up(self, me: Speaker, deal_id: int) -> str:
        """A follow-up task on the deal, tomorrow 10:00 in the speaker's time; the answer."""
        assert me.user is not None
        zone = ZoneInfo(me.reader.timezone)
        now = int(self._clock.now())
        day = datetime.fromtimestamp(now, zone).date() + timedelta(days=1)
        at = wall_clock(day, datetime.min.time().replace(hour=FOLLOW_UP_AT), zone)
        result = await self._actions.follow_up(me.user, deal_id, at, via=me.channel, lang=me.lang)
        if result.outcome is Outcome.DONE:
            return self.t(
                me.lang, "follow_up_created", when=human_moment(self.t, me.reader, at, now)
            )
        if result.outcome is Outcome.ALREADY_DONE:
            return self.t(me.lang, "follow_up_exists")
        if result.outcome is Outcome.DENIED:
            return self.t(me.lang, "deal_not_visible")
        if result.outcome is Outcome.UNKNOWN:
            return self.t(me.lang, "follow_up_unknown")
        return self.t(me.lang, f"action_{result.outcome.value}")

    async def check_cached(self, me: Speaker, task_id: int) -> tuple[Task | None, str | None]:
        """``check`` on the cached task, without asking amoCRM: for a question that must be
        asked at once (a Slack modal within its trigger's 3 seconds). The write re-checks."""
        assert me.user is not None
        result = await self._actions.check_cached(me.user, task_id)
        if not result.ok or result.task is None:
            return None, self.refusal(me, result) or self.t(me.lang, "action_gone")
        return result.task, None

    async def check(self, me: Speaker, task_id: int) -> tuple[Task | None, str | None]:
        """Before a menu or a question: the task if the speaker may act on it, else why not."""
        assert me.user is not None
        result = await self._actions.check(me.user, task_id)
        if not result.ok or result.task is None:
            return None, self.refusal(me, result) or self.t(me.lang, "action_gone")
        return result.task, None

    async def assignees(self, me: Speaker, task: Task) -> list[User]:
        """Whom the speaker may hand the task to (their amoCRM rights decide)."""
        assert me.user is not None
        users = await self._directory.active_users()
        return assignees(me.user, users, excluding=task.responsible_user_id)
