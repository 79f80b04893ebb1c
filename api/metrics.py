"""The service's Prometheus metrics: verifications, request latency, the mirror's block and age,
issuance and anchoring, refusals while busy, batch worker failures, and the webhook outbox
(pending deliveries and the oldest one's age, read from the outbox at each scrape; delivered and
failed attempts, counted as they happen)."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from api.workers import SharedCounters, WorkerLatency
from registry.document.identifiers import uscc_from_issuer_id
from verifier.mirror import Mirror

__all__ = ["Metrics"]

log = logging.getLogger("elicense.service")


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.verifications = Counter("elicense_verifications", "Verifications by status", ["status"], registry=r)
        self.requests = Histogram(
            "elicense_request_seconds",
            "HTTP request latency",
            ["route"],
            buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.mirror_block = Gauge("elicense_mirror_block", "Last block applied to the mirror", registry=r)
        self.mirror_age = Gauge("elicense_mirror_age_seconds", "Age of the mirror's last block", registry=r)
        self.sync_errors = Counter("elicense_mirror_sync_errors", "Failed mirror syncs", registry=r)
        self.issued = Counter("elicense_issued", "Licenses issued through the API", ["issuer"], registry=r)
        self.anchored = Counter("elicense_anchored", "Licenses anchored through the API", ["issuer"], registry=r)
        self.anchor_lag = Gauge("elicense_anchor_pending", "Issued licenses not yet anchored", registry=r)
        self.anchor_lag_age = Gauge("elicense_anchor_pending_age_seconds", "Age of the oldest", registry=r)
        self.busy = Counter("elicense_busy_refusals", "Requests refused while busy", ["work"], registry=r)
        self.worker_failures = Counter(
            "elicense_batch_worker_failures", "Batch parts whose worker process failed or died", registry=r
        )
        self.webhook_pending = Gauge(
            "elicense_webhook_pending", "Webhook deliveries waiting to be sent (in flight or retrying)", registry=r
        )
        self.webhook_oldest_age = Gauge(
            "elicense_webhook_oldest_pending_age_seconds",
            "Seconds since the oldest pending webhook delivery was produced (0 when none is pending)",
            registry=r,
        )
        self.webhook_delivered = Counter(
            "elicense_webhook_delivered", "Webhook deliveries the subscriber answered with 2xx", registry=r
        )
        self.webhook_failed_attempts = Counter(
            "elicense_webhook_failed_attempts",
            "Webhook attempts that failed (an error status, a timeout, a refused connection); retried with backoff",
            registry=r,
        )
        self._mirror_readings: list[tuple[Gauge, Callable[[Mirror], float]]] = []
        self.mirror_gauge(
            "elicense_mirror_anchors_indexed",
            "Anchored digests in the mirror's index",
            lambda m: m.index.anchored_count,
        )
        self.anchors_dropped = Gauge(
            "elicense_mirror_anchors_dropped",
            "Digests an issuer's keys anchored beyond ELICENSE_MAX_ANCHORS_PER_ISSUER (not indexed)",
            ["issuer"],
            registry=r,
        )

    def watch_workers(self, counters: SharedCounters) -> None:
        """Add the verification workers' counts (:mod:`api.workers`): their verifications to
        ``elicense_verifications`` at each scrape, their latencies as ``elicense_worker_request_seconds``."""
        self._workers = counters
        self._workers_seen: dict[str, float] = {}
        self.registry.register(WorkerLatency(counters))

    def absorb_workers(self) -> None:
        """Add what the workers verified since the last scrape to ``elicense_verifications``."""
        counters = getattr(self, "_workers", None)
        if counters is None:
            return
        for status, total in counters.statuses().items():
            delta = total - self._workers_seen.get(status, 0.0)
            if delta > 0:
                self.verifications.labels(status).inc(delta)
                self._workers_seen[status] = total

    def webhook_attempted(self, delivered: bool) -> None:
        """Count one delivery attempt (the deliverer's ``on_result``)."""
        (self.webhook_delivered if delivered else self.webhook_failed_attempts).inc()

    def watch_outbox(self, backlog: Callable[[], tuple[int, float]]) -> None:
        """Read the outbox's gauges at each scrape: ``backlog()`` gives the pending deliveries and
        the oldest one's age in seconds (NaN when the outbox cannot be read)."""

        def reading(index: int) -> Callable[[], float]:
            def read() -> float:
                try:
                    return float(backlog()[index])
                except Exception:
                    log.warning("reading the webhook outbox for the metrics failed", exc_info=True)
                    return math.nan

            return read

        self.webhook_pending.set_function(reading(0))
        self.webhook_oldest_age.set_function(reading(1))

    def mirror_gauge(self, name: str, documentation: str, read: Callable[[Mirror], float]) -> Gauge:
        """A gauge set from the mirror whenever the metrics are read or the mirror syncs (for
        counts the mirror keeps, such as records it ignored); ``read`` must be cheap."""
        gauge = Gauge(name, documentation, registry=self.registry)
        self._mirror_readings.append((gauge, read))
        return gauge

    def refresh_mirror(self, mirror: Mirror) -> None:
        """Set the mirror's gauges: its block, its age (NaN before the first sync) and every
        :meth:`mirror_gauge`."""
        fresh = mirror.freshness()
        self.mirror_block.set(fresh.block_number)
        self.mirror_age.set(fresh.age() if fresh.block_number else math.nan)
        for gauge, read in self._mirror_readings:
            try:
                gauge.set(read(mirror))
            except Exception:
                log.warning("reading the mirror gauge %s failed", gauge, exc_info=True)
        for issuer_id, dropped in list(mirror.index.dropped_anchors.items()):
            self.anchors_dropped.labels(uscc_from_issuer_id(issuer_id)).set(dropped)
