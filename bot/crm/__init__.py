"""amoCRM changes coming in, applied once: the webhook hint inbox, the processor that re-reads
an entity and journals what changed, change detection (cache vs amoCRM), the events poll and the
periodic sync behind webhooks, the directory of users, groups and pipelines, and amoCRM rights.
"""

from bot.crm.build import CrmParts, build_crm
from bot.crm.catchup import CacheSync, EventsPoller
from bot.crm.claims import Claim, Claims
from bot.crm.directory import Directory
from bot.crm.drain import InboxDrainer
from bot.crm.ingest import CATCH_UP_QUEUE, INBOX_QUEUE, INBOX_QUEUES, EventProcessor, HintInbox
from bot.crm.rights import assignees, can_edit_task, can_view_deal, may_assign_to

__all__ = [
    "CATCH_UP_QUEUE",
    "INBOX_QUEUE",
    "INBOX_QUEUES",
    "CacheSync",
    "Claim",
    "Claims",
    "CrmParts",
    "Directory",
    "EventProcessor",
    "EventsPoller",
    "HintInbox",
    "InboxDrainer",
    "assignees",
    "build_crm",
    "can_edit_task",
    "can_view_deal",
    "may_assign_to",
]
