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
from bot.people.hours import (
    DEFAULT_HOURS,
    HoursError,
    WorkingHours,
    format_hours,
    parse_hours,
    within_hours,
)
from bot.people.links import ChannelLink, Links, Speaker
from bot.people.prefs import (
    MAX_OTHER_MESSENGER_MIN,
    MIN_OTHER_MESSENGER_MIN,
    AccountPrefs,
    Prefs,
    UserPrefs,
    chosen_hours,
    language,
    timezone,
    working_hours,
)
from bot.people.quiet import MAX_MUTE_MINUTES
from bot.people.reach import Reach
from bot.people.refusals import LinkGuard

__all__ = [
    "DEFAULT_HOURS",
    "MAX_MUTE_MINUTES",
    "MAX_OTHER_MESSENGER_MIN",
    "MIN_OTHER_MESSENGER_MIN",
    "RELEASE_QUEUE",
    "AccountPrefs",
    "ChannelLink",
    "EmailLinkResult",
    "EmailLinkStep",
    "EmailLinking",
    "HeldMessages",
    "HoursError",
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
    "WorkingHours",
    "admin_notices",
    "build_people",
    "chosen_hours",
    "format_hours",
    "language",
    "parse_hours",
    "timezone",
    "within_hours",
    "working_hours",
]
