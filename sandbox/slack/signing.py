"""Slack's request signature: ``X-Slack-Signature: v0=`` + HMAC-SHA256 of
``v0:{timestamp}:{raw body}`` keyed with the app's signing secret, and
``X-Slack-Request-Timestamp``. Apps refuse a wrong signature, or a timestamp more than five
minutes from their own (real) clock.

The timestamp is real time (``time.time()``), never the emulator's clock: tests move that
clock by hours, while bolt checks signatures against real time. ``Signing`` knobs make the next
requests wrong on purpose: another secret, an old timestamp, or a body changed after signing.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from sandbox.slack.records import Signing


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, knobs: Signing) -> tuple[bytes, dict[str, str]]:
    """The bytes to send and the signature headers, signed on those very bytes unless
    ``knobs.tamper`` changes them afterwards."""
    timestamp = str(int(time.time() - knobs.age_s))
    headers = {
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature(knobs.secret or secret, timestamp, body),
    }
    return (body + b" " if knobs.tamper else body), headers
