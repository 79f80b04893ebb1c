"""Crash safety of anchoring: the worker is killed with SIGKILL at each step (after recording a
batch, before sending, after sending before the receipt, after the receipt before recording it)
and restarted; every issued license ends anchored exactly once, checked against the chain's events.
Runs the real command line against a hardhat node."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from devkit.nodes import HardhatNode
from devkit.samples import SampleFactory
from registry import Deployment, RegistryClient, connect, dev_accounts
from registry.chain.events import BatchAnchored
from registry.issuer.store import IssuerStore

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


ELICENSE = Path(sys.executable).parent / "elicense"
DEPT = "11110000MB0195560T"
FAILPOINTS = ("after_prepare", "before_send", "after_send", "after_receipt")


# About thirty command-line processes, each starting Python and web3 (seconds apiece on a busy
# machine): more than the suite's default budget per test.
@pytest.mark.timeout(900)
def test_worker_killed_at_every_step_anchors_everything_once(tmp_path, hardhat_node: HardhatNode):
    home = tmp_path / "home"
    env = {**os.environ, "ELICENSE_HOME": str(home), "ELICENSE_RPC_URL": hardhat_node.url, "PW": "crash test pw"}
    env.pop("ELICENSE_FAILPOINT", None)

    def run(*args: str, failpoint: str | None = None) -> subprocess.CompletedProcess[str]:
        extra = {"ELICENSE_FAILPOINT": failpoint} if failpoint else {}
        return subprocess.run(
            [str(ELICENSE), *args], env={**env, **extra}, capture_output=True, text=True, timeout=300, check=False
        )

    def ok(*args: str) -> str:
        result = run(*args)
        assert result.returncode == 0, f"{args}: {result.stderr}"
        return result.stdout

    authority = dev_accounts(connect(hardhat_node.url))[1].address
    ok("deploy", "--dev-account", "0")
    ok("region", "add", "110000", "--dev-account", "0")
    ok("region", "add-authority", "110000", authority, "--dev-account", "0")
    key = ok("keys", "create", "dept", "--password-env", "PW").split()[1]
    ok("fund", key, "5", "--dev-account", "0")
    ok(
        "issuer",
        "register",
        "--uscc",
        DEPT,
        "--region",
        "110000",
        "--name",
        "北京市市场监督管理局",
        "--dev-account",
        "1",
    )
    acceptance = ok("keys", "accept", "dept", "--uscc", DEPT, "--password-env", "PW").strip()
    ok("issuer", "add-key", "--uscc", DEPT, key, "--acceptance", acceptance, "--dev-account", "1")
    ok("issuer", "permit", "--uscc", DEPT, "--type", "BL", "--dev-account", "1")
    signing = ("--keystore", "dept", "--password-env", "PW")
    samples = SampleFactory(61)

    def issue(count: int, name: str) -> None:
        path = tmp_path / f"{name}.csv"
        requests = [samples.business_license() for _ in range(count)]
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=["type", "valid_from", "valid_to", *requests[0].fields])
            writer.writeheader()
            for r in requests:
                values = {k: str(v) for k, v in r.fields.items()}
                writer.writerow({"type": "BL", "valid_from": r.valid_from.isoformat(), "valid_to": "", **values})
        ok("license", "issue", "--uscc", DEPT, "--file", str(path), "--json", *signing)

    worker = ("worker", "--department", f"{DEPT}=dept:PW", "--once", "--batch-size", "7")
    for point in FAILPOINTS:
        issue(10, point)
        crashed = run(*worker, failpoint=point)
        assert crashed.returncode == -signal.SIGKILL, f"{point}: {crashed.returncode} {crashed.stderr}"
        status = json.loads(ok("status", "--json"))
        assert status["anchored"] + status["pending"] + status["in_prepared_batches"] == status["licenses"]
        ok(*worker)  # restarted: resumes what the crash interrupted
        status = json.loads(ok("status", "--json"))
        assert status["pending"] == 0, point
        assert status["in_prepared_batches"] == 0, point

    store = IssuerStore.at(home / "store.db")
    digests = [r.digest for r in store.list_licenses(limit=1000)]
    store.close()
    assert len(digests) == 40
    client = RegistryClient(connect(hardhat_node.url), Deployment.load(home / "deployment.json"))
    counts: Counter[bytes] = Counter()
    for event in client.get_events(client.deployment.block_number):
        if isinstance(event, BatchAnchored):
            counts.update(event.digests)
    assert all(counts[d] == 1 for d in digests)
    assert set(counts) == set(digests)
