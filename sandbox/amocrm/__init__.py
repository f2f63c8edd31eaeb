"""A wire-level, stateful emulator of one amoCRM (Kommo) v4 account.

It speaks the reference's JSON shapes, OAuth, pace limit, webhooks and faults so that any
amoCRM client can be tested against it unchanged; it imports nothing from the service.
"""

from sandbox.amocrm.context import RequestRecord
from sandbox.amocrm.control import CONTROL_ENDPOINTS
from sandbox.amocrm.emulator import AmoEmulator
from sandbox.amocrm.faults import FaultKind
from sandbox.amocrm.seed import DemoIds, seed_demo_account
from sandbox.amocrm.webhooks import WebhookDelivery

__all__ = [
    "CONTROL_ENDPOINTS",
    "AmoEmulator",
    "DemoIds",
    "FaultKind",
    "RequestRecord",
    "WebhookDelivery",
    "seed_demo_account",
]
