"""Prometheus metrics, on a registry of their own per service instance (no global registry)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest


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
        self.inbox_depth = Gauge(
            "amobridge_inbox_depth",
            "CRM hints waiting to be applied",
            registry=self.registry,
        )

    def observe_amocrm(self, method: str, _path: str, status: int) -> None:
        self.amocrm_requests.labels(method=method, status=str(status)).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
