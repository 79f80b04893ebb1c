"""The anchoring worker: an outbox of issued-but-unanchored licenses, anchored in batches.

For each signing key it holds, a worker:

1. takes the key's row in ``signer_locks`` with ``SELECT ... FOR UPDATE SKIP LOCKED`` (on
   PostgreSQL; SQLite runs one writer at a time anyway), so one worker at a time sends with a key
   and no two workers race for its nonce: several workers and API replicas can share one database;
2. resumes the key's *prepared* batches (recorded before their transaction was sent): a batch the
   chain already holds *for the key's issuer* is recorded, any other is sent again, so a crash at
   any step neither loses a license nor anchors one twice (the contract refuses a root twice per
   issuer, too). An anchor of the same root by another issuer does not count: anchors are kept
   per issuer on chain, and only the license's own issuer's anchor makes it valid;
3. re-sends batches it anchored in the last ``recheck_blocks`` blocks that the chain no longer
   holds (lost to a reorganisation);
4. when the key has ``batch_size`` pending licenses, or its oldest pending license is older than
   ``max_age`` seconds, claims them (``FOR UPDATE SKIP LOCKED``), records the batch as prepared,
   commits, then sends it and records it anchored.

A chain node that goes away makes the worker wait and retry with exponential backoff; issuance
goes on meanwhile and the licenses verify as "issued, not yet anchored" until the node returns.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from sqlalchemy import insert, select, update

from registry._failpoints import FAILPOINT_ENV, failpoint
from registry.chain.client import MAX_BATCH_SIZE, AnchorResult, RegistryClient
from registry.chain.records import Anchor
from registry.errors import ChainUnavailableError, ConfigurationError, ConflictError, TransactionError
from registry.issuer.store import IssuerStore, batches, licenses, record_batch, signer_locks
from registry.periodic import run_periodically
from signer import MerkleTree

__all__ = ["FAILPOINT_ENV", "AnchorWorker", "WorkerStats", "failpoint"]

log = logging.getLogger("elicense.worker")


@dataclass
class WorkerStats:
    batches: int = 0
    anchored: int = 0
    resumed: int = 0
    reanchored: int = 0
    errors: int = 0
    last_error: str | None = None
    last_anchor_at: float = 0.0


class AnchorWorker:
    def __init__(
        self,
        store: IssuerStore,
        client: RegistryClient,
        accounts: Iterable[LocalAccount],
        *,
        batch_size: int = 1000,
        max_age: float = 5.0,
        name: str | None = None,
        recheck_blocks: int = 64,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise ConfigurationError(f"batch size must be from 1 to {MAX_BATCH_SIZE}")
        if max_age < 0:
            raise ConfigurationError("max_age must not be negative")
        self.store = store
        self.client = client
        self.accounts: dict[str, LocalAccount] = {str(a.address): a for a in accounts}
        if not self.accounts:
            raise ConfigurationError("a worker needs at least one signing key")
        self.batch_size = batch_size
        self.max_age = max_age
        self.recheck_blocks = recheck_blocks
        self.clock = clock  # seconds since the epoch, as licenses' created_at: the ages of pending licenses
        self.name = name or f"{socket.gethostname()}:{threading.get_ident()}"
        self.stats = WorkerStats()
        self._issuers: dict[str, bytes] = {}  # key -> its issuer (a key belongs to one issuer forever)
        with store.engine.begin() as conn:
            known = set(conn.execute(select(signer_locks.c.signer)).scalars())
            missing = [{"signer": s} for s in self.accounts if s not in known]
            if missing:
                conn.execute(insert(signer_locks), missing)

    # -- one pass ------------------------------------------------------------------------------------

    def run_once(self, *, force: bool = False) -> list[AnchorResult]:
        """Anchor what is due for every key this worker holds (``force``: regardless of age)."""
        done: list[AnchorResult] = []
        for signer in self.accounts:
            done.extend(self._run_signer(signer, force=force))
        return done

    def _run_signer(self, signer: str, *, force: bool) -> list[AnchorResult]:
        engine = self.store.engine
        if engine.dialect.name == "sqlite":
            # SQLite has one writer at a time and no row locks: one worker per database
            return self._work(signer, force=force)
        with engine.connect() as lock_conn:
            lock_tx = lock_conn.begin()
            try:
                held = lock_conn.execute(
                    select(signer_locks.c.signer)
                    .where(signer_locks.c.signer == signer)
                    .with_for_update(skip_locked=True)
                ).scalar()
                if held is None:
                    lock_tx.rollback()
                    return []  # another worker is sending with this key
                lock_conn.execute(
                    update(signer_locks)
                    .where(signer_locks.c.signer == signer)
                    .values(worker=self.name, heartbeat=int(self.clock()))
                )
                results = self._work(signer, force=force)
                lock_tx.commit()
                return results
            except BaseException:
                lock_tx.rollback()
                raise

    def _work(self, signer: str, *, force: bool) -> list[AnchorResult]:
        results: list[AnchorResult] = []
        self._recheck_recent(signer)
        for batch in self.store.prepared_batches(signer):
            result = self._send(signer, batch.root)
            self.stats.resumed += 1
            if result is not None:
                results.append(result)
        while True:
            fresh = self._prepare(signer, force=force)
            if fresh is None:
                return results
            result = self._send(signer, fresh)
            if result is not None:
                results.append(result)

    def _issuer_of(self, signer: str) -> bytes | None:
        """The issuer ``signer`` is a key of, on chain (``None`` while it is not registered)."""
        issuer_id = self._issuers.get(signer)
        if issuer_id is None:
            window = self.client.get_key(signer)
            if window is None:
                return None
            issuer_id = self._issuers[signer] = window.issuer_id
        return issuer_id

    def _own_anchor(self, signer: str, root: bytes) -> Anchor | None:
        """The anchor of ``root`` by the issuer of ``signer`` (another issuer's anchor of the same
        root is no anchor of this batch)."""
        issuer_id = self._issuer_of(signer)
        return None if issuer_id is None else self.client.get_anchor(issuer_id, root)

    def _recheck_recent(self, signer: str) -> None:
        """Batches anchored in the last ``recheck_blocks`` blocks that the chain no longer holds
        (lost to a reorganisation) go back to *prepared*, to be anchored again."""
        head = self.client.block_number()
        with self.store.engine.connect() as conn:
            recent = conn.execute(
                select(batches.c.root).where(
                    (batches.c.signer == signer)
                    & (batches.c.state == "anchored")
                    & (batches.c.block_number >= head - self.recheck_blocks)
                )
            ).all()
        lost = [bytes(r[0]) for r in recent if self._own_anchor(signer, bytes(r[0])) is None]
        if lost:
            log.warning("%d anchored batch(es) are no longer on chain (reorganisation): anchoring again", len(lost))
            with self.store.engine.begin() as conn:
                conn.execute(update(batches).where(batches.c.root.in_(lost)).values(state="prepared"))
            self.stats.reanchored += len(lost)

    def _prepare(self, signer: str, *, force: bool) -> bytes | None:
        """Claim up to ``batch_size`` pending licenses of ``signer`` into a prepared batch."""
        with self.store.engine.begin() as conn:
            pending = conn.execute(
                select(licenses.c.digest, licenses.c.created_at)
                .where((licenses.c.signer == signer) & licenses.c.batch_root.is_(None))
                .order_by(licenses.c.created_at, licenses.c.license_id)
                .limit(self.batch_size)
                .with_for_update(skip_locked=True)
            ).all()
            if not pending:
                return None
            oldest = min(int(r.created_at) for r in pending)
            if not force and len(pending) < self.batch_size and self.clock() - oldest < self.max_age:
                return None
            tree = MerkleTree.from_digests(bytes(r.digest) for r in pending)
            record_batch(conn, tree.root, signer, tree.digests)
        failpoint("after_prepare")  # recorded, nothing sent
        return tree.root

    def _send(self, signer: str, root: bytes) -> AnchorResult | None:
        """Send a prepared batch, or record it when the chain already holds it."""
        digests = self.store.batch_digests(root)
        existing = self._own_anchor(signer, root)
        if existing is None:
            failpoint("before_send")
            try:
                result = self.client.anchor(self.accounts[signer], digests)
            except ConflictError:
                existing = self._own_anchor(signer, root)
                if existing is None:
                    raise
            else:
                failpoint("after_receipt")  # on chain, not recorded
                self.store.mark_anchored(
                    root,
                    tx_hash=result.tx.tx_hash,
                    block_number=result.tx.block_number,
                    block_time=result.tx.timestamp,
                    gas_used=result.tx.gas_used,
                )
                self.stats.batches += 1
                self.stats.anchored += result.count
                self.stats.last_anchor_at = self.clock()
                return result
        self.store.mark_anchored(
            root, tx_hash=b"\x00" * 32, block_number=existing.block_number, block_time=existing.timestamp, gas_used=0
        )
        return None

    # -- forever -------------------------------------------------------------------------------------

    def run(
        self,
        stop: threading.Event,
        *,
        interval: float = 1.0,
        max_backoff: float = 30.0,
        wait: Callable[[float], object] | None = None,
    ) -> None:
        """Anchor until ``stop`` is set; a node that is down is retried with exponential backoff."""

        def failed(exc: BaseException, delay: float) -> None:
            self.stats.errors += 1
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("anchoring failed, retrying in %.1f s: %s", delay, self.stats.last_error)

        run_periodically(
            self.run_once,
            stop,
            interval=interval,
            max_backoff=max_backoff,
            retry_on=(ChainUnavailableError, TransactionError, OSError),
            on_error=failed,
            wait=wait,
        )

    def lag(self) -> tuple[int, float]:
        """(licenses of this worker's keys not anchored yet, age in seconds of the oldest): pending
        ones and those in prepared batches."""
        prepared = select(batches.c.root).where(batches.c.state == "prepared")
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(licenses.c.created_at).where(
                    licenses.c.signer.in_(list(self.accounts))
                    & (licenses.c.batch_root.is_(None) | licenses.c.batch_root.in_(prepared))
                )
            ).all()
        if not rows:
            return 0, 0.0
        return len(rows), self.clock() - min(int(r[0]) for r in rows)
