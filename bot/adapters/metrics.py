"""The bot's Prometheus metrics (served at ``/metrics``, docs/health.md) and the moment Telegram last
reached it (``/readyz``).

One :class:`Metrics` per application, with its own registry rather than prometheus-client's global
one, so several applications in one process (tests, benchmarks) never clash. The adapters count
through it in one line each; services know nothing of it. The figures that live in the database
(outbox backlog, schedule rows due) are gauges set at each scrape (:meth:`Metrics.observe`).
"""

from __future__ import annotations

import datetime as dt

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.services.schedule.sweep import SweepReport
from storage.health import Backlog

# Handling one update: most take milliseconds; a slow database or a report takes seconds.
HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class Metrics:
    """Counters the adapters bump, gauges set at scrape, and the last receipt of updates."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.updates = Counter("vloop_updates", "Updates taken, by kind (message, callback_query, ...) and outcome "
                               "(handled, parked, retry)", ["kind", "outcome"], registry=registry)
        self.handler_seconds = Histogram("vloop_handler_seconds", "Seconds to handle one update (every attempt)",
                                         buckets=HANDLER_BUCKETS, registry=registry)
        self.outbox_queued = Counter("vloop_outbox_queued", "Outbox rows this process queued", registry=registry)
        self.outbox_sent = Counter("vloop_outbox_sent", "Outbox rows sent (or edits already in place)",
                                   registry=registry)
        self.outbox_retried = Counter("vloop_outbox_retried", "Failed calls put back for another attempt (429s "
                                      "excluded)", registry=registry)
        self.outbox_failed = Counter("vloop_outbox_failed", "Outbox rows given up (refused, or out of attempts)",
                                     registry=registry)
        self.flood_waits = Counter("vloop_telegram_429", "Calls Telegram answered 429 Too Many Requests, by "
                                   "who made them (outbox, polling)", ["source"], registry=registry)
        for source in ("outbox", "polling"):
            self.flood_waits.labels(source)  # shown as 0 before the first
        self.schedule_fired = Counter("vloop_schedule_fired", "Schedule rows handled by the sweep, by outcome "
                                      "(done, skipped, postponed, failed)", ["outcome"], registry=registry)
        self.outbox_pending = Gauge("vloop_outbox_pending", "Outbox rows waiting or being sent (at scrape)",
                                    registry=registry)
        self.outbox_oldest_seconds = Gauge("vloop_outbox_oldest_pending_seconds", "Age of the oldest outbox row "
                                           "waiting or being sent; 0 when none (at scrape)", registry=registry)
        self.schedule_due = Gauge("vloop_schedule_due", "Schedule rows due and not fired yet (at scrape)",
                                  registry=registry)
        self.database_up = Gauge("vloop_database_up", "1 when the database answered the scrape's query",
                                 registry=registry)
        self.last_receipt_seconds = Gauge("vloop_last_receipt_age_seconds", "Seconds since the last getUpdates "
                                          "call returned or webhook request arrived (at scrape)", registry=registry)
        self.last_receipt: dt.datetime | None = None

    def received(self, now: dt.datetime) -> None:
        """Telegram reached us: a getUpdates call returned, or a webhook request came with the secret."""
        self.last_receipt = now

    def took(self, kind: str, outcome: str) -> None:
        self.updates.labels(kind, outcome).inc()

    def swept(self, report: SweepReport) -> None:
        for outcome in ("done", "skipped", "postponed", "failed"):
            self.schedule_fired.labels(outcome).inc(getattr(report, outcome))

    def observe(self, backlog: Backlog | None, receipt_age: float) -> None:
        """Set the gauges read at scrape; ``backlog`` None: the database did not answer."""
        self.database_up.set(0 if backlog is None else 1)
        self.last_receipt_seconds.set(receipt_age)
        if backlog is not None:
            self.outbox_pending.set(backlog.outbox_pending)
            self.outbox_oldest_seconds.set(backlog.oldest_pending_seconds or 0.0)
            self.schedule_due.set(backlog.schedule_due)

    def exposition(self) -> bytes:
        """Every metric in Prometheus' text format."""
        return generate_latest(self.registry)
