#!/usr/bin/env python3
"""Issue N licenses through the HTTP API while the anchoring worker is killed (SIGKILL) at random
and the chain node goes away once; then check on the chain that every license was anchored exactly
once and none was lost.

Starts its own hardhat node behind a TCP proxy (cutting the proxy is the node outage: the chain
keeps its state), sets up a region, a department and its encrypted key, runs ``elicense serve``
(API only) and ``elicense worker`` as separate processes, issues through
``POST /v1/issuers/{uscc}/licenses/batch`` with Idempotency-Keys (a request that fails is retried
with the same key), and prints a JSON summary.

    python scripts/chaos_issue.py [--licenses 10000] [--kills 8] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

from api.security import ApiKeys
from devkit.nodes import start_hardhat_node
from devkit.proxy import TcpProxy
from devkit.samples import SampleFactory
from devkit.serving import ServedProcess, serve_command
from devkit.waiting import wait_until
from devkit.world import DEPARTMENT_USCC, deploy_department
from registry import Deployment, RegistryClient, connect
from registry.chain.events import BatchAnchored
from registry.issuer.store import IssuerStore
from signer import create_keystore, load_account

ELICENSE = Path(sys.executable).parent / "elicense"
DEPT = DEPARTMENT_USCC
PASSWORD = "chaos test password"  # noqa: S105 - a throwaway keystore in a temporary folder


def main() -> int:  # noqa: PLR0912 - one scenario, told in order
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--licenses", type=int, default=10_000)
    parser.add_argument("--per-request", type=int, default=500)
    parser.add_argument("--kills", type=int, default=8, help="how many times the worker is killed")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 10 <= args.licenses <= 100_000 or not 1 <= args.per_request <= 10_000:
        parser.error("--licenses 10..100000, --per-request 1..10000")
    rng = random.Random(args.seed)  # noqa: S311 - chaos timing, not cryptography
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        home = tmp_path / "home"
        node = start_hardhat_node(tmp_path)
        proxy = TcpProxy(node.port)
        proxy.start()
        processes: list[subprocess.Popen[bytes]] = []
        serve: ServedProcess | None = None
        try:
            # -- the chain side: deployment, region, department, key ----------------------------------
            home.mkdir(mode=0o700, parents=True)
            create_keystore(home / "keys" / "dept.json", PASSWORD, scrypt_n=2**14)
            dept_key = load_account(home / "keys" / "dept.json", PASSWORD)
            setup = deploy_department(connect(node.url), key=dept_key, fund_key=10**20, license_types=["BL"])
            setup.client.deployment.save(home / "deployment.json")
            store = IssuerStore.at(home / "store.db")
            _, api_key = ApiKeys(store.engine).create(DEPT, "chaos")
            store.close()

            env = {
                **os.environ,
                "ELICENSE_HOME": str(home),
                "ELICENSE_RPC_URL": proxy.url,
                "PW": PASSWORD,
                "ELICENSE_CONFIRMATIONS": "1",
            }
            env.pop("ELICENSE_FAILPOINT", None)
            worker_cmd = [str(ELICENSE), "worker", "--department", f"{DEPT}=dept:PW", "--batch-size", "500"]
            worker_cmd += ["--max-age", "1", "--interval", "0.2"]

            def start_worker() -> subprocess.Popen[bytes]:
                process = subprocess.Popen(worker_cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                processes.append(process)
                return process

            worker = start_worker()
            command = [str(ELICENSE), "serve", "--department", f"{DEPT}=dept:PW", "--no-worker"]
            serve = serve_command(lambda port: [*command, "--port", str(port)], log_dir=tmp_path, env=env)
            base = serve.url

            # -- chaos: kill the worker at random, cut the node once ----------------------------------
            kills = 0
            outage_done = threading.Event()
            issuing_done = threading.Event()

            def chaos() -> None:
                nonlocal worker, kills
                outage_at = rng.randrange(2, max(3, args.kills))
                while not issuing_done.is_set() or kills < args.kills:
                    time.sleep(rng.uniform(0.3, 1.5))
                    if kills < args.kills:
                        os.kill(worker.pid, signal.SIGKILL)
                        worker.wait()
                        kills += 1
                        worker = start_worker()
                    if kills == outage_at and not outage_done.is_set():
                        proxy.stop()
                        time.sleep(3)
                        proxy.start()
                        outage_done.set()
                    if issuing_done.is_set() and kills >= args.kills:
                        return

            chaos_thread = threading.Thread(target=chaos, daemon=True)
            chaos_thread.start()

            # -- issue through the API --------------------------------------------------------------
            samples = SampleFactory(args.seed)
            issued: list[str] = []
            retries = 0
            headers = {"Authorization": f"Bearer {api_key}"}
            with httpx.Client(base_url=base, timeout=120) as http:
                for n, start in enumerate(range(0, args.licenses, args.per_request)):
                    count = min(args.per_request, args.licenses - start)
                    body = {"licenses": [samples.business_license().to_dict() for _ in range(count)]}
                    for attempt in range(20):
                        try:
                            response = http.post(
                                f"/v1/issuers/{DEPT}/licenses/batch",
                                json=body,
                                headers={**headers, "Idempotency-Key": f"chaos-{n}"},
                            )
                        except httpx.HTTPError:
                            response = None
                        if response is not None and response.status_code == 201:
                            issued += [item["digest"] for item in response.json()["licenses"]]
                            break
                        retries += 1
                        time.sleep(0.5 * (attempt + 1))
                    else:
                        raise SystemExit(f"request {n} kept failing: {response.text if response else 'no response'}")
            issuing_done.set()
            chaos_thread.join(timeout=120)
            outage_done.wait(timeout=30)

            # -- wait for the worker to finish, then check the chain ------------------------------------
            status: dict = {}

            def all_anchored() -> bool:
                result = subprocess.run(
                    [str(ELICENSE), "status", "--json"], env=env, capture_output=True, text=True, check=False
                )
                status.update(json.loads(result.stdout))
                return bool(status["pending"] == 0 and status["in_prepared_batches"] == 0)

            with contextlib.suppress(TimeoutError):  # what is left unanchored shows in the summary
                wait_until(all_anchored, timeout=300, interval=1, what="the worker anchoring everything")
            chain = RegistryClient(connect(node.url), Deployment.load(home / "deployment.json"))
            counts: Counter[str] = Counter()
            transactions = 0
            for event in chain.get_events(chain.deployment.block_number):
                if isinstance(event, BatchAnchored):
                    transactions += 1
                    counts.update("0x" + d.hex() for d in event.digests)
            summary = {
                "issued_through_api": len(issued),
                "distinct_issued": len(set(issued)),
                "anchored_exactly_once": sum(1 for d in issued if counts[d] == 1),
                "anchored_more_than_once": sum(1 for d in issued if counts[d] > 1),
                "not_anchored": sum(1 for d in issued if counts[d] == 0),
                "anchor_transactions": transactions,
                "worker_kills": kills,
                "node_outages": 1 if outage_done.is_set() else 0,
                "api_retries": retries,
                "store_status": status,
                "seconds": round(time.monotonic() - started, 1),
            }
        finally:
            if serve is not None:
                serve.stop()
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            proxy.stop()
            node.stop()
    ok = (
        summary["issued_through_api"] == args.licenses
        and summary["anchored_exactly_once"] == args.licenses
        and summary["anchored_more_than_once"] == 0
    )
    if args.json:
        print(json.dumps({**summary, "ok": ok}))
    else:
        print(
            f"{summary['issued_through_api']:,} licenses issued through the API; "
            f"{summary['anchored_exactly_once']:,} anchored exactly once, {summary['anchored_more_than_once']} twice, "
            f"{summary['not_anchored']} not at all; {summary['anchor_transactions']} anchor transactions; "
            f"worker killed {summary['worker_kills']} times, node cut {summary['node_outages']} time; "
            f"{summary['api_retries']} API retries; {summary['seconds']} s"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
