"""The channel-neutral conversation: the command grammar every person uses, what a command or a
press is answered with, short dialogs (the bot asked and waits), and a person's own settings
commands. Handlers in ``handlers/`` translate a platform's updates into calls here.
"""

from bot.chat import commands
from bot.chat.build import build_conversation
from bot.chat.commands import MENU
from bot.chat.conversation import Conversation
from bot.chat.dialogs import Dialog, Dialogs
from bot.chat.failures import failure_key
from bot.chat.own_settings import OwnSettings

__all__ = [
    "MENU",
    "Conversation",
    "Dialog",
    "Dialogs",
    "OwnSettings",
    "build_conversation",
    "commands",
    "failure_key",
]
