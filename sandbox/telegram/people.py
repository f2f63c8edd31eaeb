"""The people side: users who write to the bot, press its buttons and block it.

Each action becomes the update Telegram would send (message, callback_query, my_chat_member).
What a real client could not do (press a button that is not on the message, write to a chat one
is not in) raises ValueError, so a test cannot fake an impossible interaction by mistake.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from sandbox.telegram import wire
from sandbox.telegram.formatting import command_entities
from sandbox.telegram.keyboard import has_callback_button
from sandbox.telegram.records import ChatMessage, FileRecord, JsonDict
from sandbox.telegram.state import BotState, ChatRecord, IssuedCallback, UserRecord
from sandbox.telegram.updates import UpdateQueue

# The rights a ChatMemberRestricted states besides can_send_messages (all off here).
_OTHER_RIGHTS = (
    "can_send_audios", "can_send_documents", "can_send_photos", "can_send_videos",
    "can_send_video_notes", "can_send_voice_notes", "can_send_polls", "can_send_other_messages",
    "can_add_web_page_previews", "can_react_to_messages", "can_edit_tag", "can_change_info",
    "can_invite_users", "can_pin_messages", "can_manage_topics",
)  # fmt: skip


class People:
    def __init__(self, state: BotState, updates: UpdateQueue) -> None:
        self._state = state
        self._updates = updates

    # -- who exists --

    def add_user(
        self,
        first_name: str,
        username: str | None = None,
        language_code: str | None = None,
        *,
        last_name: str | None = None,
        started: bool = False,
    ) -> int:
        """A Telegram user; their private chat id is the same number. Until they write to the
        bot (or `started=True`), sending to them answers "chat not found"."""
        if not first_name:
            raise ValueError("a Telegram user needs a first name")
        return self._state.add_user(
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            started=started,
        )

    def add_group(self, title: str, members: Iterable[int] = (), *, forum: bool = False) -> int:
        """A group chat with the bot in it (a supergroup with topics if ``forum``); returns
        its (negative) id."""
        if not title:
            raise ValueError("a group needs a title")
        return self._state.add_group(title, frozenset(members), forum)

    def add_topic(self, group_id: int) -> int:
        """A member opens a topic in a forum; returns its message_thread_id."""
        chat = self._state.chat(group_id)
        if not chat.is_forum:
            raise ValueError(f"chat {group_id} has no topics")
        thread = self._state.next_message_id(group_id)  # the topic's first (service) message
        self._state.chats[group_id] = replace(chat, topics=chat.topics | {thread})
        return thread

    def set_bot_can_post(self, group_id: int, allowed: bool, by_user: int | None = None) -> None:
        """An admin of the group (``by_user``: a member) gives or takes the bot's right to send
        messages: the bot is told (my_chat_member, "restricted" while it may not post)."""
        chat = self._state.chat(group_id)
        actor = self._state.user(by_user if by_user is not None else min(chat.members))
        self._state.chats[group_id] = replace(chat, can_post=allowed)
        old, new = ("restricted", "member") if allowed else ("member", "restricted")
        self._bot_status_changed(chat, actor, old, new)

    # -- what they do --

    def _chat_of(self, person: UserRecord, chat_id: int | None) -> ChatRecord:
        if person.deactivated:
            raise ValueError(f"user {person.id} has deleted their account")
        chat = self._state.chat(person.id if chat_id is None else chat_id)
        if chat.type == "private":
            if chat.user_id != person.id:
                raise ValueError(f"user {person.id} is not in the private chat {chat.id}")
            if person.blocked:
                raise ValueError(f"user {person.id} has blocked the bot: unblock_bot first")
        elif person.id not in chat.members:
            raise ValueError(f"user {person.id} is not a member of group {chat.id}")
        elif not chat.bot_member:
            raise ValueError(f"the bot is no longer in group {chat.id}")
        return chat

    def say(
        self, user_id: int, text: str, chat_id: int | None = None, thread_id: int | None = None
    ) -> int:
        """The user sends `text` (in topic ``thread_id`` of a forum); returns the message id.
        Opening the private chat starts it."""
        if not text:
            raise ValueError("a message needs text")
        person = self._state.user(user_id)
        chat = self._chat_of(person, chat_id)
        if thread_id is not None and thread_id not in chat.topics:
            raise ValueError(f"no topic {thread_id} in chat {chat.id}")
        if chat.type == "private" and not person.started:
            person = self._state.update_user(user_id, started=True)
        state = self._state
        stored = ChatMessage(
            chat_id=chat.id,
            message_id=state.next_message_id(chat.id),
            from_bot=False,
            sender_id=person.id,
            text=text,
            html=None,
            entities=command_entities(text),
            date=state.date(),
            thread_id=thread_id,
        )
        state.put_message(stored)
        self._updates.push("message", wire.message(state, stored))
        return stored.message_id

    async def send_document(
        self,
        user_id: int,
        file_name: str,
        data: bytes,
        *,
        caption: str | None = None,
        mime_type: str = "application/octet-stream",
        chat_id: int | None = None,
    ) -> int:
        """The user sends a file (with an optional caption, a /command in it marked as in
        text); returns the message id. Async, as what people do is on the handle."""
        if not file_name:
            raise ValueError("a document needs a file name")
        person = self._state.user(user_id)
        chat = self._chat_of(person, chat_id)
        state = self._state
        file_id, unique_id = state.new_file_ids()
        record = FileRecord(file_id=file_id, file_unique_id=unique_id, kind="document",
                            file_name=file_name, mime_type=mime_type, data=data)  # fmt: skip
        state.files[file_id] = record
        stored = ChatMessage(
            chat_id=chat.id,
            message_id=state.next_message_id(chat.id),
            from_bot=False,
            sender_id=person.id,
            text=caption or "",
            html=None,
            entities=command_entities(caption or ""),
            date=state.date(),
            document=record,
        )
        state.put_message(stored)
        self._updates.push("message", wire.message(state, stored))
        return stored.message_id

    async def press(self, user_id: int, chat_id: int, message_id: int, callback_data: str) -> str:
        """The user presses an inline button that is on the message now; returns the
        callback query id. ValueError when no such button is there."""
        person = self._state.user(user_id)
        chat = self._chat_of(person, chat_id)
        current = self._state.message(chat.id, message_id)
        if current is None or current.deleted or not current.from_bot:
            raise ValueError(f"no bot message {message_id} in chat {chat.id}")
        if not has_callback_button(current.reply_markup, callback_data):
            raise ValueError(
                f"message {message_id} in chat {chat.id} has no button with callback_data "
                f"{callback_data!r}; it has {list(current.callback_data)}"
            )
        state = self._state
        query_id = state.new_query_id()
        state.callbacks[query_id] = IssuedCallback(
            query_id=query_id,
            chat_id=chat.id,
            message_id=message_id,
            user_id=user_id,
            data=callback_data,
            issued_at=state.now(),
        )
        self._updates.push(
            "callback_query",
            {
                "id": query_id,
                "from": wire.user(person),
                "message": wire.message(state, current),
                "chat_instance": chat.chat_instance,
                "data": callback_data,
            },
        )
        return query_id

    def _bot_status_changed(self, chat: ChatRecord, actor: UserRecord, old: str, new: str) -> None:
        bot = wire.bot_user(self._state.bot)
        old_member: JsonDict = {"status": old, "user": bot}
        new_member: JsonDict = {"status": new, "user": bot}
        for member in (old_member, new_member):
            if member["status"] == "kicked":
                member["until_date"] = 0
            if member["status"] == "restricted":  # what ChatMemberRestricted carries
                member |= {"is_member": True, "until_date": 0, "can_send_messages": False,
                           **dict.fromkeys(_OTHER_RIGHTS, False)}  # fmt: skip
        self._updates.push(
            "my_chat_member",
            {
                "chat": wire.chat(self._state, chat),
                "from": wire.user(actor),
                "date": self._state.date(),
                "old_chat_member": old_member,
                "new_chat_member": new_member,
            },
        )

    def block(self, user_id: int) -> None:
        person = self._state.user(user_id)
        if person.blocked:
            return
        self._state.update_user(user_id, blocked=True)
        self._bot_status_changed(self._state.chat(user_id), person, "member", "kicked")

    def unblock(self, user_id: int) -> None:
        person = self._state.user(user_id)
        if not person.blocked:
            return
        self._state.update_user(user_id, blocked=False)
        self._bot_status_changed(self._state.chat(user_id), person, "kicked", "member")

    def deactivate(self, user_id: int) -> None:
        """The account is deleted: sends answer 403 "user is deactivated"."""
        self._state.update_user(user_id, deactivated=True)

    def remove_bot(self, group_id: int, by_user: int) -> None:
        """A member removes the bot from a group: sends answer 403 "bot was kicked"."""
        chat = self._state.chat(group_id)
        actor = self._state.user(by_user)
        if chat.type == "private" or not chat.bot_member:
            raise ValueError(f"the bot is not in group {group_id}")
        self._state.chats[group_id] = replace(chat, bot_member=False)
        self._bot_status_changed(chat, actor, "member", "kicked")
