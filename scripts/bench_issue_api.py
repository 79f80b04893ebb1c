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
import sys
import tempfile
import time
from pathlib import Path

import httpx

from api.security import ApiKeys
from devkit.nodes import start_hardhat_node
from devkit.samples import SampleFactory
from devkit.serving import ServedProcess, serve_command
from devkit.world import DEPARTMENT_USCC, deploy_department
from registry import connect
from registry.issuer.store import IssuerStore
from signer import create_keystore, load_account

ELICENSE = Path(sys.executable).parent / "elicense"
DEPT = DEPARTMENT_USCC
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
        serve: ServedProcess | None = None
        try:
            home.mkdir(mode=0o700, parents=True)
            create_keystore(home / "keys" / "dept.json", PASSWORD, scrypt_n=2**14)
            key = load_account(home / "keys" / "dept.json", PASSWORD)
            setup = deploy_department(connect(node.url), key=key, license_types=["BL"])
            setup.client.deployment.save(home / "deployment.json")
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
            command = [str(ELICENSE), "serve", "--department", f"{DEPT}=dept:PW", "--no-worker"]
            serve = serve_command(lambda port: [*command, "--port", str(port)], log_dir=tmp_path, env=env)
            base = serve.url
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
                serve.stop()
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
