"""The chain mirror: every registry event of one deployment, kept in a local database (SQLite by
default, PostgreSQL by URL), with a confirmation depth, a checkpoint, and reorganisation repair.

Verification reads only the mirror's in-memory index (:class:`~verifier.state.EventIndex`), which
is rebuilt from the database at start and kept current by :meth:`Mirror.sync`; no RPC call and no
call to any issuer happens on the verification path.

- **Confirmation depth** ``d``: only blocks at least ``d`` deep (``number <= head - d + 1``) are
  mirrored, so reorganisations up to that depth never touch the mirror. The younger blocks (up to
  the head) are read too, and their *negative* facts (suspensions, revocations, supersessions, key
  compromises and retirements) apply at once, kept apart and replaced at every sync: a revocation
  takes effect from the head block, an anchor or a registration after the depth.
- **Checkpoint**: the last mirrored block (number, hash, time), stored with the events in one
  transaction per sync step; a crash at any point resumes from the last committed checkpoint.
- **Reorganisations** deeper than ``d``: each sync first compares the checkpoint's hash with the
  chain's block at that height. On a mismatch it walks back through the stored block hashes to the
  last block the chain still has, deletes every event after it, rebuilds the index and syncs again.
  Each repair starts a new *epoch* (stored with the checkpoint) and event ids are never reused, so a
  process following the database (:meth:`Mirror.refresh`) rebuilds its index after a repair rather
  than miss the events that replaced the deleted ones.
- **Batches** whose published digests do not rebuild their Merkle root are recorded invalid and
  their licenses never verify (the index recomputes every root).
- **Snapshots** (:mod:`verifier.snapshot`): :meth:`Mirror.export_snapshot` writes the events and checkpoint to a file;
  :meth:`Mirror.import_snapshot` starts a new mirror from one only when its events are exactly the
  chain's logs of the same block range (``eth_getLogs``): nothing missing, nothing added, nothing
  changed. A snapshot saves reading block headers; it is never trusted for what it leaves out.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Table, create_engine, delete, event, insert, select
from sqlalchemy.engine import Connection, Engine

from registry import Deployment, RegistryClient
from registry._files import private_file
from registry.chain.artifacts import load_artifact
from registry.chain.events import EventDecoder, RegistryEvent
from registry.errors import ConfigurationError
from verifier import snapshot
from verifier._mirror_tables import (
    MirrorError,
    block_hash_time,
    blocks,
    events_table,
    log_row,
    meta,
    metadata,
    pending_table,
    sqlite_pragmas,
)
from verifier.index import DEFAULT_MAX_ANCHORS_PER_ISSUER, NEGATIVE_EVENTS, EventIndex, Freshness

__all__ = ["Mirror", "MirrorError", "SyncReport"]


@dataclass(frozen=True, slots=True)
class SyncReport:
    events: int
    from_block: int
    to_block: int
    head: int
    reorg_depth: int  # blocks rolled back (0 when none)
    seconds: float


class Mirror:
    """A chain mirror of one deployment (see the module documentation)."""

    def __init__(
        self,
        url: str,
        deployment: Deployment,
        *,
        confirmations: int = 2,
        chunk_blocks: int = 2000,
        max_anchors_per_issuer: int = DEFAULT_MAX_ANCHORS_PER_ISSUER,
    ):
        if not isinstance(url, str) or "://" not in url:
            raise ConfigurationError(f"a mirror database URL looks like sqlite:///path, got {url!r}")
        if not 1 <= confirmations <= 1000:
            raise ConfigurationError("confirmations must be from 1 (the head block) to 1000")
        if not 1 <= chunk_blocks <= 100_000:
            raise ConfigurationError("chunk_blocks must be from 1 to 100000")
        if not 1_000 <= max_anchors_per_issuer <= 10**9:
            raise ConfigurationError("max_anchors_per_issuer must be from 1000 to 1000000000")
        self.max_anchors_per_issuer = max_anchors_per_issuer
        self.url = url
        self.deployment = deployment
        self.confirmations = confirmations
        self.chunk_blocks = chunk_blocks
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", sqlite_pragmas)
        metadata.create_all(self.engine)
        self.decoder = EventDecoder([load_artifact(n).abi for n in ("TrustRegistry", "LicenseRegistry")])
        self._lock = threading.RLock()
        self._check_deployment()
        self.trust_domain = (deployment.chain_id, deployment.trust_registry)  # SM2 bindings' proofs
        self.index = EventIndex(max_anchors_per_issuer=max_anchors_per_issuer, trust_domain=self.trust_domain)
        self._last_event_id = 0
        self._epoch = "0"
        self._pending_stored = True  # whether the pending table may hold rows (unknown until a sync)
        self.reload()

    @classmethod
    def at(cls, path: str | Path, deployment: Deployment, **kwargs: Any) -> Mirror:
        path = Path(path)
        private_file(path)
        return cls(f"sqlite:///{path}", deployment, **kwargs)

    def close(self) -> None:
        self.engine.dispose()

    # -- metadata ----------------------------------------------------------------------------------

    def _get_meta(self, conn: Connection, key: str) -> str | None:
        value = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
        return None if value is None else str(value)

    def _set_meta(self, conn: Connection, key: str, value: str) -> None:
        conn.execute(delete(meta).where(meta.c.key == key))
        conn.execute(insert(meta).values(key=key, value=value))

    def _check_deployment(self) -> None:
        expected = json.dumps(self.deployment.to_dict(), sort_keys=True)
        with self.engine.begin() as conn:
            stored = self._get_meta(conn, "deployment")
            if stored is None:
                self._set_meta(conn, "deployment", expected)
            elif stored != expected:
                raise MirrorError("this mirror database belongs to another deployment; use a new database for this one")

    def checkpoint(self) -> tuple[int, bytes, int] | None:
        """(block number, block hash, block time) of the last mirrored block, if any."""
        with self.engine.connect() as conn:
            value = self._get_meta(conn, "checkpoint")
        if value is None:
            return None
        number, hash_hex, when = json.loads(value)
        return int(number), bytes.fromhex(hash_hex), int(when)

    def freshness(self) -> Freshness:
        return self.index.freshness()

    # -- the in-memory index -----------------------------------------------------------------------

    def reload(self) -> None:
        """Rebuild the index from the database (at start, after a reorganisation, or to pick up
        what another process synced)."""
        with self._lock:
            index = EventIndex(max_anchors_per_issuer=self.max_anchors_per_issuer, trust_domain=self.trust_domain)
            with self.engine.connect() as conn:
                epoch = self._get_meta(conn, "epoch") or "0"
            last_id = 0
            for row_id, decoded, block_time in self._stored_events(events_table, 0):
                index.apply(decoded, block_time)
                last_id = row_id
            point = self.checkpoint()
            if point is not None:
                index.advance(point[0], point[2], point[1])
            self._load_pending(index)
            with self.engine.connect() as conn:
                synced = self._get_meta(conn, "synced_at")
            index.synced_at = float(synced) if synced else 0.0
            self.index = index
            self._last_event_id = last_id
            self._epoch = epoch

    def refresh(self) -> int:
        """Apply events another process added to the database since the last load; returns how many.
        After a reorganisation repaired by another process (a new epoch) the index is rebuilt."""
        with self._lock:
            with self.engine.connect() as conn:
                epoch = self._get_meta(conn, "epoch") or "0"
            if epoch != self._epoch:
                before = self._last_event_id
                self.reload()
                return max(1, self._last_event_id - before)
            count = 0
            for row_id, decoded, block_time in self._stored_events(events_table, self._last_event_id):
                self.index.apply(decoded, block_time)
                self._last_event_id = row_id
                count += 1
            point = self.checkpoint()
            if point is not None:
                self.index.advance(point[0], point[2], point[1])
            self._load_pending(self.index)
            with self.engine.connect() as conn:
                synced = self._get_meta(conn, "synced_at")
            if synced:
                self.index.synced_at = float(synced)
            return count

    def epoch(self) -> str:
        """The repair epoch: it changes each time a reorganisation deeper than the depth is repaired."""
        with self.engine.connect() as conn:
            return self._get_meta(conn, "epoch") or "0"

    def last_event_id(self) -> int:
        """The id of the newest stored event (0 when none); ids only grow."""
        with self.engine.connect() as conn:
            value = conn.execute(select(events_table.c.id).order_by(events_table.c.id.desc()).limit(1)).scalar()
        return int(value or 0)

    def stored_transactions(self, hashes: set[bytes]) -> set[bytes]:
        """Those of ``hashes`` some confirmed stored event came from (not those a reorg dropped)."""
        found: set[bytes] = set()
        wanted = sorted(hashes)
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                query = select(events_table.c.tx_hash).where(events_table.c.tx_hash.in_(part)).distinct()
                found.update(bytes(h) for h in conn.execute(query).scalars())
        return found

    def events_after(self, after_id: int, *, limit: int) -> list[tuple[int, RegistryEvent, int]]:
        """At most ``limit`` confirmed events with ids above ``after_id`` in order: (id, event, time)."""
        return list(self._stored_events(events_table, after_id, limit))

    def _load_pending(self, index: EventIndex) -> None:
        with self.engine.connect() as conn:
            up_to = self._get_meta(conn, "pending_block")
        index.set_pending(
            [(decoded, block_time) for _, decoded, block_time in self._stored_events(pending_table, 0)],
            int(up_to) if up_to else 0,
        )

    def _stored_events(
        self, table: Table, after_id: int, limit: int | None = None
    ) -> Iterator[tuple[int, RegistryEvent, int]]:
        query = select(table).where(table.c.id > after_id).order_by(table.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(query if limit is None else query.limit(limit)).all()
        for row in rows:
            log = {
                "address": row.address,
                "topics": [bytes.fromhex(t[2:]) for t in json.loads(row.topics)],
                "data": bytes(row.data),
                "blockNumber": row.block_number,
                "blockHash": bytes(row.block_hash),
                "transactionHash": bytes(row.tx_hash),
                "logIndex": row.log_index,
            }
            decoded = self.decoder.decode(log)
            if decoded is not None:
                yield int(row.id), decoded, int(row.block_time)

    # -- syncing -----------------------------------------------------------------------------------

    def sync(self, client: RegistryClient, *, max_blocks: int | None = None) -> SyncReport:
        """Bring the mirror up to ``head - confirmations + 1`` (or ``max_blocks`` further)."""
        if client.deployment != self.deployment:
            raise MirrorError("the client is for another deployment than this mirror")
        started = time.monotonic()
        with self._lock:
            reorg = self._repair_reorg(client)
            head = client.block_number()
            target = head - self.confirmations + 1
            point = self.checkpoint()
            start = self.deployment.block_number if point is None else point[0] + 1
            if max_blocks is not None:
                target = min(target, start + max_blocks - 1)
            applied = 0
            first = start
            while start <= target:
                end = min(target, start + self.chunk_blocks - 1)
                applied += self._sync_range(client, start, end)
                start = end + 1
            if max_blocks is None or target >= head - self.confirmations + 1:
                self._sync_pending(client, max(start, target + 1), head)
            else:
                self.index.synced_at = time.time()
                with self.engine.begin() as conn:
                    self._set_meta(conn, "synced_at", repr(self.index.synced_at))
            return SyncReport(
                events=applied,
                from_block=first,
                to_block=max(first - 1, target),
                head=head,
                reorg_depth=reorg,
                seconds=time.monotonic() - started,
            )

    def _fetch(
        self, client: RegistryClient, start: int, end: int, times: dict[int, tuple[bytes, int]]
    ) -> tuple[list[dict[str, Any]], list[tuple[RegistryEvent, int]]]:
        """The registry's logs of blocks ``start..end`` as table rows and decoded events, in order."""
        w3 = client.w3
        addresses = [client.trust.address, client.licenses.address]
        logs = w3.eth.get_logs({"fromBlock": start, "toBlock": end, "address": addresses})
        rows = []
        decoded: list[tuple[RegistryEvent, int]] = []
        for log in sorted(logs, key=lambda item: (int(item["blockNumber"]), int(item["logIndex"]))):
            number = int(log["blockNumber"])
            block_hash, block_time = block_hash_time(w3, number, times)
            if bytes(log["blockHash"]) != block_hash:
                raise MirrorError(f"block {number} changed while syncing; try again")
            event_record = self.decoder.decode(log)
            if event_record is None:
                continue
            rows.append(log_row(log, block_hash, block_time, event_record.meta.address))
            decoded.append((event_record, block_time))
        return rows, decoded

    def _sync_pending(self, client: RegistryClient, start: int, head: int) -> None:
        """Read the blocks younger than the confirmation depth and apply their negative facts."""
        times: dict[int, tuple[bytes, int]] = {}
        rows, decoded = self._fetch(client, start, head, times) if start <= head else ([], [])
        keep = [(row, event) for row, event in zip(rows, decoded, strict=True) if isinstance(event[0], NEGATIVE_EVENTS)]
        self.index.synced_at = time.time()
        # one write per sync, and the pending table left alone while it stays empty: a quiet chain
        # is followed every few seconds, and each statement is interpreter time taken from requests
        with self.engine.begin() as conn:
            if keep or self._pending_stored:
                conn.execute(delete(pending_table))
            if keep:
                conn.execute(insert(pending_table), [row for row, _ in keep])
            self._set_meta(conn, "pending_block", str(head))
            self._set_meta(conn, "synced_at", repr(self.index.synced_at))
        self._pending_stored = bool(keep)
        self.index.set_pending([event for _, event in keep], head)

    def _sync_range(self, client: RegistryClient, start: int, end: int) -> int:
        w3 = client.w3
        times: dict[int, tuple[bytes, int]] = {}
        rows, decoded = self._fetch(client, start, end, times)
        end_hash, end_time = block_hash_time(w3, end, times)
        with self.engine.begin() as conn:
            if rows:
                conn.execute(insert(events_table), rows)
            block_rows = {(n, h, t) for n, (h, t) in times.items()}
            numbers = [n for n, _, _ in block_rows]
            existing = set(conn.execute(select(blocks.c.number).where(blocks.c.number.in_(numbers))).scalars())
            new_blocks = [{"number": n, "hash": h, "time": t} for n, h, t in block_rows if n not in existing]
            if new_blocks:
                conn.execute(insert(blocks), new_blocks)
            self._set_meta(conn, "checkpoint", json.dumps([end, end_hash.hex(), end_time]))
            last_id = conn.execute(select(events_table.c.id).order_by(events_table.c.id.desc()).limit(1)).scalar()
        for record, block_time in decoded:
            self.index.apply(record, block_time)
        self.index.advance(end, end_time, end_hash)
        self._last_event_id = int(last_id or 0)
        return len(rows)

    def _repair_reorg(self, client: RegistryClient) -> int:
        """Detect a reorganisation below the checkpoint and roll back to the last common block."""
        point = self.checkpoint()
        if point is None:
            return 0
        number, stored_hash, _ = point
        current = client.w3.eth.get_block(number) if number <= client.block_number() else None
        if current is not None and bytes(current["hash"]) == stored_hash:
            return 0
        with self.engine.connect() as conn:
            known = conn.execute(select(blocks.c.number, blocks.c.hash).order_by(blocks.c.number.desc())).all()
        fork = self.deployment.block_number - 1
        for block_number, block_hash in known:
            if block_number > client.block_number():
                continue
            if bytes(client.w3.eth.get_block(block_number)["hash"]) == bytes(block_hash):
                fork = int(block_number)
                break
        fork_block = client.w3.eth.get_block(max(fork, 0))
        with self.engine.begin() as conn:
            epoch = int(self._get_meta(conn, "epoch") or "0") + 1
            self._set_meta(conn, "epoch", str(epoch))
            conn.execute(delete(pending_table))
            conn.execute(delete(events_table).where(events_table.c.block_number > fork))
            conn.execute(delete(blocks).where(blocks.c.number > fork))
            if fork < self.deployment.block_number:
                conn.execute(delete(meta).where(meta.c.key == "checkpoint"))
            else:
                self._set_meta(
                    conn,
                    "checkpoint",
                    json.dumps([fork, bytes(fork_block["hash"]).hex(), int(fork_block["timestamp"])]),
                )
        self.reload()
        return number - fork

    # -- snapshots ---------------------------------------------------------------------------------

    def export_snapshot(self, path: str | Path) -> int:
        """Write the checkpoint and every event to a gzip JSON-lines file; returns the event count."""
        return snapshot.export_snapshot(self, path)

    @classmethod
    def import_snapshot(cls, path: str | Path, url: str, client: RegistryClient, *, confirmations: int = 2) -> Mirror:
        """A new mirror at ``url`` started from a snapshot, after checking it against the chain (see
        :func:`verifier.snapshot.import_snapshot`)."""
        return snapshot.import_snapshot(cls, path, url, client, confirmations=confirmations)
