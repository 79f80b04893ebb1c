#!/usr/bin/env python3
"""Soak test: single verifications at a steady Poisson rate for a long time, with the serving
process's memory watched.

Drives ``POST /v1/verify`` with the open-loop generator of ``scripts/load.py`` (Poisson arrivals,
latency counted from each request's scheduled time, keep-alive connections opened beforehand) at
``--rate`` for ``--seconds``, samples the serving processes' resident memory (the process
``--pid`` and its children: the verification workers) every ``--sample-every`` seconds, from
``/proc``, and prints:
requests, errors, p50 / p99 / p99.9 / max latency, the p99 of each minute, the memory after the
warm-up and at the end with its growth, and a PASS/FAIL line against the targets (0 errors, p99
under ``--p99-ms``, memory growth after the warm-up under ``--max-growth`` percent). Exit status 0
on PASS, 1 on FAIL.

It measures a service that is already running (``--url``, ``--home`` or ``--store`` for the QR
texts, ``--pid`` for its memory), or starts one itself in a temporary home and stops it after:

- ``--serve embedded``: ``elicense serve`` in demo mode, the in-process chain inside the serving
  process (as ``scripts/start`` runs it);
- ``--serve node``: a ``hardhat node``, the demo run against it, then ``elicense serve --rpc-url``.

    python scripts/soak.py --serve embedded --rate 500 --seconds 600
    python scripts/soak.py --serve node --seconds 600 --json
    python scripts/soak.py --url http://127.0.0.1:8000 --home home --pid 12345 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _cpu import process_tree  # sibling modules of this script
from load import load_texts, percentile, run_event_loop, single, valid_only

ELICENSE = Path(sys.executable).parent / "elicense"
MB = 1024 * 1024


@dataclass
class Target:
    """The service under test: its URL, where its QR texts are, and its process (when known)."""

    url: str
    store: Path
    pid: int | None
    mode: str


def _vm_rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise OSError(f"/proc/{pid}/status has no VmRSS line")


def rss_bytes(pid: int) -> int:
    """The resident memory of process ``pid`` and its descendants (the serving processes: the
    primary and its verification workers), in bytes."""
    total = 0
    for member in process_tree(pid):
        try:
            total += _vm_rss(member)
        except OSError:
            if member == pid:
                raise
    return total


async def _sample_memory(pid: int, every: float, into: list[tuple[float, int]]) -> None:
    started = time.perf_counter()
    while True:
        into.append((time.perf_counter() - started, rss_bytes(pid)))
        await asyncio.sleep(every)


async def soak(target: Target, texts: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Run the load with the memory sampler beside it; the report (see :func:`summarise`)."""
    samples: list[tuple[float, float]] = []
    memory: list[tuple[float, int]] = []
    pauses: list[float] = []  # this process's own collections: a pause here delays every reply read
    started: list[float] = []

    def collector(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append(time.perf_counter() - started.pop())

    gc.callbacks.append(collector)
    sampler = None
    if target.pid is not None:
        sampler = asyncio.create_task(_sample_memory(target.pid, args.sample_every, memory))
    try:
        load = await single(
            target.url,
            texts,
            args.rate,
            args.seconds,
            poisson=True,
            connections=args.connections,
            samples=samples,
        )
    finally:
        gc.callbacks.remove(collector)
        if sampler is not None:
            sampler.cancel()
    if target.pid is not None:
        memory.append((memory[-1][0] + args.sample_every if memory else 0.0, rss_bytes(target.pid)))
    load["client_gc_max_ms"] = round(max(pauses, default=0.0) * 1000, 2)
    return summarise(target, load, samples, memory, args)


def summarise(
    target: Target,
    load: dict[str, Any],
    samples: list[tuple[float, float]],
    memory: list[tuple[float, int]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    latencies = sorted(latency for _, latency in samples)
    windows: dict[int, list[float]] = {}
    last = max(0, -int(-args.seconds // args.window) - 1)  # the last window (a late request counts in it)
    for offset, latency in samples:
        windows.setdefault(min(last, max(0, int(offset // args.window))), []).append(latency)
    per_window = [round(percentile(sorted(windows[w]), 0.99) * 1000, 2) for w in sorted(windows)]
    warmup = min(args.warmup, args.seconds / 3)
    report: dict[str, Any] = {
        "mode": target.mode,
        "url": target.url,
        "rate": args.rate,
        "seconds": args.seconds,
        "requests": load["requests"],
        "achieved_rps": load["achieved_rps"],
        "errors": load["errors"],
        "error_kinds": load["error_kinds"],
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50) * 1000, 2),
            "p99": round(percentile(latencies, 0.99) * 1000, 2),
            "p99.9": round(percentile(latencies, 0.999) * 1000, 2),
            "max": round(latencies[-1] * 1000, 2),
        },
        "window_seconds": args.window,
        "per_window_p99_ms": per_window,
        "send_lag_p99_ms": load["send_lag_p99_ms"],
        "client_gc_max_ms": load.get("client_gc_max_ms", 0.0),
        "memory": None,
    }
    if memory:
        warm = next((rss for at, rss in memory if at >= warmup), memory[-1][1])
        end = memory[-1][1]
        report["memory"] = {
            "pid": target.pid,
            "processes": len(process_tree(target.pid)) if target.pid is not None else 0,
            "warmup_seconds": round(warmup, 1),
            "rss_after_warmup_mb": round(warm / MB, 1),
            "rss_end_mb": round(end / MB, 1),
            "growth_percent": round((end - warm) / warm * 100, 2),
            "samples_mb": [[round(at, 1), round(rss / MB, 1)] for at, rss in memory],
        }
    failed = []
    if report["errors"]:
        failed.append(f"{report['errors']} errors")
    if report["latency_ms"]["p99"] >= args.p99_ms:
        failed.append(f"p99 {report['latency_ms']['p99']} ms >= {args.p99_ms:g} ms")
    if report["memory"] is not None and report["memory"]["growth_percent"] >= args.max_growth:
        failed.append(f"memory grew {report['memory']['growth_percent']}% >= {args.max_growth:g}%")
    report["verdict"] = "FAIL" if failed else "PASS"
    report["failed"] = failed
    report["not_measured"] = [] if memory else ["memory (no --pid)"]
    return report


def print_report(r: dict[str, Any]) -> None:
    lat = r["latency_ms"]
    print(
        f"soak ({r['mode']}): {r['requests']:,} single verifications, Poisson at {r['rate']:g}/s for "
        f"{r['seconds']:g} s against {r['url']} ({r['achieved_rps']} requests/s achieved)"
    )
    kinds = f" {r['error_kinds']}" if r["error_kinds"] else ""
    print(f"errors: {r['errors']}{kinds}")
    print(
        f"latency: p50 {lat['p50']} ms, p99 {lat['p99']} ms, p99.9 {lat['p99.9']} ms, max {lat['max']} ms "
        f"(this client: send lag p99 {r['send_lag_p99_ms']} ms, longest own collection {r['client_gc_max_ms']} ms)"
    )
    print(f"p99 per {r['window_seconds']:g} s (ms): " + " ".join(f"{p:g}" for p in r["per_window_p99_ms"]))
    m = r["memory"]
    if m is None:
        print("memory: not measured (give --pid of the serving process)")
    else:
        print(
            f"memory (RSS of pid {m['pid']} and its children, {m['processes']} processes): "
            f"{m['rss_after_warmup_mb']} MB after the warm-up "
            f"({m['warmup_seconds']:g} s), {m['rss_end_mb']} MB at the end: {m['growth_percent']:+}%"
        )
    verdict = r["verdict"]
    if r["failed"]:
        print(f"{verdict}: " + "; ".join(r["failed"]))
    else:
        extra = f" (not measured: {', '.join(r['not_measured'])})" if r["not_measured"] else ""
        print(f"{verdict}: 0 errors, p99 under the target, memory flat{extra}")


# -- starting a service ------------------------------------------------------------------------------


@contextlib.contextmanager
def started_service(mode: str, licenses: int) -> Iterator[Target]:
    """``elicense serve`` in a temporary home (demo mode, or against a hardhat node it starts)."""
    from devkit.serving import serve_command  # noqa: PLC0415 - development helpers, only when starting

    with tempfile.TemporaryDirectory(prefix="elicense-soak-") as tmp:
        home = Path(tmp) / "home"
        env = {**os.environ, "ELICENSE_HOME": str(home), "ELICENSE_RPC_URL": ""}
        for name in ("ELICENSE_DB", "ELICENSE_MIRROR_DB"):
            env.pop(name, None)
        with contextlib.ExitStack() as stack:
            if mode == "node":
                from devkit.nodes import start_hardhat_node  # noqa: PLC0415

                node = start_hardhat_node(Path(tmp))
                stack.callback(node.stop)
                env["ELICENSE_RPC_URL"] = node.url
                subprocess.run(
                    [str(ELICENSE), "demo", "--licenses", str(licenses), "--json"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    check=True,
                    timeout=900,
                )
                command = [str(ELICENSE), "serve", "--port", "{port}"]
            else:
                command = [str(ELICENSE), "serve", "--port", "{port}", "--licenses", str(licenses)]
            served = serve_command(
                lambda port: [part.format(port=port) for part in command], log_dir=Path(tmp), env=env, seconds=900
            )
            stack.callback(served.stop)
            yield Target(served.url, home / "demo" / "store.db", served.process.pid, mode)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", choices=("embedded", "node"), help="start the service (else --url)")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="a running service (without --serve)")
    parser.add_argument("--home", type=Path, default=Path("home"), help="where the demo's store is")
    parser.add_argument("--store", type=Path, help="an issuer store file (default HOME/demo/store.db)")
    parser.add_argument("--pid", type=int, help="the running service's process id, for its memory")
    parser.add_argument("--licenses", type=int, default=1000, help="with --serve: the demo's licenses")
    parser.add_argument("--rate", type=float, default=500, help="requests per second (Poisson)")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--warmup", type=float, default=60, help="seconds before the memory baseline (at most 1/3)")
    parser.add_argument("--sample-every", type=float, default=5, help="seconds between memory samples")
    parser.add_argument("--window", type=float, default=60, help="seconds per p99 window")
    parser.add_argument("--p99-ms", type=float, default=10, help="target: p99 under this")
    parser.add_argument("--max-growth", type=float, default=10, help="target: memory growth (percent) under this")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if not 1 <= args.rate <= 20_000 or not 5 <= args.seconds <= 86_400 or not 1 <= args.connections <= 4096:
        parser.error("--rate 1..20000, --seconds 5..86400, --connections 1..4096")
    if not 0.5 <= args.sample_every <= 600 or not 1 <= args.window <= 3600 or not 0 <= args.warmup <= 3600:
        parser.error("--sample-every 0.5..600, --window 1..3600, --warmup 0..3600")
    if not 20 <= args.licenses <= 100_000 or args.p99_ms <= 0 or args.max_growth <= 0:
        parser.error("--licenses 20..100000; --p99-ms and --max-growth above 0")
    if args.pid is not None and not Path(f"/proc/{args.pid}").exists():
        parser.error(f"--pid {args.pid}: no such process")
    with contextlib.ExitStack() as stack:
        if args.serve:
            target = stack.enter_context(started_service(args.serve, args.licenses))
        else:
            target = Target(args.url, args.store or args.home / "demo" / "store.db", args.pid, "running service")
        texts = valid_only(target.url, load_texts(target.store, 100_000))
        report = run_event_loop(soak(target, texts, args))
    if args.json:
        print(json.dumps(report))
    else:
        print_report(report)
    return 0 if report["verdict"] == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
