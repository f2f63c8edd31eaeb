"""Deal and task alerts: the kinds of alert a CRM event makes, subscriptions and the built-in
defaults, routing to the people allowed to see it, the scans no event triggers (stuck deals,
close dates, escalations' subjects), and digests.
"""

from bot.alerts.build import AlertParts, build_alerts
from bot.alerts.chats import ChatGuard
from bot.alerts.digests import DigestService
from bot.alerts.kinds import AlertKind, alerts_from
from bot.alerts.routing import Router
from bot.alerts.scans import DealScans
from bot.alerts.scheduled import ScheduledReports
from bot.alerts.service import AlertService
from bot.alerts.subscriptions import (
    DEFAULT_SHARED_FIELDS,
    DEFAULTS,
    DIGEST_AT,
    FIELDS,
    MAX_ESCALATE_MIN,
    MIN_ESCALATE_MIN,
    WEEKDAYS,
    AlertSettings,
    Filters,
    ReportSchedule,
    Subscription,
    Subscriptions,
    Target,
    new_id,
)

__all__ = [
    "DEFAULTS",
    "DEFAULT_SHARED_FIELDS",
    "DIGEST_AT",
    "FIELDS",
    "MAX_ESCALATE_MIN",
    "MIN_ESCALATE_MIN",
    "WEEKDAYS",
    "AlertKind",
    "AlertParts",
    "AlertService",
    "AlertSettings",
    "ChatGuard",
    "DealScans",
    "DigestService",
    "Filters",
    "ReportSchedule",
    "Router",
    "ScheduledReports",
    "Subscription",
    "Subscriptions",
    "Target",
    "alerts_from",
    "build_alerts",
    "new_id",
]
