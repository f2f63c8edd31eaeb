"""setMyCommands / getMyCommands: per language and per scope, exactly as stored."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from sandbox.telegram import TelegramEmulator
from tests.sandbox.telegram.helpers import api_error

EN = [BotCommand(command="tasks", description="Today's tasks")]
RU = [
    BotCommand(command="tasks", description="Задачи на сегодня"),
    BotCommand(command="remind", description="Когда напоминать"),
]


async def test_commands_are_kept_per_language(tg: TelegramEmulator, bot: Bot) -> None:
    assert await bot.set_my_commands(EN) is True
    assert await bot.set_my_commands(RU, language_code="ru") is True
    assert [c.command for c in await bot.get_my_commands(language_code="ru")] == [
        "tasks",
        "remind",
    ]
    assert [c.model_dump() for c in await bot.get_my_commands()] == [c.model_dump() for c in EN]
    assert tg.commands() == [{"command": "tasks", "description": "Today's tasks"}]
    assert tg.commands(language_code="ru")[0]["description"] == "Задачи на сегодня"
    assert tg.commands(language_code="de") == []  # no fallback, as getMyCommands


async def test_commands_are_kept_per_scope(tg: TelegramEmulator, bot: Bot, ivan: int) -> None:
    await bot.set_my_commands(EN, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(RU, scope=BotCommandScopeChat(chat_id=ivan), language_code="ru")
    assert tg.commands(scope="all_private_chats") == [c.model_dump(exclude_none=True) for c in EN]
    assert len(tg.commands("ru", scope={"type": "chat", "chat_id": ivan})) == 2
    assert tg.commands() == []


async def test_an_empty_list_deletes_and_so_does_delete(tg: TelegramEmulator, bot: Bot) -> None:
    await bot.set_my_commands(EN)
    await bot.set_my_commands([])
    assert tg.commands() == []
    await bot.set_my_commands(EN, language_code="en")
    assert await bot.delete_my_commands(language_code="en") is True
    assert await bot.get_my_commands(language_code="en") == []


async def test_bad_commands_and_languages_are_refused(bot: Bot) -> None:
    bad = [BotCommand(command="Tasks!", description="x")]
    error = await api_error(TelegramBadRequest, bot.set_my_commands(bad))
    assert error.message == "Bad Request: BOT_COMMAND_INVALID"
    error = await api_error(TelegramBadRequest, bot.set_my_commands(EN, language_code="rus"))
    assert error.message == "Bad Request: invalid language code specified"
    error = await api_error(
        TelegramBadRequest, bot.set_my_commands(EN, scope=BotCommandScopeChat(chat_id=-1))
    )
    assert error.message == "Bad Request: chat not found"
