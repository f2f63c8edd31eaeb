"""Telegram updates in: commands, dialog replies and button presses, translated to the core.

Thin on purpose: parse what Telegram sent, call one service, answer in the user's language.
Every failure a user can cause gets a message from the catalogue; anything unexpected gets a
generic apology and a log line, never exception text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from aiogram import BaseMiddleware, F, Router
from aiogram.types import CallbackQuery, ErrorEvent, Message, TelegramObject

from bot import commands as cmd
from bot.actions import ActionResult, Outcome, TaskActions
from bot.buttons import Action, BadPayload, Payload, unpack
from bot.cards import CardFactory, Reader, human_duration, human_moment
from bot.clock import Clock
from bot.delivery import Outbox, OutboxItem
from bot.dialogs import Dialog, Dialogs
from bot.directory import Directory
from bot.domain import Task, User
from bot.durations import ParseError, parse_moment
from bot.i18n import Catalogue, Lang, as_lang
from bot.linking import LinkingService, LinkResult, LinkStep, TelegramIdentity
from bot.links import Links, TelegramLink
from bot.prefs import Prefs, language, timezone
from bot.reminders import wall_clock
from bot.reminding import ReminderService, subject
from bot.rights import assignees
from bot.store import Store
from integrations.telegram.render import render_keyboard

log = logging.getLogger(__name__)

VIA = "telegram"
TOMORROW_AT = (9, 0)


@dataclass(frozen=True, slots=True)
class TelegramDeps:
    store: Store
    directory: Directory
    links: Links
    prefs: Prefs
    dialogs: Dialogs
    linking: LinkingService
    actions: TaskActions
    reminders: ReminderService
    cards: CardFactory
    outbox: Outbox
    clock: Clock
    t: Catalogue


@dataclass(frozen=True, slots=True)
class Who:
    """The sender of an update, as far as amobridge knows them."""

    tg_id: int
    lang: Lang
    link: TelegramLink | None
    user: User | None
    reader: Reader


class InOrder(BaseMiddleware):
    """A user's messages are handled in the order they were sent.

    aiogram handles updates concurrently; an e-mail typed right after ``/start`` must still find
    the question ``/start`` asked. Button presses are left concurrent: they must be answered at
    once, and the per-task lease in ``TaskActions`` orders what they write.
    """

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if user is None:
            return await handler(event, data)
        lock, users = self._locks.get(user.id, (asyncio.Lock(), 0))
        self._locks[user.id] = (lock, users + 1)
        try:
            async with lock:
                return await handler(event, data)
        finally:
            lock, users = self._locks[user.id]
            if users == 1:
                del self._locks[user.id]
            else:
                self._locks[user.id] = (lock, users - 1)


def make_router(d: TelegramDeps) -> Router:
    router = Router(name="amobridge")
    router.message.outer_middleware(InOrder())
    t = d.t

    async def who(tg_user_id: int, tg_lang: str | None) -> Who:
        link = await d.links.by_telegram(tg_user_id)
        account = await d.directory.account()
        if link is None:
            lang = as_lang(tg_lang)
            return Who(tg_user_id, lang, None, None, Reader(lang=lang, timezone=account.timezone))
        prefs = await d.prefs.get(link.amo_user_id)
        user = await d.directory.user(link.amo_user_id)
        reader = Reader(lang=language(prefs, user), timezone=timezone(prefs, account))
        return Who(tg_user_id, reader.lang, link, user, reader)

    def usage(lang: Lang, exc: cmd.CommandError | ParseError) -> str:
        text = t(lang, exc.code)
        example = getattr(exc, "usage", None) or "usage_snooze"
        return f"{text}\n{t(lang, example)}"

    # --- commands -------------------------------------------------------------------------

    @router.message(F.text.startswith("/"))
    async def on_command(message: Message) -> None:
        assert message.from_user is not None
        assert message.text is not None
        me = await who(message.from_user.id, message.from_user.language_code)
        try:
            command = cmd.parse_command(message.text)
        except cmd.CommandError as exc:
            await message.answer(usage(me.lang, exc))
            return
        await d.dialogs.clear(message.from_user.id)
        if isinstance(command, cmd.Start):
            await start(message, me, command.payload)
        elif isinstance(command, cmd.Help):
            await message.answer(t(me.lang, "help"))
        elif me.link is None or me.user is None:
            await message.answer(t(me.lang, "not_linked"))
        elif isinstance(command, cmd.Tasks):
            await tasks(message, me)
        elif isinstance(command, cmd.Remind):
            await d.prefs.update(me.user.id, lead_minutes=command.lead_minutes)
            await d.reminders.reschedule_user(me.user.id)
            await message.answer(lead_times_text(me.lang, command.lead_minutes))
        elif isinstance(command, cmd.SetTimezone):
            await set_timezone(message, me, command.timezone)
        elif isinstance(command, cmd.SetLanguage):
            if command.lang is None:
                await message.answer(t(me.lang, "lang_current") + "\n" + t(me.lang, "usage_lang"))
            else:
                await d.prefs.update(me.user.id, lang=command.lang)
                await message.answer(t(command.lang, "lang_set"))
        elif isinstance(command, cmd.Unlink):
            await d.links.unlink(me.link)
            await d.reminders.reschedule_user(me.user.id)
            await message.answer(t(me.lang, "unlinked"))
        elif isinstance(command, cmd.Invite):
            await invite(message, me, command.email)

    def lead_times_text(lang: Lang, minutes: tuple[int, ...]) -> str:
        if not minutes:
            return t(lang, "remind_off")
        durations = ", ".join(human_duration(t, lang, m) for m in minutes)
        return t(lang, "remind_set", lead=durations)

    async def start(message: Message, me: Who, payload: str | None) -> None:
        assert message.from_user is not None
        identity = TelegramIdentity(
            user_id=message.from_user.id,
            chat_id=message.chat.id,
            username=message.from_user.username,
        )
        if payload:
            result = await d.linking.accept_invite(identity, payload)
            await after_link(message, identity, result, me.lang)
            return
        if me.link is not None and me.user is not None:
            if me.link.paused:
                await d.links.set_paused(me.user.id, False)
                await d.reminders.reschedule_user(me.user.id)
            await message.answer(t(me.lang, "start_linked", name=me.user.name))
            return
        await d.dialogs.set(message.from_user.id, Dialog(kind="email"))
        await message.answer(t(me.lang, "start_welcome"))

    async def after_link(
        message: Message, identity: TelegramIdentity, result: LinkResult, lang: Lang
    ) -> None:
        name = result.user.name if result.user else ""
        if result.step is LinkStep.LINKED and result.user is not None:
            await d.dialogs.clear(identity.user_id)
            await d.reminders.reschedule_user(result.user.id)
            prefs = await d.prefs.get(result.user.id)
            lang = language(prefs, result.user)
            lead = lead_times_text(lang, prefs.lead_minutes or (60, 15))
            await message.answer(t(lang, "linked_ok", name=name) + "\n" + lead)
            return
        if result.step is LinkStep.CODE_WRONG:
            await message.answer(t(lang, "code_wrong", left=result.attempts_left or 0))
            return
        if result.step is not LinkStep.EMAIL_NOT_FOUND:  # a typo in the e-mail may be retried
            await d.dialogs.clear(identity.user_id)
        await message.answer(t(lang, f"link_{result.step.value}", name=name))

    async def tasks(message: Message, me: Who) -> None:
        assert me.user is not None
        assert me.link is not None
        now = int(d.clock.now())
        zone = ZoneInfo(me.reader.timezone)
        tomorrow = datetime.fromtimestamp(now, zone).date() + timedelta(days=1)
        end_of_today = wall_clock(tomorrow, datetime.min.time(), zone)
        due = [
            x for x in await d.store.list_open_tasks(me.user.id) if x.complete_till < end_of_today
        ]
        if not due:
            await message.answer(t(me.lang, "tasks_none"))
            return
        await message.answer(t(me.lang, "tasks_header", count=len(due)))
        items = []
        for task in due:
            deal = await d.store.get_deal(task.deal_id) if task.deal_id else None
            card = await d.cards.task_card(task, me.reader, now, deal=deal.value if deal else None)
            items.append(OutboxItem(
                channel=VIA, chat_id=str(me.link.chat_id), recipient=me.user.id,
                subject=subject(task.id), card=card,
            ))  # fmt: skip
        await d.outbox.enqueue(items)

    async def set_timezone(message: Message, me: Who, tz: str | None) -> None:
        assert me.user is not None
        if tz is None:
            await message.answer(t(me.lang, "tz_current", tz=me.reader.timezone))
            return
        await d.prefs.update(me.user.id, timezone=tz)
        await d.reminders.reschedule_user(me.user.id)
        local = datetime.fromtimestamp(d.clock.now(), ZoneInfo(tz)).strftime("%H:%M")
        await message.answer(t(me.lang, "tz_set", tz=tz, time=local))

    async def invite(message: Message, me: Who, email: str) -> None:
        assert me.user is not None
        if not me.user.rights.is_admin:
            await message.answer(t(me.lang, "invite_not_admin"))
            return
        target = await d.directory.user_by_email(email)
        if target is None:
            await message.answer(t(me.lang, "link_email_not_found", name=email))
            return
        code = await d.linking.create_invite(target.id)
        assert message.bot is not None
        bot_user = await message.bot.me()  # aiogram keeps getMe's answer
        link = f"https://t.me/{bot_user.username}?start={code}"
        await message.answer(t(me.lang, "invite_created", name=target.name, link=link))

    # --- dialog replies (plain text) ------------------------------------------------------

    @router.message(F.text)
    async def on_text(message: Message) -> None:
        assert message.from_user is not None
        assert message.text is not None
        me = await who(message.from_user.id, message.from_user.language_code)
        dialog = await d.dialogs.get(message.from_user.id)
        identity = TelegramIdentity(
            user_id=message.from_user.id,
            chat_id=message.chat.id,
            username=message.from_user.username,
        )
        text = message.text.strip()
        if dialog is None:
            await message.answer(t(me.lang, "no_dialog"))
        elif dialog.kind == "email":
            if "@" not in text or " " in text:
                await message.answer(t(me.lang, "email_expected"))
                return
            result = await d.linking.request_code(identity, text)
            if result.step is LinkStep.CODE_SENT and result.user is not None:
                await d.dialogs.set(message.from_user.id, Dialog(kind="code"))
                await message.answer(t(me.lang, "code_sent", name=result.user.name))
                return
            await after_link(message, identity, result, me.lang)
        elif dialog.kind == "code":
            result = await d.linking.submit_code(identity, text)
            await after_link(message, identity, result, me.lang)
        elif me.user is None or dialog.task_id is None:
            await d.dialogs.clear(message.from_user.id)
            await message.answer(t(me.lang, "not_linked"))
        elif dialog.kind == "comment":
            if not text:  # a blank reply is no result: ask again rather than complete without
                cached = await d.store.get_task(dialog.task_id)
                task_text = cached.value.text[:200] if cached else ""
                await message.answer(t(me.lang, "ask_comment", text=task_text))
                return
            await d.dialogs.clear(message.from_user.id)
            done = await d.actions.complete(
                me.user, dialog.task_id, via=VIA, lang=me.lang, comment=text[:2000]
            )
            await report(message, me, done)
        elif dialog.kind == "snooze":
            try:
                until = parse_moment(text, now=int(d.clock.now()), timezone=me.reader.timezone)
            except ParseError as exc:
                await message.answer(usage(me.lang, exc))
                return
            await d.dialogs.clear(message.from_user.id)
            await snooze(message, me, dialog.task_id, until)

    async def snooze(message: Message, me: Who, task_id: int, until: int) -> None:
        assert me.user is not None
        when = human_moment(t, me.reader, until, int(d.clock.now()))
        result = await d.actions.snooze(
            me.user, task_id, until, via=VIA, lang=me.lang, until_text=when
        )
        await report(message, me, result)

    async def report(message: Message, me: Who, result: ActionResult) -> None:
        """Success shows in the edited card; only refusals and failures get a message."""
        if result.outcome is not Outcome.DONE:
            await message.answer(t(me.lang, f"action_{result.outcome.value}"))

    # --- buttons ------------------------------------------------------------------------

    @router.callback_query()
    async def on_button(query: CallbackQuery) -> None:
        # Answer first: the spinner stops at once, and a slow amoCRM cannot make it "too old".
        await query.answer()
        message = query.message
        if not isinstance(message, Message):
            return  # too old to edit; Telegram no longer shows its content to the bot
        me = await who(query.from_user.id, query.from_user.language_code)
        try:
            payload = unpack(query.data or "")
        except BadPayload:
            await message.answer(t(me.lang, "action_stale"))
            return
        if me.user is None:
            await message.answer(t(me.lang, "not_linked"))
            return
        await press(message, me, payload)

    async def press(message: Message, me: Who, p: Payload) -> None:
        assert me.user is not None
        if p.action is Action.COMPLETE:
            await report(message, me, await d.actions.complete(me.user, p.task_id, via=VIA,
                                                                lang=me.lang))  # fmt: skip
            return
        if p.action is Action.SNOOZE and p.arg not in ("cu", ""):
            now = int(d.clock.now())
            if p.arg == "tm":
                zone = ZoneInfo(me.reader.timezone)
                day = datetime.fromtimestamp(now, zone).date() + timedelta(days=1)
                until = wall_clock(day, datetime.min.time().replace(hour=TOMORROW_AT[0]), zone)
            elif p.arg.isdigit():
                until = now + int(p.arg) * 60
            else:
                await message.answer(t(me.lang, "action_stale"))
                return
            await snooze(message, me, p.task_id, until)
            return
        if p.action is Action.REASSIGN:
            if not p.arg.isdigit():
                await message.answer(t(me.lang, "action_stale"))
                return
            result = await d.actions.reassign(me.user, p.task_id, int(p.arg), via=VIA,
                                              lang=me.lang)  # fmt: skip
            await report(message, me, result)
            return
        # The rest open a menu or a question: check first that the presser may act at all.
        check = await d.actions.check(me.user, p.task_id)
        if not check.ok or check.task is None:
            await report(message, me, check)
            return
        task = check.task
        if p.action is Action.COMMENT:
            await d.dialogs.set(me.tg_id, Dialog(kind="comment", task_id=task.id))
            await message.answer(t(me.lang, "ask_comment", text=task.text[:200]))
        elif p.action is Action.SNOOZE:
            await d.dialogs.set(me.tg_id, Dialog(kind="snooze", task_id=task.id))
            await message.answer(t(me.lang, "ask_snooze"))
        elif p.action is Action.SNOOZE_MENU:
            await message.edit_reply_markup(
                reply_markup=render_keyboard(d.cards.snooze_rows(task, me.lang))
            )
        elif p.action is Action.REASSIGN_MENU:
            await reassign_menu(message, me, task, int(p.arg) if p.arg.isdigit() else 0)
        elif p.action is Action.BACK:
            await message.edit_reply_markup(
                reply_markup=render_keyboard(d.cards.main_rows(task, me.lang))
            )

    async def reassign_menu(message: Message, me: Who, task: Task, page: int) -> None:
        assert me.user is not None
        people = assignees(
            me.user, await d.directory.active_users(), excluding=task.responsible_user_id
        )
        if not people:
            await message.answer(t(me.lang, "reassign_nobody"))
            return
        await message.edit_reply_markup(
            reply_markup=render_keyboard(d.cards.reassign_rows(task, me.lang, people, page))
        )

    @router.errors()
    async def on_error(event: ErrorEvent) -> bool:
        log.error("update %s failed", event.update.update_id, exc_info=event.exception)
        target = event.update.message or (
            event.update.callback_query.message if event.update.callback_query else None
        )
        if isinstance(target, Message):
            sender = event.update.message.from_user if event.update.message else None
            lang = as_lang(sender.language_code if sender else None)
            try:
                await target.answer(t(lang, "error_generic"))
            except Exception:
                log.exception("could not tell the user about the failure")
        return True

    return router
