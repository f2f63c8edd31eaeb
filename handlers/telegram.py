"""Telegram updates in: commands, dialog replies and button presses, translated to the core.

Thin on purpose: parse what Telegram sent, call one service, answer in the user's language.
Every failure a user can cause gets a message from the catalogue; anything unexpected gets a
generic apology and a log line, never exception text.

Over 400 lines on purpose: one router, because aiogram matches handlers in the order they are
registered and that order (dialogs before commands, callbacks by prefix) is part of the behaviour.
The HTTP edge (secret, body limit) is handlers.telegram_edge.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from aiogram import BaseMiddleware, F, Router
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChatMemberRestricted,
    ChatMemberUpdated,
    Document,
    ErrorEvent,
    Message,
    TelegramObject,
)

from bot.admin import (
    ADMIN_COMMANDS,
    MAX_FILE_BYTES,
    UNSUBSCRIBE_PREFIX,
    AdminService,
    ConfigImport,
)
from bot.alerts import Subscriptions, Target
from bot.chat import Conversation, Dialog, Dialogs, failure_key
from bot.chat import commands as cmd
from bot.core import Catalogue, Lang, ParseError, Reply, Task, as_lang, human_duration, log_failure
from bot.crm import Directory
from bot.people import LinkingService, LinkResult, LinkStep, Speaker, TelegramIdentity
from bot.store import Store
from bot.tasks import Action, BadPayload, CardFactory, DealPayload, Payload, unpack, unpack_deal
from integrations.telegram import render_keyboard, topic_address

log = logging.getLogger(__name__)

_P = TypeVar("_P", Payload, DealPayload)

VIA: Literal["telegram"] = "telegram"
# Bot API answers that are not a bug of ours: logged as one line, never as a traceback.
_EXPECTED = (TelegramRetryAfter, TelegramForbiddenError, TelegramUnauthorizedError)


@dataclass(frozen=True, slots=True)
class TelegramDeps:
    conversation: Conversation
    admin: AdminService
    dialogs: Dialogs
    linking: LinkingService
    directory: Directory
    cards: CardFactory
    store: Store
    t: Catalogue
    subscriptions: Subscriptions


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
    t, talk = d.t, d.conversation

    async def who(tg_user_id: int, tg_lang: str | None) -> Speaker:
        return await talk.speaker(VIA, tg_user_id, tg_lang)

    # --- commands -------------------------------------------------------------------------

    @router.message(F.text.startswith("/"))
    async def on_command(message: Message) -> None:
        assert message.from_user is not None
        assert message.text is not None
        me = await who(message.from_user.id, message.from_user.language_code)
        try:
            command = cmd.parse_command(message.text)
        except cmd.CommandError as exc:
            await message.answer(talk.usage(me.lang, exc))
            return
        await d.dialogs.clear(message.from_user.id)
        if isinstance(command, cmd.Start):
            await start(message, me, command.payload)
        elif isinstance(command, cmd.Unlink):
            await message.answer(await talk.unlink(me))
        elif isinstance(command, cmd.Invite):
            await invite(message, me, command.email)
        elif isinstance(command, cmd.Link):
            await message.answer(t(me.lang, "link_in_telegram"))
        elif isinstance(command, ADMIN_COMMANDS):
            await reply(message, await d.admin.run(me, command, here_of(message)), me.lang)
        else:
            answer = await talk.run(me, command)
            if answer is not None:
                await message.answer(answer)

    def here_of(message: Message) -> Target | None:
        shared = message.chat.type in ("group", "supergroup")
        # Typed in a forum's topic: the subscription posts into that topic.
        thread = message.message_thread_id if message.is_topic_message else None
        here = topic_address(message.chat.id, thread)
        return Target(kind="telegram_chat", id=here) if shared else None

    @router.message(F.document)
    async def on_document(message: Message) -> None:
        """A file: only ``/config import`` takes one (as the file's caption)."""
        assert message.from_user is not None
        me = await who(message.from_user.id, message.from_user.language_code)
        try:
            command = cmd.parse_command(message.caption or "")
        except cmd.CommandError:
            command = None
        if not isinstance(command, ConfigImport):
            if message.chat.type == "private":  # a group's files are the group's business
                await message.answer(t(me.lang, "file_unexpected"))
            return
        await import_file(message, me, message.document)

    async def import_file(message: Message, me: Speaker, document: Document | None) -> None:
        """``/config import`` with a YAML file: read only for an admin, and only a small one."""
        bare = ConfigImport(text=None)
        if document is None or me.user is None or not me.user.rights.is_admin:
            await reply(message, await d.admin.run(me, bare, here_of(message)), me.lang)
            return
        if (document.file_size or 0) > MAX_FILE_BYTES:
            await message.answer(t(me.lang, "config_too_big", kb=MAX_FILE_BYTES // 1024))
            return
        assert message.bot is not None
        data = await message.bot.download(document)
        try:
            text = data.read(MAX_FILE_BYTES + 1).decode("utf-8-sig") if data else ""
        except UnicodeDecodeError:
            await message.answer(t(me.lang, "config_not_text"))
            return
        answer = await d.admin.run(me, ConfigImport(text=text), here_of(message))
        await reply(message, answer, me.lang)

    async def start(message: Message, me: Speaker, payload: str | None) -> None:
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
            await talk.resume(me)
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
            await talk.linked(result.user)
            await message.answer(await talk.linked_text(result.user))
            return
        if result.step is LinkStep.CODE_WRONG:
            await message.answer(t(lang, "code_wrong", left=result.attempts_left or 0))
            return
        if result.step is not LinkStep.EMAIL_NOT_FOUND:  # a typo in the e-mail may be retried
            await d.dialogs.clear(identity.user_id)
        wait = human_duration(t, lang, result.wait_minutes or 0)
        await message.answer(t(lang, f"link_{result.step.value}", name=name, wait=wait))

    async def invite(message: Message, me: Speaker, email: str) -> None:
        if me.user is None:
            await message.answer(t(me.lang, "not_linked_telegram"))
            return
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
            await message.answer(t(me.lang, "not_linked_telegram"))
        elif dialog.kind == "comment":
            if not text:  # a blank reply is no result: ask again rather than complete without
                cached = await d.store.get_task(dialog.task_id)
                task_text = cached.value.text[:200] if cached else ""
                await message.answer(t(me.lang, "ask_comment", text=task_text))
                return
            await d.dialogs.clear(message.from_user.id)
            await answer(message, await talk.complete(me, dialog.task_id, comment=text[:2000]))
        elif dialog.kind == "snooze":
            try:
                until = talk.typed_moment(me, text)
            except ParseError as exc:
                await message.answer(talk.usage(me.lang, exc))
                return
            await d.dialogs.clear(message.from_user.id)
            await answer(message, await talk.snooze(me, dialog.task_id, until))

    async def reply(message: Message, answer: Reply, lang: Lang) -> None:
        if answer.file is not None:
            await send_file(message, answer, lang)
            return
        keyboard = render_keyboard(answer.rows) if answer.rows else None
        await message.answer(answer.text, reply_markup=keyboard)

    async def send_file(message: Message, answer: Reply, lang: Lang) -> None:
        """A file answer (a report, an export, the set-up) goes to the asker's private chat:
        asked for in a group, it would be there for everyone in it to read."""
        assert answer.file is not None
        assert message.from_user is not None
        assert message.bot is not None
        upload = BufferedInputFile(answer.file.content, filename=answer.file.name)
        private = message.chat.type == "private"
        chat_id = message.chat.id if private else message.from_user.id
        try:
            if answer.file.photo:
                await message.bot.send_photo(chat_id, upload, caption=answer.text)
            else:
                await message.bot.send_document(chat_id, upload, caption=answer.text)
        except TelegramAPIError as exc:
            if private:
                raise
            log.warning("telegram: file for %s not sent privately: %s", chat_id, exc)
            await message.answer(t(lang, "telegram_file_not_sent"))
            return
        if not private:
            await message.answer(t(lang, "telegram_file_sent", name=answer.file.name))

    async def answer(message: Message, text: str | None) -> None:
        if text is not None:
            await message.answer(text)

    # --- buttons ------------------------------------------------------------------------

    @router.callback_query()
    async def on_button(query: CallbackQuery) -> None:
        # Answer first: the spinner stops at once, and a slow amoCRM cannot make it "too old".
        await query.answer()
        message = query.message
        if not isinstance(message, Message):
            return  # too old to edit; Telegram no longer shows its content to the bot
        me = await who(query.from_user.id, query.from_user.language_code)
        data = query.data or ""
        if data.startswith("d:"):  # a deal alert's button
            await deal_button(message, me, data)
            return
        if data.startswith(UNSUBSCRIBE_PREFIX):  # a remove button of /subscriptions
            subscription_id = data[len(UNSUBSCRIBE_PREFIX) :]
            await reply(message, await d.admin.press_unsubscribe(me, subscription_id), me.lang)
            return
        payload = await decoded(message, me, unpack, data)
        if payload is not None:
            await press(message, me, payload)

    async def deal_button(message: Message, me: Speaker, data: str) -> None:
        payload = await decoded(message, me, unpack_deal, data)
        if payload is not None:
            await answer(message, await talk.deal_press(me, payload))

    async def decoded(
        message: Message, me: Speaker, decode: Callable[[str], _P], data: str
    ) -> _P | None:
        """The button's payload, if it is one and the presser is linked; else they are told."""
        try:
            payload = decode(data)
        except BadPayload:
            await message.answer(t(me.lang, "action_stale"))
            return None
        if me.user is None:
            await message.answer(t(me.lang, "not_linked_telegram"))
            return None
        return payload

    async def press(message: Message, me: Speaker, p: Payload) -> None:
        writes = p.action in (Action.COMPLETE, Action.REASSIGN) or (
            p.action is Action.SNOOZE and p.arg != "cu"
        )
        if writes:
            await answer(message, await talk.press(me, p))
            return
        # The rest open a menu or a question: check first that the presser may act at all.
        task, refusal = await talk.check(me, p.task_id)
        if task is None:
            await answer(message, refusal)
            return
        if p.action is Action.COMMENT:
            await d.dialogs.set(int(me.account_id), Dialog(kind="comment", task_id=task.id))
            await message.answer(t(me.lang, "ask_comment", text=task.text[:200]))
        elif p.action is Action.SNOOZE:
            await d.dialogs.set(int(me.account_id), Dialog(kind="snooze", task_id=task.id))
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

    async def reassign_menu(message: Message, me: Speaker, task: Task, page: int) -> None:
        people = await talk.assignees(me, task)
        if not people:
            await message.answer(t(me.lang, "reassign_nobody"))
            return
        await message.edit_reply_markup(
            reply_markup=render_keyboard(d.cards.reassign_rows(task, me.lang, people, page))
        )

    @router.my_chat_member()
    async def on_bot_status(update: ChatMemberUpdated) -> None:
        """The bot was added back to a group, or may post there again: what was paused for that
        chat (``alerts.ChatGuard``) resumes. Its removal needs no handler: the next send says."""
        if update.chat.type not in ("group", "supergroup"):
            return
        member = update.new_chat_member
        may_post = member.status in ("member", "administrator", "creator") or (
            isinstance(member, ChatMemberRestricted) and member.can_send_messages
        )
        if may_post:
            await d.subscriptions.resume_chat("telegram_chat", str(update.chat.id))

    @router.errors()
    async def on_error(event: ErrorEvent) -> bool:
        if isinstance(event.exception, _EXPECTED):
            # Telegram's own answer (flood control past our retries, the bot blocked or
            # kicked): nothing to fix in the code, and no way to tell the person right now.
            log.warning("update %s: telegram answered %s", event.update.update_id,
                        type(event.exception).__name__)  # fmt: skip
            return True
        log_failure(log, event.exception, "update %s failed", event.update.update_id)
        target = event.update.message or (
            event.update.callback_query.message if event.update.callback_query else None
        )
        if isinstance(target, Message):
            # The presser of a button, not the card's author (the bot), when it was a press.
            query, said = event.update.callback_query, event.update.message
            sender = query.from_user if query else (said.from_user if said else None)
            lang = as_lang(sender.language_code if sender else None)
            try:
                await target.answer(t(lang, failure_key(event.exception)))
            except Exception:
                log.exception("could not tell the user about the failure")
        return True

    return router
