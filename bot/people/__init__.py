"""Who is who and how to reach them: links between messenger accounts and amoCRM users (by a
code in amoCRM for Telegram, by e-mail for Slack), each person's own settings, quiet hours and
mute, which messenger reaches them, messages held until a hold ends, and what happens when a
messenger refuses someone for good.
"""

from bot.people.admins import admin_notices
from bot.people.build import PeopleParts, build_people
from bot.people.code_linking import LinkingService, LinkResult, LinkStep, TelegramIdentity
from bot.people.email_linking import EmailLinking, EmailLinkResult, EmailLinkStep, MessengerAccount
from bot.people.holding import RELEASE_QUEUE, HeldMessages
from bot.people.links import ChannelLink, Links, Speaker
from bot.people.prefs import Prefs, UserPrefs, language, timezone
from bot.people.quiet import MAX_MUTE_MINUTES
from bot.people.reach import Reach
from bot.people.refusals import LinkGuard

__all__ = [
    "MAX_MUTE_MINUTES",
    "RELEASE_QUEUE",
    "ChannelLink",
    "EmailLinkResult",
    "EmailLinkStep",
    "EmailLinking",
    "HeldMessages",
    "LinkGuard",
    "LinkResult",
    "LinkStep",
    "LinkingService",
    "Links",
    "MessengerAccount",
    "PeopleParts",
    "Prefs",
    "Reach",
    "Speaker",
    "TelegramIdentity",
    "UserPrefs",
    "admin_notices",
    "build_people",
    "language",
    "timezone",
]
