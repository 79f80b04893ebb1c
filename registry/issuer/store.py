"""The issuer-side store: licenses with their secrets, batches and anchors (SQLite by default).

The store is the only place where license bodies and their secrets live: they are the issuer's
secret. Rows are written in one transaction per call, so a crash loses nothing that was reported
as issued, and a batch is recorded (``prepared``) before its anchor transaction is sent, so a
restart resumes it instead of anchoring the same licenses again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from registry._files import private_file
from registry.document.licensetypes import from_day_number
from registry.document.suites import SignatureSuite
from registry.errors import ConfigurationError
from registry.issuer.migrations import upgrade

__all__ = [
    "AnchoringStatus",
    "BatchRow",
    "IssuerStore",
    "LicenseRow",
    "batches",
    "licenses",
    "metadata",
    "record_batch",
    "signer_locks",
    "sqlite_url",
]

#: The issuer store's schema. The HTTP service declares its own tables on it too (``api.tables``:
#: API keys and idempotency records), so the migrations create them in the same database.
metadata = MetaData()

licenses = Table(
    "licenses",
    metadata,
    Column("license_id", String(40), primary_key=True),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("type_code", String(2), nullable=False),
    Column("issuer_uscc", String(18), nullable=False, index=True),
    Column("serial", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("valid_from", Integer, nullable=False),
    Column("valid_to", Integer, nullable=True),
    Column("fields", Text, nullable=False),  # canonical JSON of canonical values
    Column("secret", LargeBinary(16), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
    Column("signer", String(42), nullable=False, index=True),
    Column("created_at", Integer, nullable=False),
    Column("batch_root", LargeBinary(32), nullable=True, index=True),
    Column("status", String(12), nullable=False, default="active"),
    Column("status_reason", Integer, nullable=False, default=0),
    Column("superseded_by", String(40), nullable=True),
    # the signature suite (registry.document.suites.SignatureSuite's value): the QR rebuilt later carries it
    Column("suite", String(10), nullable=False, default="secp256k1", server_default="secp256k1"),
)

batches = Table(
    "batches",
    metadata,
    Column("root", LargeBinary(32), primary_key=True),
    Column("signer", String(42), nullable=False),
    Column("count", Integer, nullable=False),
    Column("state", String(10), nullable=False),  # prepared | anchored
    Column("created_at", Integer, nullable=False),
    Column("tx_hash", LargeBinary(32), nullable=True),
    Column("block_number", Integer, nullable=True),
    Column("block_time", Integer, nullable=True),
    Column("gas_used", Integer, nullable=True),
)

serials = Table(
    "serials",
    metadata,
    Column("issuer_uscc", String(18), primary_key=True),
    Column("type_code", String(2), primary_key=True),
    Column("next_serial", Integer, nullable=False),
)


signer_locks = Table(
    "signer_locks",
    metadata,
    Column("signer", String(42), primary_key=True),
    Column("worker", String(100), nullable=True),
    Column("heartbeat", Integer, nullable=True),
)


def record_batch(conn: Connection, root: bytes, signer: str, digests: Sequence[bytes]) -> None:
    """In the caller's transaction: a *prepared* batch, and its licenses assigned to it. Refuses
    licenses that are in a batch already (claimed by another worker)."""
    conn.execute(
        insert(batches).values(
            root=root, signer=signer, count=len(digests), state="prepared", created_at=int(time.time())
        )
    )
    result = conn.execute(
        update(licenses)
        .where(licenses.c.digest.in_(list(digests)) & licenses.c.batch_root.is_(None))
        .values(batch_root=root)
    )
    if result.rowcount != len(digests):
        raise ConfigurationError("some licenses of the batch are already in another batch")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


@dataclass(frozen=True, slots=True)
class LicenseRow:
    license_id: str
    digest: bytes
    type_code: str
    issuer_uscc: str
    serial: int
    version: int
    valid_from: int
    valid_to: int | None
    fields: dict[str, str | int]
    secret: bytes
    signature: bytes
    signer: str
    created_at: int
    batch_root: bytes | None = None
    status: str = "active"
    status_reason: int = 0
    superseded_by: str | None = None
    suite: SignatureSuite = SignatureSuite.SECP256K1  # what ``signature`` was made with

    def to_db(self) -> dict[str, Any]:
        row = {k: getattr(self, k) for k in self.__slots__}
        row["fields"] = json.dumps(self.fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        row["suite"] = self.suite.value
        return row

    @classmethod
    def from_db(cls, row: Any) -> LicenseRow:
        data = dict(row._mapping)
        data["fields"] = json.loads(data["fields"])
        data["suite"] = SignatureSuite(data["suite"])
        return cls(**data)


@dataclass(frozen=True, slots=True)
class BatchRow:
    root: bytes
    signer: str
    count: int
    state: str
    created_at: int
    tx_hash: bytes | None
    block_number: int | None
    block_time: int | None
    gas_used: int | None


@dataclass(frozen=True, slots=True)
class AnchoringStatus:
    """How far issuance has got: licenses waiting for a batch, in prepared batches, and anchored."""

    licenses: int
    pending: int
    in_prepared_batches: int
    prepared_batches: int
    anchored_batches: int
    oldest_pending_at: int | None  # UNIX seconds the oldest license without a batch was issued

    @property
    def anchored(self) -> int:
        return self.licenses - self.pending - self.in_prepared_batches


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class IssuerStore:
    """Licenses, secrets, batches and anchors of one or more issuing departments."""

    def __init__(self, url: str) -> None:
        if not isinstance(url, str) or "://" not in url:
            raise ConfigurationError(f"a database URL looks like sqlite:///path or postgresql://..., got {url!r}")
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        upgrade(self.engine)

    @classmethod
    def at(cls, path: str | Path) -> IssuerStore:
        path = private_file(Path(path))  # names, identity numbers and salts: owner-only
        return cls(sqlite_url(path))

    def close(self) -> None:
        self.engine.dispose()

    # -- serials -----------------------------------------------------------------------------------

    def allocate_serials(self, issuer_uscc: str, type_code: str, count: int, *, conn: Connection | None = None) -> int:
        """Reserve ``count`` consecutive serials; returns the first. In the caller's transaction
        ``conn`` when given (the serials are then reserved only if it commits)."""
        if conn is None:
            with self.engine.begin() as own:
                return self.allocate_serials(issuer_uscc, type_code, count, conn=own)
        key = (serials.c.issuer_uscc == issuer_uscc) & (serials.c.type_code == type_code)
        current = conn.execute(select(serials.c.next_serial).where(key).with_for_update()).scalar()
        if current is None:
            conn.execute(insert(serials).values(issuer_uscc=issuer_uscc, type_code=type_code, next_serial=1 + count))
            return 1
        conn.execute(update(serials).where(key).values(next_serial=current + count))
        return int(current)

    # -- licenses ----------------------------------------------------------------------------------

    def add_licenses(self, rows: Sequence[LicenseRow]) -> None:
        """Store issued licenses, all or none."""
        if not rows:
            return
        with self.engine.begin() as conn:
            conn.execute(insert(licenses), [r.to_db() for r in rows])

    def get(self, license_id: str) -> LicenseRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(licenses).where(licenses.c.license_id == license_id)).first()
        return None if row is None else LicenseRow.from_db(row)

    def list_licenses(self, *, issuer_uscc: str | None = None, limit: int = 100, offset: int = 0) -> list[LicenseRow]:
        query = select(licenses).order_by(licenses.c.created_at, licenses.c.license_id).limit(limit).offset(offset)
        if issuer_uscc is not None:
            query = query.where(licenses.c.issuer_uscc == issuer_uscc)
        with self.engine.connect() as conn:
            return [LicenseRow.from_db(r) for r in conn.execute(query)]

    def export_records(self, *, issuer_uscc: str | None = None, page: int = 1000) -> Iterator[dict[str, Any]]:
        """Every license (of ``issuer_uscc``, or all) WITH its secret, signature and fields, as
        JSON-ready records in issuance order, read ``page`` rows at a time: the one way license
        bodies leave the store."""
        offset = 0
        while rows := self.list_licenses(issuer_uscc=issuer_uscc, limit=page, offset=offset):
            for row in rows:
                yield {
                    "license_id": row.license_id,
                    "type": row.type_code,
                    "issuer_uscc": row.issuer_uscc,
                    "valid_from": from_day_number(row.valid_from).isoformat(),
                    "valid_to": None if row.valid_to is None else from_day_number(row.valid_to).isoformat(),
                    "fields": row.fields,
                    "secret": "0x" + row.secret.hex(),
                    "digest": "0x" + row.digest.hex(),
                    "signature": "0x" + row.signature.hex(),
                    "suite": row.suite.value,
                    "signer": row.signer,
                    "status": row.status,
                    "batch_root": None if row.batch_root is None else "0x" + row.batch_root.hex(),
                }
            offset += len(rows)

    def count(self, *, pending_only: bool = False) -> int:
        query = select(func.count()).select_from(licenses)
        if pending_only:
            query = query.where(licenses.c.batch_root.is_(None))
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar() or 0)

    def set_status(
        self, license_ids: Iterable[str], status: str, reason: int, superseded_by: str | None = None
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(licenses)
                .where(licenses.c.license_id.in_(list(license_ids)))
                .values(status=status, status_reason=reason, superseded_by=superseded_by)
            )

    # -- batches -----------------------------------------------------------------------------------

    def prepare_batch(self, root: bytes, signer: str, digests: Sequence[bytes]) -> None:
        """Record a batch and assign its licenses to it, before anything is sent."""
        with self.engine.begin() as conn:
            record_batch(conn, root, signer, digests)

    def batch_digests(self, root: bytes) -> list[bytes]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(licenses.c.digest).where(licenses.c.batch_root == root))
            return sorted(bytes(r[0]) for r in rows)

    def prepared_batches(self, signer: str | None = None) -> list[BatchRow]:
        query = select(batches).where(batches.c.state == "prepared").order_by(batches.c.created_at)
        if signer is not None:
            query = query.where(batches.c.signer == signer)
        with self.engine.connect() as conn:
            return [BatchRow(**dict(r._mapping)) for r in conn.execute(query)]

    def mark_anchored(self, root: bytes, *, tx_hash: bytes, block_number: int, block_time: int, gas_used: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(batches)
                .where(batches.c.root == root)
                .values(
                    state="anchored",
                    tx_hash=tx_hash,
                    block_number=block_number,
                    block_time=block_time,
                    gas_used=gas_used,
                )
            )

    def get_batch(self, root: bytes) -> BatchRow | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(batches).where(batches.c.root == root)).first()
        return None if row is None else BatchRow(**dict(row._mapping))

    def anchoring_status(self) -> AnchoringStatus:
        """Counts of licenses and batches by anchoring state, read in one connection."""
        unbatched = licenses.c.batch_root.is_(None)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(licenses)).scalar() or 0
            pending = conn.execute(select(func.count()).where(unbatched)).scalar() or 0
            oldest = conn.execute(select(func.min(licenses.c.created_at)).where(unbatched)).scalar()
            by_state = {
                str(k): int(v) for k, v in conn.execute(select(batches.c.state, func.count()).group_by(batches.c.state))
            }
            prepared_roots = select(batches.c.root).where(batches.c.state == "prepared")
            in_prepared = (
                conn.execute(select(func.count()).where(licenses.c.batch_root.in_(prepared_roots))).scalar() or 0
            )
        return AnchoringStatus(
            licenses=int(total),
            pending=int(pending),
            in_prepared_batches=int(in_prepared),
            prepared_batches=by_state.get("prepared", 0),
            anchored_batches=by_state.get("anchored", 0),
            oldest_pending_at=None if oldest is None else int(oldest),
        )
