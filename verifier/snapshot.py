"""Mirror snapshots: the events and checkpoint of a mirror in a file, and a new mirror started
from one only when its events are exactly the chain's logs of the same block range."""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert, select

from registry import Deployment, RegistryClient
from verifier._mirror_tables import MirrorError, block_hash_time, blocks, events_table

if TYPE_CHECKING:
    from verifier.mirror import Mirror

__all__ = ["export_snapshot", "import_snapshot"]

_SNAPSHOT_FORMAT = "elicense-mirror-snapshot/1"
_MAX_SNAPSHOT_BYTES = 2 * 1024**3


def export_snapshot(mirror: Mirror, path: str | Path) -> int:
    """Write the checkpoint and every event to a gzip JSON-lines file; returns the event count."""
    point = mirror.checkpoint()
    if point is None:
        raise MirrorError("the mirror is empty; sync it before exporting a snapshot")
    path = Path(path)
    count = 0
    tmp = path.with_suffix(path.suffix + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8") as fh, mirror.engine.connect() as conn:
        header = {
            "format": _SNAPSHOT_FORMAT,
            "deployment": mirror.deployment.to_dict(),
            "checkpoint": [point[0], point[1].hex(), point[2]],
        }
        fh.write(json.dumps(header) + "\n")
        for row in conn.execute(select(events_table).order_by(events_table.c.id)):
            fh.write(
                json.dumps(
                    {
                        "b": row.block_number,
                        "i": row.log_index,
                        "h": bytes(row.block_hash).hex(),
                        "t": row.block_time,
                        "x": bytes(row.tx_hash).hex(),
                        "a": row.address,
                        "topics": json.loads(row.topics),
                        "d": bytes(row.data).hex(),
                    }
                )
                + "\n"
            )
            count += 1
    tmp.replace(path)
    return count


def import_snapshot(
    cls: type[Mirror], path: str | Path, url: str, client: RegistryClient, *, confirmations: int = 2
) -> Mirror:
    """A new mirror at ``url`` started from a snapshot, after checking it against the chain:
    the deployment matches, the checkpoint block and every block holding an event are on the
    chain with the same hashes, every anchored batch is on chain with the same issuer and key,
    and every key and issuer of the snapshot exists on chain."""
    path = Path(path)
    if path.stat().st_size > _MAX_SNAPSHOT_BYTES:
        raise MirrorError(f"{path} is larger than {_MAX_SNAPSHOT_BYTES} bytes")
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            header = json.loads(fh.readline())
            records = [json.loads(line) for line in fh]
    except (OSError, ValueError, EOFError) as exc:
        raise MirrorError(f"{path} is not a readable mirror snapshot: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != _SNAPSHOT_FORMAT:
        raise MirrorError(f"{path} is not a mirror snapshot (format {_SNAPSHOT_FORMAT})")
    try:
        snapshot_deployment = Deployment.from_dict(header["deployment"])
        number, hash_hex, when = header["checkpoint"]
        checkpoint = (int(number), bytes.fromhex(hash_hex), int(when))
        rows = [_snapshot_row(r) for r in records]
    except (KeyError, TypeError, ValueError) as exc:
        raise MirrorError(f"{path} holds a malformed snapshot: {exc}") from None
    if snapshot_deployment != client.deployment:
        raise MirrorError("the snapshot is of another deployment than the client's")
    mirror = cls(url, client.deployment, confirmations=confirmations)
    if mirror.checkpoint() is not None:
        raise MirrorError("the target mirror database is not empty")
    _check_snapshot(mirror, client, checkpoint, rows)
    with mirror.engine.begin() as conn:
        if rows:
            conn.execute(insert(events_table), rows)
        seen = {(r["block_number"], r["block_hash"], r["block_time"]) for r in rows}
        seen.add(checkpoint)
        conn.execute(insert(blocks), [{"number": n, "hash": h, "time": t} for n, h, t in seen])
        mirror._set_meta(conn, "checkpoint", json.dumps([checkpoint[0], checkpoint[1].hex(), checkpoint[2]]))
    mirror.reload()
    return mirror


def _snapshot_row(record: dict[str, Any]) -> dict[str, Any]:
    topics = record["topics"]
    if not isinstance(topics, list) or not all(isinstance(t, str) and len(t) == 66 for t in topics):
        raise ValueError("bad topics")
    return {
        "block_number": int(record["b"]),
        "log_index": int(record["i"]),
        "block_hash": bytes.fromhex(record["h"]),
        "block_time": int(record["t"]),
        "tx_hash": bytes.fromhex(record["x"]),
        "address": str(record["a"]),
        "topics": json.dumps(topics),
        "data": bytes.fromhex(record["d"]),
    }


def _row_identity(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        int(row["block_number"]),
        int(row["log_index"]),
        bytes(row["block_hash"]),
        bytes(row["tx_hash"]),
        str(row["address"]).lower(),
        str(row["topics"]).lower(),
        bytes(row["data"]),
    )


def _check_snapshot(
    mirror: Mirror, client: RegistryClient, checkpoint: tuple[int, bytes, int], rows: Sequence[dict[str, Any]]
) -> None:
    """The snapshot's events must be exactly the chain's registry logs from the deployment block to
    the checkpoint: an event left out (a revocation dropped), added or changed refuses the file."""
    w3 = client.w3
    head = client.block_number()
    number, expected_hash, expected_time = checkpoint
    if number > head:
        raise MirrorError(f"the snapshot's checkpoint (block {number}) is beyond the chain's head ({head})")
    if number < mirror.deployment.block_number:
        raise MirrorError(f"the snapshot's checkpoint (block {number}) is before the deployment")
    times: dict[int, tuple[bytes, int]] = {}
    if block_hash_time(w3, number, times) != (expected_hash, expected_time):
        raise MirrorError(f"block {number} of the snapshot is not on this chain (reorganised or forged)")
    claimed = sorted(rows, key=lambda r: (r["block_number"], r["log_index"]))
    position = 0
    start = mirror.deployment.block_number
    while start <= number:
        end = min(number, start + mirror.chunk_blocks - 1)
        chain_rows, _ = mirror._fetch(client, start, end, times)
        for actual in chain_rows:
            where = f"block {actual['block_number']}, log {actual['log_index']}"
            if (
                position >= len(claimed)
                or claimed[position]["block_number"] > actual["block_number"]
                or (
                    claimed[position]["block_number"] == actual["block_number"]
                    and claimed[position]["log_index"] > actual["log_index"]
                )
            ):
                raise MirrorError(f"the snapshot leaves out the chain's event at {where}: refused")
            if _row_identity(claimed[position]) != _row_identity(actual):
                raise MirrorError(f"the snapshot's event at {where} differs from the chain's: refused")
            if claimed[position]["block_time"] != actual["block_time"]:
                raise MirrorError(f"the snapshot gives block {actual['block_number']} another time: refused")
            position += 1
        if position < len(claimed) and claimed[position]["block_number"] <= end:
            extra = claimed[position]
            raise MirrorError(
                f"the snapshot holds an event the chain does not have (block {extra['block_number']}, "
                f"log {extra['log_index']}): refused"
            )
        start = end + 1
    if position < len(claimed):
        extra = claimed[position]
        raise MirrorError(f"the snapshot holds an event after its checkpoint (block {extra['block_number']}): refused")
