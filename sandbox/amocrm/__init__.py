"""A wire-level, stateful emulator of one amoCRM (Kommo) v4 account.

It speaks the reference's JSON shapes, OAuth, pace limit, webhooks and faults so that any
amoCRM client can be tested against it unchanged; it imports nothing from the service.
"""

from sandbox.amocrm.context import RequestRecord
from sandbox.amocrm.control import CONTROL
from sandbox.amocrm.emulator import AmoEmulator
from sandbox.amocrm.faults import FaultKind
from sandbox.amocrm.seed import DemoIds, seed_demo_account
from sandbox.amocrm.webhooks import WebhookDelivery

# (HTTP method, path, body or meaning) of each control endpoint, as `amobridge sandbox` lists them.
CONTROL_ENDPOINTS = CONTROL.endpoints

__all__ = [
    "CONTROL_ENDPOINTS",
    "AmoEmulator",
    "DemoIds",
    "FaultKind",
    "RequestRecord",
    "WebhookDelivery",
    "seed_demo_account",
]
