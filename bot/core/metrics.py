"""Prometheus metrics, on a registry of their own per service instance (no global registry).

What an operator pages on: the outbox's depth and how overdue its most overdue item is, per
messenger; sends by outcome; reminders fired and how late; amoCRM's 429s; when the amoCRM token
expires. Gauges read from the store are set just before a scrape (``/metrics``).
"""

from __future__ import annotations

from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

SendOutcome = Literal["ok", "retried", "rate_limited", "failed"]

# Seconds a reminder fires after its moment: on time is under a few seconds.
LATENESS_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0, 4 * 3600.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.webhooks = Counter(
            "amobridge_amocrm_webhooks_total",
            "amoCRM webhook requests by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.crm_events = Counter(
            "amobridge_crm_events_total",
            "CRM events applied, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.amocrm_requests = Counter(
            "amobridge_amocrm_requests_total",
            "amoCRM API requests by method and status",
            ["method", "status"],
            registry=self.registry,
        )
        self.amocrm_rate_limited = Counter(
            "amobridge_amocrm_rate_limited_total",
            "amoCRM API answers 429 Too Many Requests",
            registry=self.registry,
        )
        self.amocrm_token_expires_at = Gauge(
            "amobridge_amocrm_token_expires_at_seconds",
            "When the amoCRM access token in use expires (Unix time; absent if unknown)",
            registry=self.registry,
        )
        self.inbox_depth = Gauge(
            "amobridge_inbox_depth",
            "CRM hints waiting to be applied",
            registry=self.registry,
        )
        self.outbox_depth = Gauge(
            "amobridge_outbox_depth",
            "Messages waiting in the outbox, by messenger (retries and claimed ones included)",
            ["channel"],
            registry=self.registry,
        )
        self.outbox_oldest_age = Gauge(
            "amobridge_outbox_oldest_age_seconds",
            "How long the most overdue outbox message has been due, by messenger (0: none)",
            ["channel"],
            registry=self.registry,
        )
        self.outbox_sends = Counter(
            "amobridge_outbox_sends_total",
            "Outbox deliveries by messenger and outcome: ok, retried (network, 5xx), "
            "rate_limited (429, retried), failed (for good)",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.reminders_fired = Counter(
            "amobridge_reminders_fired_total",
            "Reminders turned into messages",
            registry=self.registry,
        )
        self.reminder_lateness = Histogram(
            "amobridge_reminder_lateness_seconds",
            "How long after its moment a reminder fired",
            buckets=LATENESS_BUCKETS,
            registry=self.registry,
        )

    def observe_amocrm(self, method: str, _path: str, status: int) -> None:
        self.amocrm_requests.labels(method=method, status=str(status)).inc()
        if status == 429:
            self.amocrm_rate_limited.inc()

    def observe_send(self, channel: str, outcome: SendOutcome) -> None:
        self.outbox_sends.labels(channel=channel, outcome=outcome).inc()

    def observe_reminder(self, lateness_s: float) -> None:
        self.reminders_fired.inc()
        self.reminder_lateness.observe(max(0.0, lateness_s))

    def render(self) -> bytes:
        return generate_latest(self.registry)
