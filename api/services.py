"""What the HTTP service runs on: the deployment, the chain client, the mirror and its follower,
the verifier, the issuer store and the departments this service signs for.

Verification reads only the mirror's in-memory index. The follower thread keeps the mirror in
step with the chain; when the node goes away, verification keeps answering from the mirror and
every result says how old it is (the freshness policy decides whether a stale mirror only warns or
makes the service refuse).
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from api.security import ApiKeys, Idempotency
from api.settings import Settings
from registry import Deployment, RegistryClient
from registry.issuance import Department
from registry.store import IssuerStore
from registry.worker import AnchorWorker
from verifier.mirror import Mirror
from verifier.pipeline import Reason, VerificationResult, Verifier

log = logging.getLogger("elicense.service")

STALE_REASON = (
    "stale_mirror",
    "区块链镜像已有 {age:.0f} 秒未更新，结果可能不是最新状态",
    "the chain mirror is {age:.0f} s old; the result may not reflect the latest status",
)


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


# -- batch verification in worker processes --------------------------------------------------------

_worker: dict[str, Any] = {}


def _worker_init(mirror_url: str, deployment: dict[str, Any], confirmations: int) -> None:
    d = Deployment.from_dict(deployment)
    mirror = Mirror(mirror_url, d, confirmations=confirmations)
    _worker["mirror"] = mirror
    _worker["verifier"] = Verifier(mirror.index, chain_id=d.chain_id, license_registry=d.license_registry)


def _worker_verify(texts: Sequence[str], now: float, stale_reason: dict[str, str] | None) -> bytes:
    """Verify in a worker process; returns the results as JSON array items (no brackets)."""
    mirror: Mirror = _worker["mirror"]
    mirror.refresh()
    verifier: Verifier = _worker["verifier"]
    verifier.state = mirror.index
    out = []
    for text in texts:
        result = verifier.verify(text, now=now).to_dict()
        if stale_reason is not None:
            result["reasons"].append(stale_reason)
        out.append(orjson.dumps(result))
    return b",".join(out)


class Services:
    def __init__(
        self,
        settings: Settings,
        *,
        deployment: Deployment,
        client: RegistryClient | None,
        mirror: Mirror,
        store: IssuerStore,
        departments: dict[str, Department] | None = None,
        follow: bool = True,
        anchor_worker: AnchorWorker | None = None,
    ) -> None:
        self.settings = settings
        self.deployment = deployment
        self.client = client
        self.mirror = mirror
        self.store = store
        self.departments = departments or {}
        self.api_keys = ApiKeys(store.engine)
        self.idempotency = Idempotency(store.engine)
        self.metrics = Metrics()
        self.chain_lock = threading.RLock()  # one writer at a time on the chain client
        self.verifier = Verifier(
            mirror.index, chain_id=deployment.chain_id, license_registry=deployment.license_registry
        )
        self.last_sync_error: str | None = None
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._follow = follow and client is not None
        self.anchor_worker = anchor_worker
        self._anchorer: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self._follow and self._follower is None:
            self.sync_once()
            self._follower = threading.Thread(target=self._follow_loop, name="mirror-follower", daemon=True)
            self._follower.start()
        if self.anchor_worker is not None and self._anchorer is None:
            self._anchorer = threading.Thread(target=self._anchor_loop, name="anchor-worker", daemon=True)
            self._anchorer.start()
        self._update_gauges()
        # The mirror's index and the libraries are long-lived: move them out of the collector's way,
        # so full collections (tens of milliseconds over a large heap) do not stall requests.
        gc.collect()
        gc.freeze()
        gc.set_threshold(50_000, 50, 100)

    def stop(self) -> None:
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=10)
        if self._anchorer is not None:
            self._anchorer.join(timeout=30)
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def _anchor_loop(self) -> None:
        """Anchor the departments' issued licenses in batches (by size and age), backing off while
        the chain node is unreachable; shares the chain client with the API under ``chain_lock``."""
        assert self.anchor_worker is not None
        delay = self.settings.anchor_interval
        while not self._stop.wait(delay):
            try:
                with self.chain_lock:
                    results = self.anchor_worker.run_once()
                for r in results:
                    self.metrics.anchored.labels("worker").inc(r.count)
                delay = self.settings.anchor_interval
            except Exception as exc:  # noqa: BLE001 - the worker survives node outages and retries
                self.anchor_worker.stats.errors += 1
                self.anchor_worker.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("anchoring failed: %s", self.anchor_worker.stats.last_error)
                delay = min(60.0, delay * 2)
            pending, age = self.anchor_worker.lag()
            self.metrics.anchor_lag.set(pending)
            self.metrics.anchor_lag_age.set(age)

    def _follow_loop(self) -> None:
        while not self._stop.wait(self.settings.sync_interval):
            self.sync_once()

    def sync_once(self) -> None:
        if self.client is None:
            return
        try:
            with self.chain_lock:
                report = self.mirror.sync(self.client)
            self.verifier.state = self.mirror.index
            if report.reorg_depth:
                log.warning("mirror repaired a reorganisation %d blocks deep", report.reorg_depth)
            self.last_sync_error = None
        except Exception as exc:  # noqa: BLE001 - the follower survives anything the node does
            self.metrics.sync_errors.inc()
            self.last_sync_error = f"{type(exc).__name__}: {exc}"
            log.warning("mirror sync failed: %s", self.last_sync_error)
        self._update_gauges()

    def _update_gauges(self) -> None:
        fresh = self.mirror.freshness()
        self.metrics.mirror_block.set(fresh.block_number)
        self.metrics.mirror_age.set(fresh.age())

    # -- verification ------------------------------------------------------------------------------

    def is_stale(self) -> tuple[bool, float]:
        fresh = self.mirror.freshness()
        if fresh.block_number == 0:
            return True, float("inf")
        age = fresh.age()
        return age > self.settings.stale_after, age

    def verify(self, text: object) -> VerificationResult:
        result = self.verifier.verify(text)
        self.metrics.verifications.labels(result.status.value).inc()
        stale, age = self.is_stale()
        if stale:
            code, zh, en = STALE_REASON
            result.reasons.append(Reason(code, zh.format(age=age), en.format(age=age)))
        return result

    def verify_many(self, texts: Sequence[str]) -> bytes:
        """Verify a batch; returns the JSON array of results. Large batches are split over worker
        processes (one per core), each holding its own copy of the mirror's index."""
        now = time.time()
        stale, age = self.is_stale()
        stale_reason = None
        if stale:
            code, zh, en = STALE_REASON
            stale_reason = {"code": code, "zh": zh.format(age=age), "en": en.format(age=age)}
        workers = self.settings.batch_workers
        count = workers or os.cpu_count() or 1
        if len(texts) < 2000 or count == 1:
            parts = []
            for text in texts:
                result = self.verify(text).to_dict()
                parts.append(orjson.dumps(result))
            return b"[" + b",".join(parts) + b"]"
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=count,
                initializer=_worker_init,
                initargs=(self.mirror.url, self.deployment.to_dict(), self.mirror.confirmations),
            )
        size = -(-len(texts) // count)
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        parts = list(self._pool.map(_worker_verify, chunks, [now] * len(chunks), [stale_reason] * len(chunks)))
        self.metrics.verifications.labels("batch").inc(len(texts))
        return b"[" + b",".join(p for p in parts if p) + b"]"
