#!/usr/bin/env python3
"""Presentations verified per second on one core: QR text in, structured result out.

Issues and anchors N distinct licenses on the in-process chain (mostly business licenses with the
business scope undisclosed, the counter's usual case), syncs the verifier's chain state once, then
times ``Verifier.verify`` over every QR text, in one process (one core). Every result is checked to
be ``valid``. Holders are all distinct, so nothing about them is cached between verifications.

    python scripts/bench_verify.py [--licenses 20000] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from devkit.samples import SampleFactory
from devkit.world import deploy_department
from registry import CATALOG, connect
from registry.document.qr import qr_info
from registry.issuer.store import IssuerStore
from verifier.pipeline import Outcome, Verifier
from verifier.state import ChainClientState


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--licenses", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over all texts; the best is reported")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not 100 <= args.licenses <= 200_000 or not 1 <= args.rounds <= 20:
        parser.error("--licenses must be 100 to 200000 and --rounds 1 to 20")

    with tempfile.TemporaryDirectory() as tmp:
        store = IssuerStore.at(Path(tmp) / "store.db")
        bench = deploy_department(connect(None), license_types=list(CATALOG))
        department = bench.department(store)
        samples = SampleFactory(7)
        requests = [samples.business_license() if i % 10 < 8 else samples.food_permit() for i in range(args.licenses)]
        rows = department.issue_many(requests)
        department.anchor_pending(batch_size=1000)
        texts = [department.presentation(r.license_id).to_text() for r in rows]
        state = ChainClientState(bench.client)
        state.sync()
        d = bench.client.deployment
        verifier = Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry)

        for text in texts[:200]:  # warm up
            verifier.verify(text)
        rates = []
        latencies: list[float] = []
        for _ in range(args.rounds):
            latencies = []
            start = time.perf_counter()
            for text in texts:
                t0 = time.perf_counter()
                result = verifier.verify(text)
                latencies.append(time.perf_counter() - t0)
                if result.status is not Outcome.VALID:
                    raise SystemExit(f"unexpected result {result.status} for {text[:40]}...")
            rates.append(len(texts) / (time.perf_counter() - start))
        latencies.sort()
        business = next(t for t, r in zip(texts, rows, strict=True) if r.type_code == "BL")
        info = qr_info(business)
        figures = {
            "verify_per_second": round(max(rates)),
            "verify_per_second_rounds": [round(r) for r in rates],
            "licenses": len(texts),
            "mean_us": round(statistics.fmean(latencies) * 1e6, 1),
            "p50_us": round(latencies[len(latencies) // 2] * 1e6, 1),
            "p99_us": round(latencies[int(len(latencies) * 0.99)] * 1e6, 1),
            "business_license_qr_version": info.version,
            "business_license_qr_chars": len(business),
        }
        store.close()
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"verified {figures['licenses']:,} distinct presentations per round, {args.rounds} rounds, one core")
        print(f"  {figures['verify_per_second']:,} verifications per second (best round; all {rates!r})")
        print(f"  latency mean {figures['mean_us']} us, p50 {figures['p50_us']} us, p99 {figures['p99_us']} us")
        print(
            f"  sample business license QR: version {info.version} at level {info.error}, "
            f"{len(business)} characters (business scope undisclosed)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
