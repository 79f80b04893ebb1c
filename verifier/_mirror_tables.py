"""The mirror's database: its tables, the rows it stores a log as, and its error."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table, Text

from registry.errors import RegistryError

__all__ = [
    "MirrorError",
    "block_hash_time",
    "blocks",
    "events_table",
    "log_row",
    "meta",
    "metadata",
    "pending_table",
    "sqlite_pragmas",
]

metadata = MetaData()

meta = Table(
    "mirror_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

events_table = Table(
    "mirror_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("block_number", BigInteger, nullable=False, index=True),
    Column("log_index", Integer, nullable=False),
    Column("block_hash", LargeBinary(32), nullable=False),
    Column("block_time", BigInteger, nullable=False),
    Column("tx_hash", LargeBinary(32), nullable=False),
    Column("address", String(42), nullable=False),
    Column("topics", Text, nullable=False),  # JSON list of 0x-hex topics
    Column("data", LargeBinary, nullable=False),
    sqlite_autoincrement=True,  # ids are never reused after a reorganisation deletes rows
)

# Events of the blocks younger than the confirmation depth, replaced at every sync; only their
# negative facts are applied.
pending_table = Table(
    "mirror_pending",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("block_number", BigInteger, nullable=False),
    Column("log_index", Integer, nullable=False),
    Column("block_hash", LargeBinary(32), nullable=False),
    Column("block_time", BigInteger, nullable=False),
    Column("tx_hash", LargeBinary(32), nullable=False),
    Column("address", String(42), nullable=False),
    Column("topics", Text, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

blocks = Table(
    "mirror_blocks",
    metadata,
    Column("number", BigInteger, primary_key=True),
    Column("hash", LargeBinary(32), nullable=False),
    Column("time", BigInteger, nullable=False),
)


class MirrorError(RegistryError):
    """The mirror cannot be used as asked (wrong deployment, bad snapshot, ...)."""


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def block_hash_time(w3: Any, number: int, times: dict[int, tuple[bytes, int]]) -> tuple[bytes, int]:
    """(hash, time) of block ``number``, read once per sync step."""
    if number not in times:
        b = w3.eth.get_block(number)
        times[number] = (bytes(b["hash"]), int(b["timestamp"]))
    return times[number]


def log_row(log: Any, block_hash: bytes, block_time: int, address: str) -> dict[str, Any]:
    return {
        "block_number": int(log["blockNumber"]),
        "log_index": int(log["logIndex"]),
        "block_hash": block_hash,
        "block_time": block_time,
        "tx_hash": bytes(log["transactionHash"]),
        "address": address,
        "topics": json.dumps(["0x" + bytes(t).hex() for t in log["topics"]]),
        "data": bytes(log["data"]),
    }
