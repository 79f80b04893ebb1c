"""The status subscriptions' durable outbox: the producer that turns the chain mirror's status
events into deliveries.

The producer follows the mirror's database by event id (ids only grow, never reused, even after a
reorganisation repair). Each step reads the confirmed events after its cursor, matches them with
the active subscriptions, and inserts the deliveries and advances the cursor in one transaction of
the issuer store: a crash before the commit produces the step again, after it never. A delivery is
unique per subscription and chain fact (transaction, event, license), so events that a repaired
reorganisation stored again under new ids produce nothing twice.

Only confirmed events produce deliveries: a status change in blocks younger than the confirmation
depth already applies to verification, but is announced only once it can no longer vanish.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from api.subscription_tables import deliveries, subscriptions, webhook_cursor
from registry.chain.events import (
    KeyCompromised,
    LicensesReinstated,
    LicensesRevoked,
    LicensesSuperseded,
    LicensesSuspended,
    RegistryEvent,
    StatusChangesVoided,
)
from registry.chain.records import Anchor
from registry.document.identifiers import issuer_id_from_uscc, uscc_from_issuer_id
from registry.errors import ConfigurationError
from registry.issuer.store import IssuerStore, licenses
from verifier.mirror import Mirror

__all__ = ["Fact", "Producer", "facts_of"]

_KINDS: dict[type[RegistryEvent], str] = {
    LicensesSuspended: "suspended",
    LicensesReinstated: "reinstated",
    LicensesRevoked: "revoked",
    LicensesSuperseded: "superseded",
    StatusChangesVoided: "voided",
}


@dataclass(frozen=True, slots=True)
class Fact:
    """One license's status change as the chain recorded it, ready to announce."""

    event: str
    issuer_id: bytes
    digest: bytes
    reason: int
    replacement: bytes | None
    key: str | None
    compromised_at: int | None


def facts_of(event: RegistryEvent, anchors: dict[bytes, Anchor | tuple[Anchor, ...]] | None) -> Iterable[Fact]:
    """The license facts of one event (``anchors``: the issuer's anchors, for key compromises)."""
    kind = _KINDS.get(type(event))
    if kind is not None:
        assert isinstance(
            event, LicensesSuspended | LicensesReinstated | LicensesRevoked | LicensesSuperseded | StatusChangesVoided
        )
        reason = getattr(event, "reason", 0)
        replacements = getattr(event, "replacements", None) or (None,) * len(event.digests)
        for digest, replacement in zip(event.digests, replacements, strict=True):
            yield Fact(kind, event.issuer_id, digest, reason, replacement, None, None)
    elif isinstance(event, KeyCompromised):
        # the licenses the key anchored from the compromise time on: no longer valid
        for digest, found in (anchors or {}).items():
            records = (found,) if isinstance(found, Anchor) else found
            if any(r.key == event.key and r.timestamp >= event.compromised_at for r in records):
                yield Fact("key_compromised", event.issuer_id, digest, 0, None, event.key, event.compromised_at)


class Producer:
    """Turns the mirror's confirmed status events into deliveries (see the module documentation)."""

    def __init__(self, store: IssuerStore, mirror: Mirror, *, chain_id: int, step_events: int = 2000) -> None:
        self.store = store
        self.engine: Engine = store.engine
        self.mirror = mirror
        self.chain_id = chain_id
        self.step_events = step_events
        self._lock = threading.Lock()  # one step at a time in this process (the follower, the start)

    def cursor(self) -> tuple[int, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(webhook_cursor).where(webhook_cursor.c.name == "mirror")).first()
        return None if row is None else (int(row.event_id), str(row.epoch))

    def backlog(self) -> tuple[int, float]:
        """The pending deliveries and the age in seconds of the oldest of them (0 when none)."""
        with self.engine.connect() as conn:
            count, oldest = conn.execute(
                select(func.count(), func.min(deliveries.c.created_at)).where(deliveries.c.state == "pending")
            ).one()
        return int(count), 0.0 if oldest is None else max(0.0, time.time() - float(oldest))

    def produce(self) -> int:
        """Produce every delivery the mirror's new events call for; returns how many were inserted."""
        total = 0
        while True:
            with self._lock:
                inserted, more = self._step()
            total += inserted
            if not more:
                return total

    def _step(self) -> tuple[int, bool]:
        point = self.cursor()
        epoch = self.mirror.epoch()
        if point is None:  # the first start: subscriptions made from now on see what follows
            with self.engine.begin() as conn:
                conn.execute(
                    insert(webhook_cursor).values(name="mirror", event_id=self.mirror.last_event_id(), epoch=epoch)
                )
            return 0, True
        after, _ = point  # ids only grow: after a repair (new epoch) the re-stored events follow
        if point[1] != epoch:
            self._withdraw_vanished()
        events = self.mirror.events_after(after, limit=self.step_events)
        if not events:
            if point[1] != epoch:
                self._advance(point, after, epoch, [])
            return 0, False
        with self.engine.connect() as conn:
            subs = list(conn.execute(select(subscriptions).where(subscriptions.c.active.is_(True))).all())
        rows = self._rows(events, subs)
        inserted = self._advance(point, events[-1][0], epoch, rows)
        return inserted, len(events) >= self.step_events

    def _withdraw_vanished(self) -> int:
        """After a reorganisation repair: delete the pending deliveries whose transaction the chain
        no longer has (one it includes again is produced again, when confirmed). Delivered ones
        cannot be recalled; receivers see their block hash in ``chain``."""
        with self.engine.connect() as conn:
            pending = {
                bytes(h)
                for h in conn.execute(
                    select(deliveries.c.tx_hash).where(deliveries.c.state == "pending").distinct()
                ).scalars()
            }
        gone = pending - self.mirror.stored_transactions(pending)
        if not gone:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(deliveries).where((deliveries.c.state == "pending") & deliveries.c.tx_hash.in_(gone))
            )
        return int(result.rowcount or 0)

    def _advance(self, point: tuple[int, str], event_id: int, epoch: str, rows: list[dict[str, Any]]) -> int:
        """Insert ``rows`` (those already produced are skipped) and move the cursor, in one
        transaction; returns how many were new."""
        inserted = 0
        with self.engine.begin() as conn:
            if rows:
                conn.execute(_insert_ignoring_duplicates(conn), rows)
                uids = [r["uid"] for r in rows]
                for start in range(0, len(uids), 500):
                    part = uids[start : start + 500]
                    inserted += len(conn.execute(select(deliveries.c.id).where(deliveries.c.uid.in_(part))).all())
            moved = conn.execute(
                update(webhook_cursor)
                .where((webhook_cursor.c.name == "mirror") & (webhook_cursor.c.event_id == point[0]))
                .values(event_id=event_id, epoch=epoch)
            )
            if moved.rowcount != 1:  # another producer moved the cursor: roll back, read again
                raise ConfigurationError("the webhook cursor moved under this producer; one producer per store")
        return inserted

    def _rows(self, events: list[tuple[int, RegistryEvent, int]], subs: list[Any]) -> list[dict[str, Any]]:
        by_digest: dict[bytes, list[Any]] = {}
        by_issuer: dict[bytes, list[Any]] = {}
        for s in subs:
            if s.target_kind == "issuer":
                by_issuer.setdefault(issuer_id_from_uscc(s.target), []).append(s)
            else:
                by_digest.setdefault(bytes.fromhex(s.target[2:]), []).append(s)
        matches: list[tuple[Any, Fact, RegistryEvent, int]] = []
        for event_id, event, block_time in events:
            if type(event) not in _KINDS and not isinstance(event, KeyCompromised):
                continue
            anchors = self.mirror.index.anchors.get(event.issuer_id) if isinstance(event, KeyCompromised) else None
            for fact in facts_of(event, anchors):
                for s in (*by_digest.get(fact.digest, ()), *by_issuer.get(fact.issuer_id, ())):
                    if event_id > s.after_event:
                        matches.append((s, fact, event, block_time))
        names = self._license_ids({fact.digest for s, fact, _, _ in matches if s.license_id is None})
        now = time.time()
        return [
            self._row(s, fact, event, block_time, s.license_id or names.get(fact.digest), now)
            for s, fact, event, block_time in matches
        ]

    def _row(  # noqa: PLR0917 - one delivery's parts
        self, sub: Any, fact: Fact, event: RegistryEvent, block_time: int, license_id: str | None, now: float
    ) -> dict[str, Any]:
        uid = "dlv_" + secrets.token_hex(12)
        m = event.meta
        body: dict[str, Any] = {
            "delivery_id": uid,
            "subscription_id": sub.id,
            "event": fact.event,
            "license_id": license_id,
            "digest": "0x" + fact.digest.hex(),
            "issuer": uscc_from_issuer_id(fact.issuer_id),
            "issuer_id": "0x" + fact.issuer_id.hex(),
            "reason": fact.reason,
            "chain": {
                "chain_id": self.chain_id,
                "block_number": m.block_number,
                "block_hash": "0x" + m.block_hash.hex(),
                "block_time": block_time,
                "tx_hash": "0x" + m.transaction_hash.hex(),
                "log_index": m.log_index,
            },
            "produced_at": int(now),
        }
        if fact.replacement is not None:
            body["replacement"] = "0x" + fact.replacement.hex()
        if fact.key is not None:
            body["key"] = fact.key
            body["compromised_at"] = fact.compromised_at
        return {
            "uid": uid,
            "subscription_id": sub.id,
            "digest": fact.digest,
            "license_id": license_id,
            "event": fact.event,
            "block_number": m.block_number,
            "block_hash": m.block_hash,
            "log_index": m.log_index,
            "tx_hash": m.transaction_hash,
            # only chain facts and the license id: never a holder's data
            "payload": json.dumps(body, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode(),
            "state": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "last_error": None,
            "created_at": now,
            "delivered_at": None,
        }

    def _license_ids(self, digests: set[bytes]) -> dict[bytes, str]:
        """The license ids this service's issuer store knows (its own departments' licenses)."""
        if not digests:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(licenses.c.digest, licenses.c.license_id).where(licenses.c.digest.in_(digests)))
            return {bytes(d): str(i) for d, i in rows}


def _insert_ignoring_duplicates(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(deliveries).on_conflict_do_nothing(constraint="uq_deliveries_fact")
    if conn.dialect.name == "sqlite":
        return sqlite.insert(deliveries).on_conflict_do_nothing()
    raise ConfigurationError(f"the webhook outbox supports SQLite and PostgreSQL, not {conn.dialect.name}")
