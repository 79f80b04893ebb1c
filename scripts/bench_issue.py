#!/usr/bin/env python3
"""Licenses issued per second: validate (python-stdnum), commit (salted field commitments), sign
(EIP-712, secp256k1) and store (one transaction per 1,000 licenses), then the anchoring throughput.

    python scripts/bench_issue.py [--licenses 10000] [--db URL] [--json]

Without --db the store is a fresh SQLite file in a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from devkit.samples import SampleFactory
from devkit.world import deploy_department
from registry import CATALOG, connect
from registry.issuer.store import IssuerStore


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--licenses", type=int, default=10_000)
    parser.add_argument("--db", help="issuer store URL (default: a temporary SQLite file)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 100 <= args.licenses <= 1_000_000:
        parser.error("--licenses must be 100 to 1000000")

    with tempfile.TemporaryDirectory() as tmp:
        store = IssuerStore(args.db) if args.db else IssuerStore.at(Path(tmp) / "store.db")
        bench = deploy_department(connect(None), license_types=list(CATALOG))
        department = bench.department(store)
        samples = SampleFactory(11)
        kinds = (samples.business_license, samples.food_permit, samples.construction_permit, samples.residence_permit)
        requests = [kinds[i % 4]() for i in range(args.licenses)]
        start = time.perf_counter()
        rows = department.issue_many(requests)
        issue_seconds = time.perf_counter() - start
        start = time.perf_counter()
        anchored = department.anchor_pending(batch_size=1000)
        anchor_seconds = time.perf_counter() - start
        figures = {
            "issue_per_second": round(len(rows) / issue_seconds),
            "licenses": len(rows),
            "store": store.engine.dialect.name,
            "anchor_per_second": round(sum(a.count for a in anchored) / anchor_seconds),
            "anchor_gas_per_license": round(
                sum(a.tx.gas_used for a in anchored) / max(1, sum(a.count for a in anchored)), 1
            ),
        }
        store.close()
    if args.json:
        print(json.dumps(figures))
    else:
        rate = figures["issue_per_second"]
        print(f"issued {figures['licenses']:,} licenses into {figures['store']}: {rate:,} per second")
        print(
            f"anchored them in batches of 1,000 on the in-process chain: {figures['anchor_per_second']:,} per second, "
            f"{figures['anchor_gas_per_license']} gas per license"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
