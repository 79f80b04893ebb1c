#!/usr/bin/env python3
"""Licenses issued per second through the HTTP batch endpoint (validate, commit, sign, store), with
the issuer store on SQLite or PostgreSQL.

Starts a hardhat node, sets up a department, runs ``elicense serve`` (API only, no worker) and sends
``POST /v1/issuers/{uscc}/licenses/batch`` requests of ``--per-request`` licenses.

    python scripts/bench_issue_api.py [--db postgresql+psycopg://postgres@127.0.0.1/test] [--licenses 20000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))

from _benchsetup import wait_healthy  # noqa: E402
from conftest import free_port, start_hardhat_node  # noqa: E402

from api.security import ApiKeys  # noqa: E402
from devkit.devchain import bootstrap_issuer  # noqa: E402
from devkit.samples import SampleFactory  # noqa: E402
from registry import RegistryClient, connect, dev_accounts  # noqa: E402
from registry.issuer.store import IssuerStore  # noqa: E402
from signer import create_keystore, load_account  # noqa: E402

ELICENSE = Path(sys.executable).parent / "elicense"
DEPT = "11110000MB0195560T"
PASSWORD = "bench password 123"  # noqa: S105 - a throwaway keystore in a temporary folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="issuer store URL (default: SQLite in a temporary folder)")
    parser.add_argument("--licenses", type=int, default=20_000)
    parser.add_argument("--per-request", type=int, default=1000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 100 <= args.licenses <= 1_000_000 or not 1 <= args.per_request <= 10_000:
        parser.error("--licenses 100..1000000, --per-request 1..10000")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        home = tmp_path / "home"
        node = start_hardhat_node(tmp_path)
        serve = None
        try:
            w3 = connect(node.url)
            admin, authority = dev_accounts(w3)[:2]
            client, _ = RegistryClient.deploy(w3, admin)
            home.mkdir(parents=True)
            client.deployment.save(home / "deployment.json")
            create_keystore(home / "keys" / "dept.json", PASSWORD, scrypt_n=2**14)
            key = load_account(home / "keys" / "dept.json", PASSWORD)
            bootstrap_issuer(
                client,
                admin=admin,
                authority=authority,
                key=key,
                uscc=DEPT,
                name="北京市市场监督管理局",
                license_types=["BL"],
            )
            db = args.db or f"sqlite:///{home / 'store.db'}"
            store = IssuerStore(db)
            _, api_key = ApiKeys(store.engine).create(DEPT, "bench")
            dialect = store.engine.dialect.name
            store.close()
            env = {
                **os.environ,
                "ELICENSE_HOME": str(home),
                "ELICENSE_RPC_URL": node.url,
                "ELICENSE_DB": db,
                "PW": PASSWORD,
            }
            port = free_port()
            serve = subprocess.Popen(
                [str(ELICENSE), "serve", "--port", str(port), "--department", f"{DEPT}=dept:PW", "--no-worker"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            wait_healthy(base)
            samples = SampleFactory(3)
            bodies = []
            for start in range(0, args.licenses, args.per_request):
                count = min(args.per_request, args.licenses - start)
                bodies.append({"licenses": [samples.business_license().to_dict() for _ in range(count)]})
            headers = {"Authorization": f"Bearer {api_key}"}
            with httpx.Client(base_url=base, timeout=300) as http:
                http.post(
                    f"/v1/issuers/{DEPT}/licenses/batch", json={"licenses": bodies[0]["licenses"][:10]}, headers=headers
                )
                started = time.perf_counter()
                issued = 0
                for body in bodies:
                    response = http.post(f"/v1/issuers/{DEPT}/licenses/batch", json=body, headers=headers)
                    response.raise_for_status()
                    issued += response.json()["count"]
                seconds = time.perf_counter() - started
        finally:
            if serve is not None:
                serve.terminate()
                serve.wait(timeout=20)
            node.stop()
    figures = {
        "store": dialect,
        "licenses": issued,
        "per_request": args.per_request,
        "per_second": round(issued / seconds),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"issued {issued:,} licenses through POST /v1/issuers/{{uscc}}/licenses/batch "
            f"({args.per_request} per request) into {dialect}: {figures['per_second']:,} per second"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
