#!/usr/bin/env python3
"""Presentations verified per second on one core: QR text in, structured result out.

Issues and anchors N distinct licenses on the in-process chain (mostly business licenses with the
business scope undisclosed, the counter's usual case), syncs the verifier's chain state once, then
times ``Verifier.verify`` over every QR text, in one process (one core). Every result is checked to
be ``valid``. Holders are all distinct, so nothing about them is cached between verifications.

``--suite sm2``: the department signs with an SM2 key bound on chain to its anchoring account (the
verifier finds the signer among the candidate keys and checks the SM2/SM3 signature); the run also
times the bare SM2 verification of the same signatures (``signer.verify_sm2_license``, the floor)
and prints the ratio of the two. The default run (secp256k1) is unchanged.

    python scripts/bench_verify.py [--licenses 20000] [--rounds 3] [--suite secp256k1|sm2] [--json]
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
from devkit.world import DepartmentSetup, deploy_department
from registry import CATALOG, SignatureSuite, connect, dev_accounts
from registry.chain.sm2 import Sm2KeyRegistration
from registry.document.identifiers import issuer_id_from_uscc
from registry.document.qr import qr_info
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore, LicenseRow
from signer import Sm2LicenseSigner, Sm2SigningKey, sign_sm2_key_acceptance, verify_sm2_license
from verifier.pipeline import Outcome, Verifier
from verifier.state import ChainClientState


def sm2_department(bench: DepartmentSetup, store: IssuerStore) -> tuple[Department, Sm2SigningKey]:
    """The department signing with a new SM2 key bound to dev account 3 (its anchoring account)."""
    client, account = bench.client, dev_accounts(bench.client.w3)[3]
    d = client.deployment
    issuer_id = issuer_id_from_uscc(bench.uscc)
    key = Sm2SigningKey.generate()
    proof = sign_sm2_key_acceptance(
        key, issuer_id=issuer_id, account=account.address, chain_id=d.chain_id, trust_registry=d.trust_registry
    )
    registration = Sm2KeyRegistration(public_key=key.public_key, proof=proof, distinguishing_id=key.distinguishing_id)
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    client.add_sm2_key(bench.authority, issuer_id, account, registration, valid_from=now)
    department = Department(
        issuer_uscc=bench.uscc,
        store=store,
        signer=Sm2LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry),
        suite=SignatureSuite.SM2,
        client=client,
        account=account,
    )
    return department, key


def sm2_floor(rows: list[LicenseRow], domain: bytes, key: Sm2SigningKey, rounds: int) -> float:
    """Bare SM2 verifications per second of the same signatures (best of ``rounds``)."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for row in rows:
            if not verify_sm2_license(domain, row.digest, row.signature, key.public_key, key.distinguishing_id):
                raise SystemExit(f"the SM2 signature of {row.license_id} does not verify")
        rates.append(len(rows) / (time.perf_counter() - start))
    return max(rates)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--licenses", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over all texts; the best is reported")
    parser.add_argument("--suite", choices=[s.value for s in SignatureSuite], default="secp256k1")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    suite = SignatureSuite(args.suite)
    if not 100 <= args.licenses <= 200_000 or not 1 <= args.rounds <= 20:
        parser.error("--licenses must be 100 to 200000 and --rounds 1 to 20")

    with tempfile.TemporaryDirectory() as tmp:
        store = IssuerStore.at(Path(tmp) / "store.db")
        bench = deploy_department(connect(None), license_types=list(CATALOG))
        key = None
        if suite is SignatureSuite.SM2:
            department, key = sm2_department(bench, store)
        else:
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
        floor = None if key is None else sm2_floor(rows, verifier.domain, key, args.rounds)
        business = next(t for t, r in zip(texts, rows, strict=True) if r.type_code == "BL")
        info = qr_info(business)
        figures: dict[str, object] = {
            "suite": suite.value,
            "verify_per_second": round(max(rates)),
            "verify_per_second_rounds": [round(r) for r in rates],
            "licenses": len(texts),
            "mean_us": round(statistics.fmean(latencies) * 1e6, 1),
            "p50_us": round(latencies[len(latencies) // 2] * 1e6, 1),
            "p99_us": round(latencies[int(len(latencies) * 0.99)] * 1e6, 1),
            "business_license_qr_version": info.version,
            "business_license_qr_chars": len(business),
        }
        if floor is not None:
            figures["sm2_verify_floor_per_second"] = round(floor)
            figures["ratio_to_floor"] = round(max(rates) / floor, 3)
        store.close()
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"verified {figures['licenses']:,} distinct {suite.value} presentations per round, "
            f"{args.rounds} rounds, one core"
        )
        print(f"  {figures['verify_per_second']:,} verifications per second (best round; all {rates!r})")
        print(f"  latency mean {figures['mean_us']} us, p50 {figures['p50_us']} us, p99 {figures['p99_us']} us")
        print(
            f"  sample business license QR: version {info.version} at level {info.error}, "
            f"{len(business)} characters (business scope undisclosed)"
        )
        if floor is not None:
            print(
                f"  floor: {round(floor):,} bare SM2 verifications per second of the same signatures "
                f"(signer.verify_sm2_license); the full verification runs at {max(rates) / floor:.2f} of it"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
