"""What the HTTP service runs on: the deployment, the chain client, the mirror and its follower,
the verifier, the issuer store and the departments this service signs for.

Verification reads only the mirror's in-memory index. The follower thread keeps the mirror in
step with the chain; when the node goes away, verification keeps answering from the mirror and
every result says how old it is and whether it is ``stale`` (the freshness policy decides whether
a stale mirror only warns or makes the service refuse).

Hostile input never fails more than its own item: any exception while verifying one QR text
becomes a ``malformed`` result for that text (logged), in process and in the batch workers, and a
batch worker that dies takes only its own items down (they are verified again in smaller parts,
so an item that kills a worker by itself is answered ``malformed``). CPU-heavy work is bounded
and kept off the event loop: image decoding runs in a small thread pool (Pillow and zxing-cpp
release the interpreter lock), batches in a thread and, when large, in worker processes; both
admit a bounded number of requests and answer 503 with ``Retry-After`` beyond it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from api.errors import BatchWorkersFailingError, ServiceBusyError
from api.redaction import redact, redact_library_logs
from api.security import ApiKeys, Idempotency
from api.settings import Settings
from registry import Deployment, RegistryClient
from registry.document.identifiers import uscc_from_issuer_id
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore
from registry.issuer.worker import AnchorWorker
from registry.periodic import run_periodically
from verifier._logbudget import LogBudget
from verifier.mirror import Mirror
from verifier.pipeline import Outcome, Reason, VerificationResult, Verifier
from verifier.state import Freshness

log = logging.getLogger("elicense.service")
_LOG_BUDGET = LogBudget(log)

STALE_REASON = (
    "stale_mirror",
    "区块链镜像已有 {age:.0f} 秒未更新，结果可能不是最新状态，请稍后复核",
    "the chain mirror is {age:.0f} s old; the result may not reflect the latest status: check again later",
)
NEVER_SYNCED_REASON = (
    "stale_mirror",
    "区块链镜像尚未同步，结果可能不是最新状态，请稍后复核",
    "the chain mirror has not been synced yet; the result may not reflect the latest status: check again later",
)
#: The reason given when verifying a text failed unexpectedly (the details go to the log only).
UNREADABLE_REASON = Reason("malformed", "二维码内容无法核验", "the QR text could not be checked")
#: Most times one batch re-runs parts of itself after a worker process died.
WORKER_RETRIES = 16
#: Texts per part handed to a worker process, and per group of results verified in process.
WORKER_PART = 1000
INLINE_GROUP = 200
#: Niceness of the batch worker processes: bulk work yields the cores to the event loop.
WORKER_NICE = 10


def stale_reason(stale: bool, age: float) -> dict[str, str] | None:
    """The reason added to every result while the mirror is stale (``None`` when fresh)."""
    if not stale:
        return None
    code, zh, en = NEVER_SYNCED_REASON if math.isinf(age) else STALE_REASON
    return {"code": code, "zh": zh.format(age=age), "en": en.format(age=age)}


def _malformed(chain: Freshness | None, now: float) -> dict[str, Any]:
    return VerificationResult(Outcome.MALFORMED, [UNREADABLE_REASON], checked_at=now, chain=chain).to_dict()


def verify_safely(verifier: Verifier, text: object, now: float) -> dict[str, Any]:
    """``verifier.verify(text)`` as a JSON-ready dict; any exception is logged and answered as a
    ``malformed`` result, so one hostile text never fails more than itself."""
    try:
        return verifier.verify(text, now=now).to_dict()
    except Exception as exc:
        if _LOG_BUDGET.allow():  # a batch of crafted texts must not flood the log
            log.warning(
                "verifying a QR text of %s characters failed (%s); answered malformed",
                len(text) if isinstance(text, str) else "?",
                type(exc).__name__,
                exc_info=True,
            )
        try:
            chain: Freshness | None = verifier.state.freshness()
        except Exception:  # noqa: BLE001 - the answer must not depend on the failing state
            chain = None
        return _malformed(chain, now)


def with_freshness(result: dict[str, Any], reason: dict[str, str] | None) -> dict[str, Any]:
    """Mark a result ``stale`` (with the reason) or not."""
    result["stale"] = reason is not None
    if reason is not None:
        result["reasons"].append(reason)
    return result


class Gate:
    """Admission for CPU-heavy requests: ``slots`` run at once, up to ``queue`` more wait at most
    ``wait`` seconds for a slot; any other is refused at once (503 with ``Retry-After``)."""

    def __init__(self, what: str, slots: int, queue: int, wait: float, refused: Counter) -> None:
        self.what = what
        self.slots = slots
        self.queue = queue
        self.wait = wait
        self._refused = refused
        self._semaphore = asyncio.Semaphore(slots)
        self._waiting = 0

    def _busy(self) -> ServiceBusyError:
        self._refused.labels(self.what).inc()
        return ServiceBusyError(
            f"too many {self.what} are being processed; retry in a moment",
            headers={"Retry-After": "1"},
        )

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        if not self._semaphore.locked():
            await self._semaphore.acquire()  # free: returns at once
        else:
            if self._waiting >= self.queue or self.wait <= 0:
                raise self._busy()
            self._waiting += 1
            try:
                await asyncio.wait_for(self._semaphore.acquire(), self.wait)
            except TimeoutError:
                raise self._busy() from None
            finally:
                self._waiting -= 1
        try:
            yield
        finally:
            self._semaphore.release()


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


# -- batch verification in worker processes --------------------------------------------------------

_worker: dict[str, Any] = {}


def _worker_init(mirror_url: str, deployment: dict[str, Any], confirmations: int, max_anchors: int) -> None:
    try:
        os.nice(WORKER_NICE)
    except OSError:
        log.info("batch workers run at the service's priority (nice refused)")
    d = Deployment.from_dict(deployment)
    mirror = Mirror(mirror_url, d, confirmations=confirmations, max_anchors_per_issuer=max_anchors)
    _worker["mirror"] = mirror
    _worker["verifier"] = Verifier(mirror.index, chain_id=d.chain_id, license_registry=d.license_registry)


def _worker_verify(texts: Sequence[str], now: float, reason: dict[str, str] | None) -> bytes:
    """Verify in a worker process; returns the results as JSON array items (no brackets)."""
    mirror: Mirror = _worker["mirror"]
    verifier: Verifier = _worker["verifier"]
    try:
        mirror.refresh()
        verifier.state = mirror.index
    except Exception:
        log.warning("a batch worker could not refresh its mirror", exc_info=True)
    return b",".join(orjson.dumps(with_freshness(verify_safely(verifier, text, now), reason)) for text in texts)


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
        self.idempotency = Idempotency(store.engine, claim_seconds=settings.idempotency_claim_seconds)
        self.metrics = Metrics()
        cores = os.cpu_count() or 1
        self.image_workers = settings.image_workers or cores
        self.images = ThreadPoolExecutor(max_workers=self.image_workers, thread_name_prefix="image")
        self.image_gate = self._image_gate()
        self.batch_gate = self._batch_gate()
        self.chain_lock = threading.RLock()  # one writer at a time on the chain client
        self.verifier = Verifier(
            mirror.index, chain_id=deployment.chain_id, license_registry=deployment.license_registry
        )
        self.last_sync_error: str | None = None
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._pool_lock = threading.Lock()
        self._follow = follow and client is not None
        self.anchor_worker = anchor_worker
        self._anchorer: threading.Thread | None = None
        if settings.rpc_url:
            redact_library_logs(self.secrets())

    def _image_gate(self) -> Gate:
        n = self.image_workers
        return Gate("images", n, 2 * n, self.settings.busy_wait, self.metrics.busy)

    def _batch_gate(self) -> Gate:
        n = self.settings.batch_concurrency or 2 * (os.cpu_count() or 1)
        return Gate("batches", n, 2 * n, self.settings.busy_wait, self.metrics.busy)

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        # asyncio primitives belong to one event loop: a fresh gate for the loop that starts us
        self.image_gate = self._image_gate()
        self.batch_gate = self._batch_gate()
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
        self.images.shutdown(wait=False, cancel_futures=True)

    def secrets(self) -> tuple[str | None, ...]:
        """What must never be shown: the chain node's URL (providers put API keys in it)."""
        return (self.settings.rpc_url,)

    def _error_text(self, exc: BaseException) -> str:
        return redact(f"{type(exc).__name__}: {exc}", self.secrets())

    def _anchor_loop(self) -> None:
        """Anchor the departments' issued licenses in batches (by size and age), backing off while
        the chain node is unreachable; shares the chain client with the API under ``chain_lock``."""
        worker = self.anchor_worker
        assert worker is not None

        def anchor() -> None:
            try:
                with self.chain_lock:
                    results = worker.run_once()
                for r in results:
                    self.metrics.anchored.labels("worker").inc(r.count)
            finally:
                pending, age = worker.lag()
                self.metrics.anchor_lag.set(pending)
                self.metrics.anchor_lag_age.set(age)

        def failed(exc: BaseException, _delay: float) -> None:
            worker.stats.errors += 1
            worker.stats.last_error = self._error_text(exc)
            log.warning("anchoring failed: %s", worker.stats.last_error)

        run_periodically(
            anchor,
            self._stop,
            interval=self.settings.anchor_interval,
            max_backoff=60.0,
            on_error=failed,
            wait_first=True,
        )

    def _follow_loop(self) -> None:
        run_periodically(self.sync_once, self._stop, interval=self.settings.sync_interval, wait_first=True)

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
            self.last_sync_error = self._error_text(exc)
            log.warning("mirror sync failed: %s", self.last_sync_error)
        self._update_gauges()

    def _update_gauges(self) -> None:
        self.metrics.refresh_mirror(self.mirror)

    # -- verification ------------------------------------------------------------------------------

    def is_stale(self) -> tuple[bool, float]:
        """Whether the mirror is older than ``stale_after``, and its age (infinite before the
        first sync)."""
        fresh = self.mirror.freshness()
        if fresh.block_number == 0:
            return True, math.inf
        age = fresh.age()
        return age > self.settings.stale_after, age

    def verify(self, text: object) -> dict[str, Any]:
        """Verify one QR text: the JSON-ready result, with ``stale`` and the reason when stale."""
        result = verify_safely(self.verifier, text, time.time())
        self.metrics.verifications.labels(result["status"]).inc()
        return with_freshness(result, stale_reason(*self.is_stale()))

    def verify_many(self, texts: Sequence[str]) -> list[bytes]:
        """Verify a batch: the results as JSON array items, one per text, in order, in groups of
        comma-separated items (join the groups with commas and wrap them in brackets; a response
        is streamed group by group, never copied whole while holding the interpreter lock). Large
        batches are verified in worker processes (one per core, each holding its own copy of the
        mirror's index), in parts of at most ``WORKER_PART`` texts."""
        now = time.time()
        reason = stale_reason(*self.is_stale())
        count = self.settings.batch_workers or os.cpu_count() or 1
        if len(texts) < 2000 or count == 1:
            groups = []
            for start in range(0, len(texts), INLINE_GROUP):
                items = []
                for text in texts[start : start + INLINE_GROUP]:
                    result = verify_safely(self.verifier, text, now)
                    self.metrics.verifications.labels(result["status"]).inc()
                    items.append(orjson.dumps(with_freshness(result, reason)))
                groups.append(b",".join(items))
            return groups
        size = min(WORKER_PART, -(-len(texts) // count))
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        futures = [self._submit(chunk, now, reason) for chunk in chunks]
        retries = [WORKER_RETRIES]
        parts = [self._collect(c, f, now, reason, retries) for c, f in zip(chunks, futures, strict=True)]
        self.metrics.verifications.labels("batch").inc(len(texts))
        return [p for p in parts if p]

    def _workers(self, count: int) -> ProcessPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=count,
                    initializer=_worker_init,
                    initargs=(
                        self.mirror.url,
                        self.deployment.to_dict(),
                        self.mirror.confirmations,
                        self.mirror.max_anchors_per_issuer,
                    ),
                )
            return self._pool

    def _submit(
        self, chunk: Sequence[str], now: float, reason: dict[str, str] | None
    ) -> tuple[ProcessPoolExecutor, Future[bytes]]:
        """Hand a chunk to the worker processes (fresh ones when a worker has died)."""
        count = self.settings.batch_workers or os.cpu_count() or 1
        pool = self._workers(count)
        try:
            return pool, pool.submit(_worker_verify, chunk, now, reason)
        except BrokenProcessPool:
            self._discard_workers(pool)
            pool = self._workers(count)
            return pool, pool.submit(_worker_verify, chunk, now, reason)

    def _discard_workers(self, broken: ProcessPoolExecutor) -> None:
        with self._pool_lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False)

    def _collect(
        self,
        chunk: Sequence[str],
        submitted: tuple[ProcessPoolExecutor, Future[bytes]],
        now: float,
        reason: dict[str, str] | None,
        retries: list[int],
    ) -> bytes:
        """A chunk's results; when its worker failed, the chunk is verified again in halves (on
        fresh workers) until the item that fails by itself is found and answered ``malformed``."""
        pool, future = submitted
        try:
            return future.result()
        except Exception as exc:  # noqa: BLE001 - a worker that died (BrokenProcessPool) or failed
            self.metrics.worker_failures.inc()
            log.warning(
                "a batch worker failed on %d items (%s); retrying them in parts", len(chunk), type(exc).__name__
            )
            self._discard_workers(pool)
        if len(chunk) == 1 or retries[0] <= 0:
            if retries[0] <= 0:
                raise BatchWorkersFailingError(
                    "the batch workers keep failing on this batch; retry later or send smaller batches",
                    headers={"Retry-After": "5"},
                )
            return orjson.dumps(with_freshness(_malformed(self.mirror.freshness(), now), reason))
        retries[0] -= 1
        half = len(chunk) // 2
        parts = [
            self._collect(p, self._submit(p, now, reason), now, reason, retries) for p in (chunk[:half], chunk[half:])
        ]
        return b",".join(parts)
