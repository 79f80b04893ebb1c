"""What the HTTP service runs on: the deployment, the chain client, the mirror and its follower,
the verifier, the issuer store and the departments this service signs for.

Verification reads only the mirror's in-memory index. The follower thread keeps the mirror in
step with the chain; when the node goes away, verification keeps answering from the mirror and
every result says how old it is and whether it is ``stale`` (the freshness policy decides whether
a stale mirror only warns or makes the service refuse).

Hostile input never fails more than its own item, in process and in the batch worker processes
(:mod:`api.batch`). CPU-heavy work is bounded and kept off the event loop: image decoding runs in
a small thread pool (Pillow and zxing-cpp release the interpreter lock), batches in a thread and,
when large, in worker processes; both admit a bounded number of requests and answer 503 with
``Retry-After`` beyond it (:mod:`api.admission`).
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from api.admission import Gate
from api.batch import (
    INLINE_GROUP,
    WorkerPool,
    stale_reason,
    staleness,
    verify_json_many,
    verify_safely,
    with_freshness,
)
from api.cosigning import co_signing_specs, load_co_signing_keys
from api.deliverer import Deliverer, DeliveryPolicy, http_post, http_post_allowing_private
from api.metrics import Metrics
from api.outbox import Producer
from api.receipting import ReceiptDesk, load_receipt_identity
from api.redaction import redact, redact_library_logs
from api.security import ApiKeys, Idempotency
from api.settings import Settings
from api.subscription_secrets import WebhookKey, load_webhook_key
from api.subscriptions import SubscriptionBook
from api.workers import VerifyWorkers
from registry import Deployment, RegistryClient
from registry.issuer.department import Department
from registry.issuer.joint import JointDesk
from registry.issuer.store import IssuerStore
from registry.issuer.worker import AnchorWorker
from registry.periodic import run_periodically
from signer import CoSigningKey, domain_separator
from verifier.mirror import Mirror
from verifier.pipeline import Verifier
from verifier.receipts import VerifierIdentity

__all__ = ["Metrics", "Services"]

log = logging.getLogger("elicense.service")

#: The collector's thresholds once the long-lived heap is frozen. The youngest generation stays
#: small: each of its collections then takes well under a millisecond, where a threshold of 50,000
#: let the background loops' cyclic garbage (SQL statements, the embedded chain's objects) pile up
#: and be collected at once, in 60 to 320 ms, in whichever thread (often the event loop's) hit it.
GC_THRESHOLDS = (1000, 10, 10)
#: How long a thread runs before another one waiting for the interpreter may take it (CPython's
#: default is 5 ms). Background threads (mirror sync, anchoring, webhooks, the embedded chain) run
#: Python code; with 5 ms every hand-over from one of them to the event loop could cost a request up
#: to 5 ms, several times per request.
SWITCH_INTERVAL = 0.001


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
        co_signing_keys: dict[str, CoSigningKey] | None = None,
        receipt_identity: VerifierIdentity | None = None,
        webhook_key: WebhookKey | None = None,
    ) -> None:
        self.settings = settings
        self.deployment = deployment
        self.client = client
        self.mirror = mirror
        self.store = store
        self.departments = departments or {}
        # the departments' co-signing keys: given, or read from the keystores the settings name
        if co_signing_keys is None:
            specs = co_signing_specs(settings.co_signing_keys)
            co_signing_keys = load_co_signing_keys(specs, keys_dir=settings.home / "keys") if specs else {}
        self.co_signing_keys = dict(co_signing_keys)
        domain = domain_separator(deployment.chain_id, deployment.license_registry)
        self.joint = JointDesk(store, domain=domain, client=client)
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
        # the identity receipts are signed with: given, or read from the keystore the settings name
        self.receipts = ReceiptDesk(
            receipt_identity or load_receipt_identity(settings), mirror=mirror, deployment=deployment
        )
        self.last_sync_error: str | None = None
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        self.workers = WorkerPool(mirror, deployment, settings.batch_workers or cores, self.metrics.worker_failures)
        self._follow = follow and client is not None
        self.anchor_worker = anchor_worker
        self._anchorer: threading.Thread | None = None
        # status subscriptions: the book, the outbox's producer (after each sync) and its deliverer
        self.subscriptions = SubscriptionBook(
            store, mirror, key=webhook_key or _webhook_key(settings), allow_private=settings.webhook_allow_private
        )
        self.subscriptions.prepare()  # seals plain secrets of an older database; a wrong key stops here
        self.producer = Producer(store, mirror, chain_id=deployment.chain_id)
        post = http_post_allowing_private if settings.webhook_allow_private else http_post
        self.deliverer = Deliverer(
            store.engine,
            _delivery_policy(settings),
            secret_of=self.subscriptions.secret_of,
            post=post,
            concurrency=settings.webhook_concurrency,
            on_result=self.metrics.webhook_attempted,
        )
        self.metrics.watch_outbox(self.producer.backlog)
        self._delivering: threading.Thread | None = None
        self.verify_workers: VerifyWorkers | None = None  # set by `elicense serve` (api.workers)
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
        if self._delivering is None:
            self.produce_deliveries()
            self._delivering = threading.Thread(target=self._deliver_loop, name="webhooks", daemon=True)
            self._delivering.start()
        self._update_gauges()
        # The mirror's index and the libraries are long-lived: move them out of the collector's way,
        # so full collections (tens of milliseconds over a large heap) do not stall requests.
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        sys.setswitchinterval(SWITCH_INTERVAL)

    def stop(self) -> None:
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=10)
        if self._anchorer is not None:
            self._anchorer.join(timeout=30)
        if self._delivering is not None:
            self._delivering.join(timeout=30)
        self.deliverer.close()
        self.workers.shutdown()
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

        # The head block's hash after the last pass that found nothing to do: while no license is
        # pending and the chain has not moved, a pass has nothing to anchor and no anchor to find
        # lost, yet would read every recent batch's anchor from the chain (on the embedded chain,
        # tens of milliseconds of EVM work per department holding the interpreter every interval).
        idle_at: list[bytes | None] = [None]

        def anchor() -> None:
            pending, _ = worker.lag()
            with self.chain_lock:
                head = bytes(worker.client.w3.eth.get_block("latest")["hash"])
            if pending == 0 and head == idle_at[0]:
                return
            try:
                with self.chain_lock:
                    results = worker.run_once()
                for r in results:
                    self.metrics.anchored.labels("worker").inc(r.count)
                idle_at[0] = head if pending == 0 and not results else None
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
            if self.verify_workers is not None:
                self.verify_workers.mirror_moved()
            self.produce_deliveries()
            if report.reorg_depth:
                log.warning("mirror repaired a reorganisation %d blocks deep", report.reorg_depth)
            self.last_sync_error = None
        except Exception as exc:  # noqa: BLE001 - the follower survives anything the node does
            self.metrics.sync_errors.inc()
            self.last_sync_error = self._error_text(exc)
            log.warning("mirror sync failed: %s", self.last_sync_error)
        self._update_gauges()

    def produce_deliveries(self) -> None:
        """Turn the mirror's new status events into webhook deliveries (see :mod:`api.outbox`)."""
        try:
            if self.producer.produce():
                self.deliverer.wake.set()
        except Exception as exc:  # noqa: BLE001 - retried after the next sync; nothing is lost
            log.warning("producing webhook deliveries failed: %s", self._error_text(exc))

    def _deliver_loop(self) -> None:
        def failed(exc: BaseException, _delay: float) -> None:
            self.deliverer.stats.last_error = self._error_text(exc)
            log.warning("webhook delivery pass failed: %s", self.deliverer.stats.last_error)

        run_periodically(
            self.deliverer.pump,  # starts due deliveries without waiting; each one ending wakes it again
            self._stop,
            interval=self.settings.webhook_interval,
            max_backoff=60.0,
            on_error=failed,
            wait=self.deliverer.pause(self._stop),
        )

    def _update_gauges(self) -> None:
        self.metrics.refresh_mirror(self.mirror)

    def attach_workers(self, workers: VerifyWorkers) -> None:
        """Serve beside verification workers: tell them of each sync, show their counts."""
        self.verify_workers = workers
        self.metrics.watch_workers(workers.counters)

    # -- verification ------------------------------------------------------------------------------

    def is_stale(self) -> tuple[bool, float]:
        """Whether the mirror is older than ``stale_after``, and its age (infinite before the
        first sync)."""
        return staleness(self.mirror.freshness(), self.settings.stale_after)

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
        if len(texts) < 2000 or self.workers.count == 1:
            groups = []
            for start in range(0, len(texts), INLINE_GROUP):
                items = []
                for status, item in verify_json_many(self.verifier, texts[start : start + INLINE_GROUP], now, reason):
                    self.metrics.verifications.labels(status).inc()
                    items.append(item)
                groups.append(b",".join(items))
            return groups
        groups = self.workers.verify(texts, now, reason)
        self.metrics.verifications.labels("batch").inc(len(texts))
        return groups


def _webhook_key(settings: Settings) -> WebhookKey | None:
    """The key ``ELICENSE_WEBHOOK_KEY`` names; on the in-process development chain (no
    ``ELICENSE_RPC_URL``: the demo, whose store lives as long as its chain), one made for the run."""
    key = load_webhook_key(settings)
    if key is None and not settings.rpc_url:
        key = WebhookKey.generate()
        log.info("development chain: subscription secrets are sealed with a webhook key made for this run")
    return key


def _delivery_policy(settings: Settings) -> DeliveryPolicy:
    return DeliveryPolicy(
        max_attempts=settings.webhook_max_attempts,
        base_delay=settings.webhook_retry_base,
        max_delay=max(settings.webhook_max_backoff, settings.webhook_retry_base),
        timeout=settings.webhook_timeout,
    )
