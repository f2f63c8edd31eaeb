"""The outbox: every message is stored before it is sent; a sender drains it per channel under
the messengers' limits, records each message's reference so every copy can be edited, and logs
what was delivered.
"""

from bot.delivery.outbox import (
    DeliveryError,
    MessageRef,
    Notifier,
    Outbox,
    OutboxItem,
    OutboxSender,
    outbox_queue,
)
from bot.delivery.pace import ChannelLimits, hold_chat, wait_turn

__all__ = [
    "ChannelLimits",
    "DeliveryError",
    "MessageRef",
    "Notifier",
    "Outbox",
    "OutboxItem",
    "OutboxSender",
    "hold_chat",
    "outbox_queue",
    "wait_turn",
]
