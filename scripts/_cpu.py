"""What the load generator reads its figures against: the service's CPU time (from ``/proc``) and
the inputs of the recovery floor that every license's verification pays."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

from coincurve import PrivateKey

from signer import keccak256

__all__ = ["cpu_seconds", "floor_inputs", "process_tree", "service_figures"]


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the service's verification workers among them)."""
    tree, at = [pid], 0
    while at < len(tree):
        for task in Path(f"/proc/{tree[at]}/task").glob("*"):
            try:
                tree += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
        at += 1
    return tree


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) that ``pid`` and its descendants have used, from ``/proc``."""
    ticks = 0
    for member in process_tree(pid):
        try:
            fields = Path(f"/proc/{member}/stat").read_text(encoding="ascii", errors="replace")
        except OSError:  # ended meanwhile
            continue
        after_name = fields.rsplit(")", 1)[1].split()  # the name, in parentheses, may hold spaces
        ticks += int(after_name[11]) + int(after_name[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def floor_inputs(samples: int = 1000) -> list[tuple[bytes, bytes]]:
    """(signature, hash) pairs for timing the floor: the secp256k1 public-key recovery (coincurve)
    that every license's verification takes, so the batch figure can be read against it (a
    verification costs at least one recovery)."""
    key = PrivateKey(bytes(31) + b"\x01")
    inputs = []
    for i in range(samples):
        message = keccak256(i.to_bytes(8, "big"))
        inputs.append((key.sign_recoverable(message, hasher=None), message))
    return inputs


def service_figures(
    spent: list[float], floors: list[float], durations: list[float], size: int, cores: int
) -> dict[str, float]:
    """The service's figures over batches of ``size`` licenses, medians over the batches: its CPU
    time per license (``spent`` seconds each), that over the recovery floor of the batch's moment
    (``floors``, recoveries per second per core), and the share of the machine's ``cores`` it kept
    busy while the batch ran (``durations``, wall-clock seconds; the rest is idle, or the client's
    own work)."""
    return {
        "service_cpu_us_per_license": round(statistics.median(spent) * 1e6 / size, 1),
        "service_cpu_ratio_to_floor": round(
            statistics.median(f * c / size for f, c in zip(floors, spent, strict=True)), 2
        ),
        "service_core_share": round(
            statistics.median(c / (cores * d) for c, d in zip(spent, durations, strict=True)), 2
        ),
    }
