"""Verification worker processes: all cores answer verifications, apart from the chain.

With ``ELICENSE_VERIFY_WORKERS`` (``elicense serve --verify-workers N``; one per core by default)
the service runs as one *primary* process and N *verification workers*:

- the workers accept every connection on the service's port. Each holds its own copy of the
  chain mirror's index, read from the mirror database, and answers single and batch
  verifications itself (:mod:`api.fastpath`); every other request (issuer endpoints, receipts,
  subscriptions, the counter page, health and metrics, and any request the fast path does not
  take as it is, such as one the validation refuses) is passed unchanged to the primary over a
  private Unix socket, so the answer is the primary's own;
- the primary keeps the mirror in step with the chain, anchors, delivers webhooks and, in the
  embedded mode, runs the in-process chain. After each sync it bumps a shared generation number;
  the workers then read the new events from the mirror database (within tens of milliseconds), so
  a revocation reaches every worker as it reaches the primary. Neither the chain's work nor a
  sync holds a worker's interpreter.

The workers' verification counts and request latencies are kept in shared memory and shown by
the primary's ``/metrics`` (``elicense_verifications`` and ``elicense_worker_request_seconds``). A
worker that dies is started again; its port stays open meanwhile (the others answer).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

from api.models import BundleVerificationResponse, LicenseStatus

if TYPE_CHECKING:
    from api.services import Services

__all__ = [
    "FAST_ROUTES",
    "LATENCY_BUCKETS",
    "STATUSES",
    "SharedCounters",
    "VerifyWorkers",
    "WorkerConfig",
    "private_sockets",
]

log = logging.getLogger("elicense.service")

_SPAWN = multiprocessing.get_context("spawn")

#: The verification statuses counted (licenses' and bundles'); anything else counts as "other".
STATUSES: tuple[str, ...] = tuple(
    dict.fromkeys(
        (*get_args(LicenseStatus), *get_args(BundleVerificationResponse.model_fields["status"].annotation), "other")
    )
)
#: The routes a worker answers itself, and the latency buckets (those of the primary's histogram).
FAST_ROUTES = ("/v1/verify", "/v1/verify/batch")
LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
#: Seconds between checks that the workers are alive (a dead one is started again).
WATCH_INTERVAL = 1.0
#: Longest the primary's sync waits for the workers to read what it synced.
CATCH_UP = 2.0
#: Fewest seconds between two starts of the same worker (one that dies at once must not spin).
RESTART_DELAY = 2.0


class SharedCounters:
    """Counters in shared memory, one slot per worker, each written by its own worker only:
    verifications by status, then per fast route the latency buckets' counts, the count and the
    sum (``+Inf`` is the count)."""

    def __init__(self, slots: int, array: Any | None = None) -> None:
        self.slots = slots
        self._route_width = len(LATENCY_BUCKETS) + 2  # bucket counts, count, sum
        self.width = len(STATUSES) + len(FAST_ROUTES) * self._route_width
        self.array = array if array is not None else _SPAWN.Array("d", slots * self.width, lock=False)
        self._status_at = {s: i for i, s in enumerate(STATUSES)}

    def count_status(self, slot: int, status: str, n: int = 1) -> None:
        at = self._status_at.get(status, len(STATUSES) - 1)
        self.array[slot * self.width + at] += n

    def observe(self, slot: int, route: int, seconds: float) -> None:
        base = slot * self.width + len(STATUSES) + route * self._route_width
        for i, bound in enumerate(LATENCY_BUCKETS):
            if seconds <= bound:
                self.array[base + i] += 1
                break
        self.array[base + len(LATENCY_BUCKETS)] += 1
        self.array[base + len(LATENCY_BUCKETS) + 1] += seconds

    def statuses(self) -> dict[str, float]:
        """Verifications by status, summed over the workers."""
        return {
            status: sum(self.array[slot * self.width + i] for slot in range(self.slots))
            for i, status in enumerate(STATUSES)
        }

    def latency(self, route: int) -> tuple[list[float], float, float]:
        """(per-bucket counts, not cumulative; count; sum) of ``route``, summed over the workers."""
        base = len(STATUSES) + route * self._route_width
        total = [0.0] * self._route_width
        for slot in range(self.slots):
            start = slot * self.width + base
            for i in range(self._route_width):
                total[i] += self.array[start + i]
        return total[: len(LATENCY_BUCKETS)], total[-2], total[-1]


class WorkerLatency(Collector):
    """``elicense_worker_request_seconds``: the workers' latency per fast route, as a histogram."""

    def __init__(self, counters: SharedCounters) -> None:
        self.counters = counters

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(
            "elicense_worker_request_seconds",
            "Latency of the requests the verification workers answered themselves",
            labels=["route"],
        )
        for route, path in enumerate(FAST_ROUTES):
            buckets, count, total = self.counters.latency(route)
            cumulative, running = [], 0.0
            for bound, n in zip(LATENCY_BUCKETS, buckets, strict=True):
                running += n
                cumulative.append((str(bound), running))
            cumulative.append(("+Inf", count))
            family.add_metric([path], cumulative, total)
        yield family


@dataclass(frozen=True)
class WorkerConfig:
    """What a verification worker needs, passed to it when it starts (no keys, no secrets but the
    mirror's URL, which the primary holds too)."""

    settings: dict[str, Any]
    deployment: dict[str, Any]
    mirror_url: str
    confirmations: int
    max_anchors_per_issuer: int
    primary_socket: str
    peer_sockets: tuple[str, ...]  # each worker's private socket, by slot


class VerifyWorkers:
    """The primary's side: starts ``count`` workers on ``sock``, starts again any that dies, tells
    them when the mirror has moved, and stops them."""

    def __init__(self, config: WorkerConfig, sock: socket.socket, peers: list[socket.socket]) -> None:
        count = len(peers)
        if not 1 <= count <= 64 or len(config.peer_sockets) != count:
            raise ValueError("verification workers: from 1 to 64, each with its private socket")
        self.config = config
        self.sock = sock
        self.peers = peers
        self.count = count
        self.counters = SharedCounters(count)
        self.generation = _SPAWN.Value("Q", 0, lock=False)
        self.ready = _SPAWN.Array("b", count, lock=False)
        self.seen = _SPAWN.Array("Q", count, lock=False)  # the generation each worker has read
        self.moved = [_SPAWN.Event() for _ in range(count)]  # set for each worker when the generation moves
        self.restarts = 0
        self._processes: list[SpawnProcess | None] = [None] * count
        self._started_at = [0.0] * count
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @classmethod
    def serving(
        cls, services: Services, sock: socket.socket, primary: socket.socket, peers: list[socket.socket]
    ) -> VerifyWorkers:
        """Workers on ``sock`` for ``services`` (attached to them), passing on to ``primary``,
        each with its socket of ``peers`` (see :func:`private_sockets`)."""
        mirror = services.mirror
        config = WorkerConfig(
            settings=services.settings.model_dump(),
            deployment=services.deployment.to_dict(),
            mirror_url=mirror.url,
            confirmations=mirror.confirmations,
            max_anchors_per_issuer=mirror.max_anchors_per_issuer,
            primary_socket=str(primary.getsockname()),
            peer_sockets=tuple(str(p.getsockname()) for p in peers),
        )
        workers = cls(config, sock, peers)
        services.attach_workers(workers)
        return workers

    def start(self, timeout: float = 120.0) -> None:
        """Start the workers and wait until each one serves (its mirror loaded)."""
        for slot in range(self.count):
            self._start(slot)
        deadline = time.monotonic() + timeout
        while not all(self.ready):
            dead = [s for s, p in enumerate(self._processes) if p is not None and not p.is_alive()]
            if dead or time.monotonic() > deadline:
                self.stop()
                why = f"worker {dead[0]} exited" if dead else f"not serving after {timeout:.0f} s"
                raise RuntimeError(f"the verification workers did not start: {why} (see the messages above)")
            time.sleep(0.05)
        self._watcher = threading.Thread(target=self._watch, name="verify-workers", daemon=True)
        self._watcher.start()

    def _start(self, slot: int) -> None:
        from api.fastpath import run_worker  # noqa: PLC0415 - api.fastpath imports this module

        self.ready[slot] = 0
        process = _SPAWN.Process(
            target=run_worker,
            args=(self.config, self.sock, self.peers[slot]),
            kwargs={
                "slot": slot,
                "counters": self.counters.array,
                "generation": self.generation,
                "seen": self.seen,
                "moved": self.moved[slot],
                "ready": self.ready,
                "primary": os.getpid(),
            },
            name=f"elicense-verify-{slot}",
            daemon=True,
        )
        process.start()
        self._processes[slot] = process
        self._started_at[slot] = time.monotonic()

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_INTERVAL):
            for slot, process in enumerate(self._processes):
                if process is None or process.is_alive() or self._stop.is_set():
                    continue
                if time.monotonic() - self._started_at[slot] < RESTART_DELAY:
                    continue
                log.warning("verification worker %d exited (code %s); starting it again", slot, process.exitcode)
                self.restarts += 1
                self._start(slot)

    def mirror_moved(self, wait: float = CATCH_UP) -> bool:
        """Tell the workers to read the mirror's new events (after each sync of the primary) and
        wait, at most ``wait`` seconds, until every live one has: once the primary's sync returns,
        the workers answer from what it synced. False when one was still behind."""
        self.generation.value += 1
        wanted = self.generation.value
        for event in self.moved:
            event.set()
        deadline = time.monotonic() + wait
        while True:
            behind = [
                slot
                for slot, p in enumerate(self._processes)
                if p is not None and p.is_alive() and self.ready[slot] and self.seen[slot] < wanted
            ]
            if not behind:
                return True
            if time.monotonic() > deadline:
                log.warning("verification workers %s have not read the mirror's latest sync yet", behind)
                return False
            time.sleep(0.002)

    def pids(self) -> list[int]:
        return [p.pid for p in self._processes if p is not None and p.pid is not None and p.is_alive()]

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=timeout)
        processes = [p for p in self._processes if p is not None]
        for p in processes:
            if p.is_alive():
                p.terminate()  # SIGTERM: uvicorn finishes the requests in flight, then exits
        deadline = time.monotonic() + timeout
        for p in processes:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join(1.0)


@contextlib.contextmanager
def private_sockets(count: int) -> Iterator[tuple[socket.socket, list[socket.socket], Callable[[], None]]]:
    """Unix sockets in a new private folder (0700): the primary's, where the verification workers
    pass on what they do not answer, and one per worker, for batch parts; with the function that
    removes them (called by the shutdown, and on the way out in any case)."""
    folder = Path(tempfile.mkdtemp(prefix="elicense-"))
    names = ["primary.sock", *(f"worker-{i}.sock" for i in range(count))]
    socks: list[socket.socket] = []

    def remove() -> None:
        for sock in socks:
            sock.close()
        for name in names:
            (folder / name).unlink(missing_ok=True)
        with contextlib.suppress(FileNotFoundError):
            folder.rmdir()

    try:
        for name in names:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind(str(folder / name))
            sock.listen(1024)
        yield socks[0], socks[1:], remove
    finally:
        remove()
