"""scripts/soak.py against a started demo service: it reports every figure the soak's targets are
judged on (errors, latency percentiles, p99 per window, the serving process's memory), says PASS or
FAIL by them, and fails on a target the run misses."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from devkit.serving import ServedProcess, serve_command

ROOT = Path(__file__).resolve().parent.parent
ELICENSE = Path(sys.executable).parent / "elicense"
SOAK = ROOT / "scripts" / "soak.py"
LOAD = ROOT / "scripts" / "load.py"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedProcess, Path]]:
    home = tmp_path_factory.mktemp("soak-home")
    served = serve_command(
        lambda port: [
            str(ELICENSE),
            *("--home", str(home), "serve", "--port", str(port), "--licenses", "40", "--no-second-region"),
        ],
        log_dir=home,
        env={**os.environ, "ELICENSE_RPC_URL": ""},
    )
    yield served, home
    served.stop()


def _script(script: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``python SCRIPT ARGS`` as a user runs it from the checkout (the project on its path)."""
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _soak(served: ServedProcess, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _script(
        SOAK,
        *("--url", served.url, "--home", str(home), "--pid", str(served.process.pid)),
        *("--rate", "100", "--seconds", "6", "--warmup", "2", "--sample-every", "1", "--window", "3"),
        *extra,
    )


def test_a_short_soak_reports_every_figure_and_its_verdict(demo):
    served, home = demo
    run = _soak(served, home, "--json")
    report = json.loads(run.stdout)
    assert report["requests"] == 600
    assert report["errors"] == 0, report["error_kinds"]
    latency = report["latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["p99.9"] <= latency["max"]
    assert len(report["per_window_p99_ms"]) == 2  # 6 s in windows of 3 s
    assert all(p <= latency["max"] for p in report["per_window_p99_ms"])
    memory = report["memory"]
    assert memory["pid"] == served.process.pid
    assert memory["processes"] >= 3  # the primary and its verification workers, counted together
    assert 30 < memory["rss_after_warmup_mb"] < 4000
    assert 30 < memory["rss_end_mb"] < 4000
    assert len(memory["samples_mb"]) >= 5
    expected = round((memory["rss_end_mb"] - memory["rss_after_warmup_mb"]) / memory["rss_after_warmup_mb"] * 100, 1)
    assert abs(memory["growth_percent"] - expected) < 0.2
    assert report["verdict"] in ("PASS", "FAIL")
    assert run.returncode == (0 if report["verdict"] == "PASS" else 1)


def test_a_missed_target_fails_the_run_and_says_which(demo):
    served, home = demo
    run = _soak(served, home, "--p99-ms", "0.001")
    assert run.returncode == 1, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("soak (running service): 600 single verifications, Poisson at 100/s for 6 s")
    assert lines[1] == "errors: 0"
    assert lines[2].startswith("latency: p50 ")
    assert " p99.9 " in lines[2]
    assert lines[3].startswith("p99 per 3 s (ms): ")
    assert lines[4].startswith(f"memory (RSS of pid {served.process.pid} and its children, ")
    assert lines[-1].startswith("FAIL: p99 ")
    assert lines[-1].endswith(">= 0.001 ms")


def test_the_load_generator_reports_batches_against_the_floor_of_their_moment(demo):
    served, home = demo
    run = _script(
        LOAD,
        *("--url", served.url, "--home", str(home), "--rate", "20", "--seconds", "1"),
        *("--batch", "2000", "--batches", "3", "--pid", str(served.process.pid), "--json"),  # split in two
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["single"]["errors"] == 0
    batch = report["batch"]
    assert batch["batch_size"] == 2000
    assert batch["batches"] == 3
    assert 0 < batch["licenses_per_second"] <= batch["best_licenses_per_second"]
    low, high = batch["recovery_floor_range"]
    assert 0 < low <= batch["recovery_floor_per_core"] <= high
    assert 0 < batch["best_ratio_to_floor"] <= batch["ratio_to_floor"]
    assert batch["cores"] == os.cpu_count()
    assert 1000 < batch["answer_bytes_per_license"] < 10_000  # each result in full, with its fields
    # the service's processes spent CPU time on every license: at least part of a recovery each
    assert batch["service_cpu_us_per_license"] > 0.5 * 1e6 / batch["recovery_floor_range"][1]
    assert batch["service_cpu_ratio_to_floor"] > 0.5
    assert 0 < batch["service_core_share"] <= 1.1  # of the machine's cores (CPU time is counted in ticks)


def test_the_load_generator_refuses_a_process_that_is_not_there(demo):
    served, home = demo
    run = _script(LOAD, *("--url", served.url, "--home", str(home), "--pid", "999999999"))
    assert run.returncode == 2
    assert "--pid 999999999: no such process on this machine" in run.stderr


def _soak_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak_script", SOAK)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up
    spec.loader.exec_module(module)
    return module


def test_memory_growth_after_the_warm_up_fails_the_run():
    soak = _soak_module()
    args = argparse.Namespace(seconds=120.0, window=60.0, warmup=30.0, p99_ms=10.0, max_growth=10.0, rate=10.0)
    load = {"requests": 3, "achieved_rps": 10.0, "errors": 0, "error_kinds": {}, "send_lag_p99_ms": 0.1}
    samples = [(1.0, 0.002), (70.0, 0.003), (119.0, 0.004)]
    mb = 1024 * 1024
    # 200 MB while warming up (not the baseline), 100 MB at 30 s, 112 MB at the end: +12%
    memory = [(0.0, 200 * mb), (30.0, 100 * mb), (60.0, 105 * mb), (120.0, 112 * mb)]
    target = soak.Target("http://127.0.0.1:1", Path("store.db"), 42, "test")
    report = soak.summarise(target, load, samples, memory, args)
    assert report["memory"]["rss_after_warmup_mb"] == 100.0
    assert report["memory"]["growth_percent"] == 12.0
    assert report["per_window_p99_ms"] == [2.0, 4.0]
    assert report["verdict"] == "FAIL"
    assert report["failed"] == ["memory grew 12.0% >= 10%"]
    flat = soak.summarise(target, load, samples, [*memory[:-1], (120.0, 109 * mb)], args)
    assert flat["verdict"] == "PASS", flat["failed"]


def test_a_process_that_does_not_exist_is_refused(tmp_path):
    run = _script(SOAK, "--url", "http://127.0.0.1:9", "--pid", "999999999", "--seconds", "5", timeout=60)
    assert run.returncode == 2
    assert "--pid 999999999: no such process" in run.stderr
