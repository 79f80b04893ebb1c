#!/usr/bin/env python3
"""Co-signing figures of joint issuance (docs/joint.md), one core: each BLS12-381 operation with
py-arkworks-bls12381 (what the service runs) and py-ecc (the reference), as µs/op and ops/s.

- sign: one department signs a 32-byte bundle digest;
- aggregate 5: the sum of five departments' signatures;
- FastAggregateVerify 5: five public keys, one message, one aggregate;
- PoP prove / PoP verify: a key's proof of possession;
- key from secret: secret -> compressed public key;
- encodings: compressed <-> EIP-2537 for public keys (G1) and signatures (G2), including the ways of
  decompressing a point (checked, unchecked, plain integer square root in Fp).

Each figure is the best of ``--rounds`` timed loops. The on-chain section at the end (five 上海市
departments on a fresh deployment, each application seven licenses co-signed by the five):

- joint anchor latency: ``JointDesk.anchor`` (aggregate, send, mined receipt) on the in-process chain
  (its BLS precompiles native) and, with ``--rpc-url``, on that node (a Hardhat node: dev accounts);
- bundle QR verification: decode the ``LB1:`` text and check it against a synced chain mirror's
  state (what the service does), bundles per second with p50 / p99, beside one member license's
  ``LC1:`` verification on the same mirror, and the ratio of the two.

Gas is in scripts/gas_report.py.

    python scripts/bench_joint.py [--quick] [--rounds 3] [--json] [--rpc-url http://127.0.0.1:8545]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from py_arkworks_bls12381 import G1Point, G2Point
from py_ecc.bls import G2ProofOfPossession as Reference
from py_ecc.bls.g2_primitives import pubkey_to_G1, signature_to_G2, subgroup_check
from py_ecc.optimized_bls12_381 import normalize

from devkit.joint import JointWorld, add_departments, cosigned_application, credit_code
from registry import RegistryClient, connect, dev_accounts
from registry.issuer.store import IssuerStore
from signer import (
    CoSigningKey,
    aggregate_signatures,
    keccak256,
    public_key_to_eip2537,
    signature_to_eip2537,
    verify_co_signatures,
    verify_proof_of_possession,
)
from signer._bls import FIELD_MODULUS, decode_public_key_eip2537, decode_signature_eip2537
from verifier.bundle import BundleOutcome, BundleResult
from verifier.mirror import Mirror
from verifier.pipeline import Outcome, Verifier

P = FIELD_MODULUS


def best_seconds(fn: Callable[[], object], iterations: int, rounds: int) -> float:
    """Best time per call over ``rounds`` loops of ``iterations`` calls."""
    fn()  # warm up
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(iterations):
            fn()
        best = min(best, (time.perf_counter() - start) / iterations)
    return best


def decompress_g1_integers(pk: bytes) -> tuple[int, int]:
    """x, y of a compressed G1 point by plain integer arithmetic (no subgroup check)."""
    x = int.from_bytes(pk, "big") & ((1 << 381) - 1)
    rhs = (x * x * x + 4) % P
    y = pow(rhs, (P + 1) // 4, P)
    if y * y % P != rhs:
        raise ValueError("not on the curve")
    if bool(pk[0] & 0x20) != (y > (P - 1) // 2):
        y = P - y
    return x, y


g1_unchecked = G1Point.from_compressed_bytes_unchecked
g2_unchecked = G2Point.from_compressed_bytes_unchecked


def g1_xy(pk: bytes) -> object:
    return normalize(pubkey_to_G1(pk))


def g2_checked_xy(sig: bytes) -> object:
    point = signature_to_G2(sig)
    if not subgroup_check(point):
        raise ValueError("not in the subgroup")
    return normalize(point)


def operations(keys: list[CoSigningKey], message: bytes) -> list[tuple[str, str, Callable[[], object]]]:
    """(operation, backend, call) for every figure."""
    secrets = [int.from_bytes(k.secret_bytes(), "big") for k in keys]
    pks = [k.public_key for k in keys]
    sigs = [k.sign(message) for k in keys]
    agg = aggregate_signatures(sigs)
    pop = keys[0].proof_of_possession()
    pk, sig = pks[0], sigs[0]
    pk_eip, sig_eip = public_key_to_eip2537(pk), signature_to_eip2537(sig)
    assert verify_co_signatures(pks, message, agg)
    assert Reference.FastAggregateVerify(pks, message, agg)
    assert decompress_g1_integers(pk) == tuple(c.n for c in normalize(pubkey_to_G1(pk)))
    return [
        ("sign (one department)", "arkworks", lambda: keys[0].sign(message)),
        ("sign (one department)", "py-ecc", lambda: Reference.Sign(secrets[0], message)),
        ("aggregate 5 signatures", "arkworks", lambda: aggregate_signatures(sigs)),
        ("aggregate 5 signatures", "py-ecc", lambda: Reference.Aggregate(sigs)),
        ("FastAggregateVerify, 5 keys", "arkworks", lambda: verify_co_signatures(pks, message, agg)),
        ("FastAggregateVerify, 5 keys", "py-ecc", lambda: Reference.FastAggregateVerify(pks, message, agg)),
        ("PoP prove", "arkworks", keys[0].proof_of_possession),
        ("PoP prove", "py-ecc", lambda: Reference.PopProve(secrets[0])),
        ("PoP verify", "arkworks", lambda: verify_proof_of_possession(pk, pop)),
        ("PoP verify", "py-ecc", lambda: Reference.PopVerify(pk, pop)),
        ("key from secret", "arkworks", lambda: CoSigningKey.from_secret(keys[0].secret_bytes())),
        ("key from secret", "py-ecc", lambda: Reference.SkToPk(secrets[0])),
        ("G1 48 -> 128 (checked: curve, subgroup)", "arkworks", lambda: public_key_to_eip2537(pk)),
        ("G1 48 -> 128 (checked: curve, subgroup)", "py-ecc", lambda: Reference.KeyValidate(pk) and g1_xy(pk)),
        ("G1 48 -> x, y (unchecked subgroup)", "arkworks", lambda: g1_unchecked(pk).to_xy_bytes_be()),
        ("G1 48 -> x, y (unchecked subgroup)", "integers", lambda: decompress_g1_integers(pk)),
        ("G1 48 -> x, y (unchecked subgroup)", "py-ecc", lambda: g1_xy(pk)),
        ("G1 128 -> 48 (checked)", "arkworks", lambda: decode_public_key_eip2537(pk_eip).to_compressed_bytes()),
        ("G2 96 -> 256 (checked: curve, subgroup)", "arkworks", lambda: signature_to_eip2537(sig)),
        ("G2 96 -> 256 (checked: curve, subgroup)", "py-ecc", lambda: g2_checked_xy(sig)),
        ("G2 96 -> x, y (unchecked subgroup)", "arkworks", lambda: g2_unchecked(sig).to_xy_bytes_be()),
        ("G2 96 -> x, y (unchecked subgroup)", "py-ecc", lambda: normalize(signature_to_G2(sig))),
        ("G2 256 -> 96 (checked)", "arkworks", lambda: decode_signature_eip2537(sig_eip).to_compressed_bytes()),
        ("key id (keccak256 of 48 bytes)", "keccak", lambda: keccak256(pk)),
    ]  # fmt: skip


def _row(operation: str, backend: str, samples: list[float]) -> dict[str, Any]:
    """A figure from per-call seconds: mean µs and ops/s, p50 and p99 in µs."""
    ordered = sorted(samples)
    mean = statistics.fmean(ordered)

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1e6, 1)

    return {
        "operation": operation,
        "backend": backend,
        "us": round(mean * 1e6, 1),
        "ops": round(1 / mean, 1),
        "p50_us": pct(0.50),
        "p99_us": pct(0.99),
        "n": len(ordered),
    }


def _world(rpc_url: str | None, store: IssuerStore) -> JointWorld:
    w3 = connect(rpc_url)
    admin, authority = dev_accounts(w3)[:2]
    client, _ = RegistryClient.deploy(w3, admin)
    client.add_region(admin, 310000, "上海市")
    client.add_region_authority(admin, 310000, authority.address)
    return add_departments(client, store, admin=admin, authorities={310000: authority})


def joint_anchor_latency(world: JointWorld, count: int, backend: str) -> tuple[dict[str, Any], str, str]:
    """Anchor ``count`` applications of seven licenses (prepared and co-signed outside the timing);
    returns the figure, the last bundle's QR text and one member's license QR text."""
    lead = world.departments["sh-samr"]
    today = dt.date.today()
    applications = [
        cosigned_application(world, credit_code(f"91310115MA1K{i:04d}R"), f"上海临港第{i + 1}国际贸易有限公司", today)
        for i in range(count)
    ]
    seconds = []
    for application in applications:
        start = time.perf_counter()
        anchored = world.desk.anchor(application.application_id, lead.account)  # type: ignore[arg-type]
        seconds.append(time.perf_counter() - start)
        if anchored.state != "anchored":
            raise SystemExit(f"{application.application_id} was not anchored")
    last = applications[-1]
    member = lead.presentation(last.license_ids[0]).to_text()
    row = _row("joint anchor (7 members, 5 departments)", backend, seconds)
    return row, world.desk.presentation(last.application_id), member


def verification_figures(
    world: JointWorld, mirror_path: Path, bundle: str, member: str, *, iterations: int, backend: str
) -> list[dict[str, Any]]:
    """Bundle QR and member QR verification against a chain mirror synced from ``world``'s chain,
    interleaved so both see the same machine; the last row is the ratio bundle / license."""
    client = world.client
    mirror = Mirror.at(mirror_path, client.deployment, confirmations=1)
    mirror.sync(client)
    d = client.deployment
    verifier = Verifier(mirror.index, chain_id=d.chain_id, license_registry=d.license_registry)
    first = verifier.check(bundle)
    if not isinstance(first, BundleResult) or first.status != BundleOutcome.VALID:
        raise SystemExit(f"the bundle does not verify valid on the mirror: {first.status}")
    if verifier.verify(member).status is not Outcome.VALID:
        raise SystemExit("the member license does not verify valid on the mirror")
    bundle_s, license_s = [], []
    for _ in range(iterations):
        start = time.perf_counter()
        verifier.check(bundle)
        bundle_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        verifier.check(member)
        license_s.append(time.perf_counter() - start)
    mirror.close()
    rows = [
        _row("verify bundle QR (LB1:, 7 members)", backend, bundle_s),
        _row("verify one license QR (LC1:)", backend, license_s),
    ]
    for stat in ("us", "p50_us"):
        ratio = round(rows[0][stat] / rows[1][stat], 2)
        which = "mean" if stat == "us" else "p50"
        rows.append({"operation": f"bundle / license verification ({which})", "backend": backend, "ratio": ratio})
    return rows


def onchain_figures(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Joint anchor latency on the in-process chain (and on ``args.rpc_url``), bundle QR verification
    against a mirror, and its ratio to one license's verification (see the module's text)."""
    anchors = 3 if args.quick else 10
    iterations = 100 if args.quick else 2000
    rows: list[dict[str, Any]] = []
    targets: list[tuple[str | None, str]] = [(None, "in-process")]
    if args.rpc_url:
        targets.append((args.rpc_url, "node"))
    for url, backend in targets:
        with tempfile.TemporaryDirectory() as tmp:
            store = IssuerStore.at(Path(tmp) / "store.db")
            world = _world(url, store)
            anchor, bundle, member = joint_anchor_latency(world, anchors, backend)
            rows.append(anchor)
            if url is None:  # verification reads only the mirror: once is enough
                rows += verification_figures(
                    world, Path(tmp) / "mirror.db", bundle, member, iterations=iterations, backend=backend
                )
            store.engine.dispose()
    return rows


def _print_onchain(row: dict[str, Any]) -> None:
    if "ratio" in row:
        print(f"{row['operation']:<42} {row['backend']:<10} {row['ratio']:>10.2f} x")
        return
    print(
        f"{row['operation']:<42} {row['backend']:<10} {row['us']:>12,.1f} µs/op {row['ops']:>10,.1f} ops/s"
        f"  p50 {row['p50_us']:>10,.1f} µs  p99 {row['p99_us']:>10,.1f} µs  (n={row['n']})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few iterations (a smoke run, about 20 s)")
    parser.add_argument("--rounds", type=int, default=3, help="timed loops per figure; the best is reported")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--rpc-url", help="also anchor jointly on this node (a Hardhat node: its dev accounts)")
    parser.add_argument("--offchain-only", action="store_true", help="skip the on-chain section")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be 1 to 20")
    rounds = 1 if args.quick else args.rounds
    keys = [
        CoSigningKey.from_secret(keccak256(f"bench department {i}".encode())[:31].rjust(32, b"\0")) for i in range(5)
    ]
    message = keccak256(b"bench bundle digest")
    rows: list[dict[str, Any]] = []
    for name, backend, fn in operations(keys, message):
        slow = backend == "py-ecc"
        iterations = (1 if args.quick else 3) if slow else (20 if args.quick else 300)
        seconds = best_seconds(fn, iterations, rounds)
        rows.append(
            {"operation": name, "backend": backend, "us": round(seconds * 1e6, 1), "ops": round(1 / seconds, 1)}
        )
        if not args.json:
            print(f"{name:<42} {backend:<9} {seconds * 1e6:>12,.1f} µs/op {1 / seconds:>12,.1f} ops/s", flush=True)
    onchain = [] if args.offchain_only else onchain_figures(args)
    if args.json:
        print(json.dumps({"quick": args.quick, "rounds": rounds, "offchain": rows, "onchain": onchain}, indent=1))
    else:
        print("\non chain (joint anchor latency; bundle QR verification against a synced mirror):")
        for row in onchain:
            _print_onchain(row)
        if not onchain:
            print("  skipped (--offchain-only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
