"""The admins' commands, one grammar for Telegram and Slack: subscriptions, supervisors,
thresholds, previews, ``/config`` as YAML, ``/health``, and amoCRM names resolved with
suggestions.
"""

from bot.admin.build import build_admin
from bot.admin.config_yaml import MAX_FILE_BYTES
from bot.admin.grammar import (
    ADMIN_COMMANDS,
    ADMIN_NAMES,
    AdminCommand,
    ConfigImport,
    GrammarError,
    parse_admin,
    parse_period,
    wants_here,
)
from bot.admin.health import HealthReport
from bot.admin.service import UNSUBSCRIBE_PREFIX, AdminService

__all__ = [
    "ADMIN_COMMANDS",
    "ADMIN_NAMES",
    "MAX_FILE_BYTES",
    "UNSUBSCRIBE_PREFIX",
    "AdminCommand",
    "AdminService",
    "ConfigImport",
    "GrammarError",
    "HealthReport",
    "build_admin",
    "parse_admin",
    "parse_period",
    "wants_here",
]
