"""Prometheus metrics of the processor service, on a registry of its own (one per service object).

Served at ``/metrics`` in the text exposition format. Names (all prefixed ``twittcom_``):
code send latency (inbound received -> SMS accepted by the gateway) and code delivery time
(SMS created -> delivered, from status callbacks), activations and outcomes, queue depths,
rate-limit waits, X write budget left, replies skipped for budget, callbacks, outbox sends, VACUUM
rounds of the queue tables (PostgreSQL), and the webhook's health (valid or not, checks, heals,
fallback polls).
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from reference.domain.outcomes import Outcome
from reference.service.events import Events

__all__ = ["CONTENT_TYPE", "ServiceMetrics"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_DELIVERY_BUCKETS = (0.5, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class ServiceMetrics:
    """The service's metric objects."""

    def __init__(self) -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.code_send_latency = Histogram(
            "twittcom_code_send_latency_seconds",
            "Inbound #reg received -> code SMS accepted by the SMS gateway (the processor's own share).",
            registry=registry,
            buckets=_LATENCY_BUCKETS,
        )
        self.code_delivery = Histogram(
            "twittcom_code_delivery_seconds",
            "Code SMS created -> delivered to the handset (from status callbacks).",
            registry=registry,
            buckets=_DELIVERY_BUCKETS,
        )
        self.activations = Counter("twittcom_activations", "Packs activated.", registry=registry)
        self.outcomes = Counter(
            "twittcom_messages", "Inbound messages processed, by outcome.", ["outcome"], registry=registry
        )
        self.batch_seconds = Histogram(
            "twittcom_batch_seconds", "Wall time of one processor group commit.", registry=registry,
            buckets=_LATENCY_BUCKETS,
        )  # fmt: skip
        self.ingested = Counter(
            "twittcom_ingested_events",
            "Inbound events offered by webhook/poll/web, by result: queued, duplicate, ignored, quarantined.",
            ["source", "result"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "twittcom_queue_depth", "Rows waiting, by queue.", ["queue"], registry=registry
        )
        self.rate_limit_waits = Counter(
            "twittcom_rate_limit_waits", "Times an API said to wait (429, 20429).", ["api"], registry=registry
        )
        self.rate_limit_wait_seconds = Counter(
            "twittcom_rate_limit_wait_seconds", "Seconds we were told to wait.", ["api"], registry=registry
        )
        self.write_budget_left = Gauge(
            "twittcom_x_write_budget_left", "Tweets the operator may still post now.", registry=registry
        )
        self.skipped_budget = Counter(
            "twittcom_replies_skipped_budget",
            "Reply tweets not sent because the X write budget was spent (the SMS went alone).",
            registry=registry,
        )
        self.callbacks = Counter(
            "twittcom_sms_callbacks", "Twilio status callbacks, by status.", ["status"], registry=registry
        )
        self.callbacks_rejected = Counter(
            "twittcom_sms_callbacks_rejected", "Status callbacks with a bad signature.", registry=registry
        )
        self.sent = Counter("twittcom_outbox_sent", "Outbox rows sent, by kind.", ["kind"], registry=registry)
        self.failed = Counter(
            "twittcom_outbox_failed", "Outbox rows given up, by kind.", ["kind"], registry=registry
        )
        self.retries = Counter(
            "twittcom_outbox_retries",
            "Outbox sends to try again later, by kind.",
            ["kind"],
            registry=registry,
        )
        self.expired = Counter(
            "twittcom_outbox_expired", "Outbox rows past their validity, never sent, by kind.", ["kind"],
            registry=registry,
        )  # fmt: skip
        self.found_at_gateway = Counter(
            "twittcom_outbox_found_at_gateway",
            "Sends of unknown outcome found at the gateway (not sent again), by kind.", ["kind"],
            registry=registry,
        )  # fmt: skip
        self.statuses_reconciled = Counter(
            "twittcom_sms_statuses_reconciled",
            "SMS delivery statuses fetched from Twilio (callback missed).",
            registry=registry,
        )  # fmt: skip
        self.outbox_oldest_age = Gauge(
            "twittcom_outbox_oldest_pending_seconds", "Age of the oldest pending outbox row.",
            registry=registry,
        )  # fmt: skip
        self.vacuum_rounds = Counter(
            "twittcom_queue_vacuum_rounds",
            "Rounds of VACUUM of the queue tables (PostgreSQL), by result: vacuumed, skipped "
            "(another process vacuums), failed.", ["result"], registry=registry,
        )  # fmt: skip
        self.vacuum_last_seconds = Gauge(
            "twittcom_queue_vacuum_last_seconds", "Wall time of the last VACUUM of the queue tables.",
            registry=registry,
        )  # fmt: skip
        self.webhook_valid = Gauge(
            "twittcom_webhook_valid",
            "1 while X reports the service's webhook valid (events arrive), else 0 (polling fallback).",
            registry=registry,
        )
        self.webhook_checks = Counter(
            "twittcom_webhook_checks",
            "Checks of the X webhook, by what they found (valid, invalid, missing, error).",
            ["result"],
            registry=registry,
        )
        self.webhook_heals = Counter(
            "twittcom_webhook_heals",
            "Times the webhook was made valid again, by how (validated, registered).",
            ["how"],
            registry=registry,
        )
        self.mentions_backfilled = Counter(
            "twittcom_mentions_backfilled",
            "Mentions read from recent search: X's mentions timeline (its 800 newest) had lost them.",
            registry=registry,
        )
        self.webhook_fallback_polls = Counter(
            "twittcom_webhook_fallback_polls",
            "Polling rounds run because the webhook was not valid (or to catch up after it was).",
            registry=registry,
        )

    def observe(self, events: Events) -> None:
        """Subscribe to the processors' typed events: outcomes, activations, group-commit times
        (the composition root wires this, :func:`reference.bootstrap.build_service`)."""
        events.message_processed.add_listener(self._on_message_processed)
        events.batch_committed.add_listener(self._on_batch_committed)

    def _on_message_processed(self, *, message: Any, outcome: Outcome) -> None:
        self.outcomes.labels(outcome.value).inc()
        if outcome is Outcome.ACTIVATED:
            self.activations.inc()

    def _on_batch_committed(self, *, size: int, seconds: float) -> None:
        self.batch_seconds.observe(seconds)

    def exposition(self) -> bytes:
        """The text exposition of every metric."""
        return generate_latest(self.registry)
