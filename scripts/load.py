#!/usr/bin/env python3
"""Load test of a running service: single verifications at a fixed rate, then batches.

Reads QR texts of real licenses from an issuer store (by default the demo's, HOME/demo/store.db,
written by ``elicense serve`` in demo mode), then:

1. **single**: ``POST /v1/verify`` at ``--rate`` requests per second for ``--seconds`` (open loop:
   latency is measured from each request's scheduled time, so a slow server cannot hide its queue),
   reporting the rate achieved and p50/p90/p99/max latency. Requests are evenly spaced, or with
   ``--poisson`` sent at exponentially distributed intervals (Poisson arrivals, as independent
   clients make them), over ``--connections`` keep-alive connections opened beforehand (a request
   whose turn comes while all are busy waits for one, and that wait counts in its latency);
2. **saturation** (with ``--saturate SECONDS``): closed loop, ``--saturate-connections`` clients
   each sending the next request as soon as the previous one is answered: requests answered per
   second at saturation, with p50/p99;
3. **batch**: ``POST /v1/verify/batch`` with ``--batch`` texts, ``--batches`` times in a row (0:
   none): licenses per second, and the core time per license over the secp256k1 recovery (the
   floor), timed right before each batch; with ``--pid`` (the service's process), the CPU time the
   service spent per license, over the same floor (:mod:`_cpu`; docs/performance.md).

The generator reports its own lateness (``send_lag``: from a request's scheduled time to when its
task ran): when that grows, the client, not the server, is the bottleneck.

    elicense serve &                       # demo mode, http://127.0.0.1:8000
    python scripts/load.py --home home [--url http://127.0.0.1:8000] [--rate 500] [--json]
    python scripts/load.py --home home --poisson --rate 1000 --seconds 30 --batches 0
    python scripts/load.py --home home --rate 100 --seconds 5 --saturate 20 --batches 0
    python scripts/load.py --home home --rate 100 --seconds 5 --batches 6 --pid "$(pgrep -of 'elicense.*serve')"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import httpx
import orjson
from _cpu import cpu_seconds, floor_inputs, service_figures  # sibling modules of this script
from bench_verify import recoveries_per_second

from registry.document.presentation import present
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore


def load_texts(store_path: Path, limit: int) -> list[str]:
    if not store_path.exists():
        raise SystemExit(f"no issuer store at {store_path}: run `elicense serve` (demo mode) with this --home first")
    store = IssuerStore.at(store_path)
    rows = [r for r in store.list_licenses(limit=limit) if r.batch_root is not None and r.status == "active"]
    store.close()
    if not rows:
        raise SystemExit(f"{store_path} holds no anchored licenses")
    return [present(Department.license_of(r), r.signature).to_text() for r in rows]


def valid_only(url: str, texts: list[str]) -> list[str]:
    """Keep the texts the service finds valid (the demo's store also holds its expired, revoked...
    cases), so every timed request takes the full verification path."""
    kept: list[str] = []
    with httpx.Client(base_url=url, timeout=120) as client:
        for start in range(0, len(texts), 1000):
            chunk = texts[start : start + 1000]
            response = client.post("/v1/verify/batch", json={"qrs": chunk})
            response.raise_for_status()
            kept += [t for t, r in zip(chunk, response.json()["results"], strict=True) if r["status"] == "valid"]
    if not kept:
        raise SystemExit("the service finds none of the store's licenses valid")
    return kept


class _Connection:
    """A minimal HTTP/1.1 keep-alive client: the load generator must cost far less than the server
    it measures, and general-purpose async clients spend milliseconds per request."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader = reader
        self.writer = writer
        self.host = host

    @classmethod
    async def open(cls, host: str, port: int) -> _Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host)

    async def post_json(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        payload = await self.reader.readexactly(length)
        return int(status_line.split()[1]), payload


def percentile(ordered: list[float], fraction: float) -> float:
    """The ``fraction`` quantile of an ascending list (nearest rank below)."""
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def single(
    url: str,
    texts: list[str],
    rate: float,
    seconds: float,
    *,
    poisson: bool = False,
    connections: int = 256,
    seed: int = 1,
    samples: list[tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """Open-loop single verifications; latency counted from each request's scheduled time. With
    ``samples``, each request's (scheduled offset from the start, latency) in seconds is appended
    to it, for reports over time windows (``scripts/soak.py``)."""
    target = httpx.URL(url)
    host, port = target.host, target.port or 80
    bodies = [json.dumps({"qr": t}).encode() for t in texts]
    pool: asyncio.Queue[_Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await _Connection.open(host, port))
    conn = pool.get_nowait()
    for i in range(50):  # warm up
        await conn.post_json("/v1/verify", bodies[i % len(bodies)])
    pool.put_nowait(conn)
    total = int(rate * seconds)
    rng = random.Random(seed)  # noqa: S311 - arrival times, not secrets
    offsets: list[float] = []
    at = 0.0
    for _ in range(total):
        offsets.append(at)
        at += rng.expovariate(rate) if poisson else 1 / rate
    latencies: list[float] = []
    lags: list[float] = []
    errors: dict[str, int] = {}
    start = time.perf_counter() + 0.2

    def error(kind: str) -> None:
        errors[kind] = errors.get(kind, 0) + 1

    def done(scheduled: float) -> None:
        latency = time.perf_counter() - scheduled
        latencies.append(latency)
        if samples is not None:
            samples.append((scheduled - start, latency))

    async def one(i: int, scheduled: float) -> None:
        lags.append(time.perf_counter() - scheduled)
        conn = await pool.get()
        try:
            status, payload = await conn.post_json("/v1/verify", bodies[i % len(bodies)])
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            done(scheduled)
            error(type(exc).__name__)
            conn.writer.close()
            pool.put_nowait(await _Connection.open(host, port))
            return
        done(scheduled)
        pool.put_nowait(conn)
        if status != 200:
            error(f"HTTP {status}")
        elif b'"status":"valid"' not in payload:
            error("not valid")
        elif b'"stale":true' in payload or b'"stale_mirror"' in payload:
            error("stale")

    tasks: set[asyncio.Task[None]] = set()
    for i, offset in enumerate(offsets):
        scheduled = start + offset
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(i, scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().writer.close()
    latencies.sort()
    lags.sort()
    return {
        "arrivals": "poisson" if poisson else "uniform",
        "requests": total,
        "target_rps": rate,
        "achieved_rps": round(total / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p90_ms": round(percentile(latencies, 0.90) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "max_ms": round(latencies[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2),
        "send_lag_p99_ms": round(percentile(lags, 0.99) * 1000, 2),
        "connections": connections,
        "errors": sum(errors.values()),
        "error_kinds": errors,
    }


async def saturate(url: str, texts: list[str], seconds: float, connections: int) -> dict[str, Any]:
    """Closed loop: ``connections`` clients each send the next single verification as soon as the
    previous one is answered, for ``seconds``; the rate answered is the service's saturation
    throughput (the generator shares the machine: its own cost is in the figure)."""
    target = httpx.URL(url)
    host, port = target.host, target.port or 80
    bodies = [json.dumps({"qr": t}).encode() for t in texts]
    conns = [await _Connection.open(host, port) for _ in range(connections)]
    for i in range(50):  # warm up
        await conns[0].post_json("/v1/verify", bodies[i % len(bodies)])
    latencies: list[float] = []
    errors = 0
    start = time.perf_counter()
    end = start + seconds

    async def client(n: int, conn: _Connection) -> None:
        nonlocal errors
        i = n
        while (sent := time.perf_counter()) < end:
            status, payload = await conn.post_json("/v1/verify", bodies[i % len(bodies)])
            latencies.append(time.perf_counter() - sent)
            if status != 200 or b'"status":"valid"' not in payload:
                errors += 1
            i += connections

    await asyncio.gather(*(client(n, c) for n, c in enumerate(conns)))
    elapsed = time.perf_counter() - start
    for conn in conns:
        conn.writer.close()
    latencies.sort()
    return {
        "connections": connections,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "errors": errors,
    }


async def batch(url: str, texts: list[str], size: int, count: int, pid: int | None = None) -> dict[str, Any]:
    """``count`` batches of ``size`` texts, one after the other on one keep-alive connection; each
    timed from sending its body (encoded beforehand) to reading the last byte of the answer, which
    is checked afterwards (every result ``valid``, in order). Each batch is read against the
    recovery floor timed right before it (the machine's speed drifts); with ``pid``, the service's
    CPU time per license too, which idle cores or stolen time do not change."""
    target = httpx.URL(url)
    payload = [texts[i % len(texts)] for i in range(size)]
    body = orjson.dumps({"qrs": payload})
    floor = floor_inputs()
    conn = await _Connection.open(target.host, target.port or 80)
    await conn.post_json("/v1/verify/batch", orjson.dumps({"qrs": payload[: min(size, 2500)]}))  # warm up
    durations, floors, spent = [], [], []
    for _ in range(count):
        floors.append(recoveries_per_second(floor, 2))
        cpu = 0.0 if pid is None else cpu_seconds(pid)
        started = time.perf_counter()
        status, answer = await conn.post_json("/v1/verify/batch", body)
        durations.append(time.perf_counter() - started)
        if pid is not None:
            spent.append(cpu_seconds(pid) - cpu)
        if status != 200:
            raise SystemExit(f"the batch endpoint answered HTTP {status}: {answer[:300]!r}")
        results = orjson.loads(answer)["results"]
        if len(results) != size or any(r["status"] != "valid" for r in results):
            raise SystemExit("the batch endpoint returned unexpected results")
    conn.writer.close()
    best = min(durations)
    cores = os.cpu_count() or 1
    # core time per license over the floor of the batch's moment: cores * floor rate / batch rate
    ratios = sorted(cores * f * d / size for f, d in zip(floors, durations, strict=True))
    service = service_figures(spent, floors, durations, size, cores) if spent else {}
    return {
        **service,
        "cores": cores,
        "recovery_floor_per_core": round(statistics.median(floors)),
        "recovery_floor_range": [round(min(floors)), round(max(floors))],
        "core_us_per_license": round(cores * 1e6 * statistics.median(durations) / size, 1),
        "ratio_to_floor": round(statistics.median(ratios), 2),
        "best_ratio_to_floor": round(ratios[0], 2),
        "batch_size": size,
        "batches": count,
        "licenses_per_second": round(size / statistics.median(durations)),
        "best_licenses_per_second": round(size / best),
        "median_seconds": round(statistics.median(durations), 3),
        "answer_bytes_per_license": round(len(answer) / size),
    }


def run_event_loop(coroutine: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    """Run on uvloop when installed (it halves the generator's own cost per request)."""
    try:
        import uvloop  # noqa: PLC0415 - optional
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--home", type=Path, default=Path("home"), help="where the demo's store is")
    parser.add_argument("--store", type=Path, help="an issuer store file (default HOME/demo/store.db)")
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--poisson", action="store_true", help="Poisson arrivals instead of evenly spaced ones")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=256, help="keep-alive connections for single requests")
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=5, help="0: no batch phase")
    parser.add_argument(
        "--saturate", type=float, default=0, help="seconds of a closed-loop phase after the first (0: none)"
    )
    parser.add_argument("--saturate-connections", type=int, default=64, help="its clients, one connection each")
    parser.add_argument(
        "--pid", type=int, help="the service's process (elicense serve): its CPU time per license is reported too"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.pid is not None and not Path(f"/proc/{args.pid}/stat").exists():
        parser.error(f"--pid {args.pid}: no such process on this machine")
    if not 1 <= args.rate <= 20_000 or not 1 <= args.seconds <= 3600 or not 1 <= args.batch <= 100_000:
        parser.error("--rate 1..20000, --seconds 1..3600, --batch 1..100000")
    if not 0 <= args.batches <= 1000 or not 1 <= args.connections <= 4096:
        parser.error("--batches 0..1000, --connections 1..4096")
    if not 0 <= args.saturate <= 3600 or not 1 <= args.saturate_connections <= 1024:
        parser.error("--saturate 0..3600, --saturate-connections 1..1024")
    texts = valid_only(args.url, load_texts(args.store or args.home / "demo" / "store.db", 100_000))
    report: dict[str, Any] = {
        "distinct_licenses": len(texts),
        "single": run_event_loop(
            single(args.url, texts, args.rate, args.seconds, poisson=args.poisson, connections=args.connections)
        ),
        "saturation": (
            run_event_loop(saturate(args.url, texts, args.saturate, args.saturate_connections))
            if args.saturate
            else None
        ),
        "batch": run_event_loop(batch(args.url, texts, args.batch, args.batches, args.pid)) if args.batches else None,
    }
    if args.json:
        print(json.dumps(report))
    else:
        s, b = report["single"], report["batch"]
        print(f"{len(texts)} distinct licenses against {args.url}")
        print(
            f"single ({s['arrivals']} arrivals): {s['achieved_rps']} requests/s (target {s['target_rps']}), "
            f"p50 {s['p50_ms']} ms, p90 {s['p90_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} ms, "
            f"{s['errors']} errors {s['error_kinds'] or ''}(client send lag p99 {s['send_lag_p99_ms']} ms, "
            f"{s['connections']} connections)"
        )
        if (sat := report["saturation"]) is not None:
            print(
                f"saturation ({sat['connections']} clients, closed loop, {sat['seconds']} s): {sat['rps']:,} "
                f"requests/s, p50 {sat['p50_ms']} ms, p99 {sat['p99_ms']} ms, {sat['errors']} errors"
            )
        if b is None:
            return 0
        size, best = b["batch_size"], b["best_licenses_per_second"]
        rate = b["licenses_per_second"]
        print(f"batch:  {rate:,} licenses/s (median of {b['batches']} batches of {size:,}; best {best:,})")
        low, high = b["recovery_floor_range"]
        print(
            f"        {b['core_us_per_license']} us of core time per license on {b['cores']} cores, "
            f"{b['ratio_to_floor']}x the secp256k1 recovery timed right before each batch (median; best "
            f"{b['best_ratio_to_floor']}x; the floor {low:,} to {high:,} per second per core); answers "
            f"{b['answer_bytes_per_license']:,} bytes per license"
        )
        if "service_cpu_us_per_license" in b:
            print(
                f"        the service's processes: {b['service_cpu_us_per_license']} us of CPU time per license, "
                f"{b['service_cpu_ratio_to_floor']}x the floor, keeping {b['service_core_share']:.0%} of the "
                f"{b['cores']} cores busy (medians over the batches)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
