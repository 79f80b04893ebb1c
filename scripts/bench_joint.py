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

Each figure is the best of ``--rounds`` timed loops. On-chain figures (gas of registering a key and
of a joint anchor, a joint anchor over a node) have their own section at the end.

    python scripts/bench_joint.py [--quick] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from py_arkworks_bls12381 import G1Point, G2Point
from py_ecc.bls import G2ProofOfPossession as Reference
from py_ecc.bls.g2_primitives import pubkey_to_G1, signature_to_G2, subgroup_check
from py_ecc.optimized_bls12_381 import normalize

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


def onchain_figures(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Gas of TrustRegistry.addCoSigningKey and LicenseRegistry.anchorJoint, and the joint anchor over
    a node: measured with the contracts, added here (same row shape: operation, backend, us, ops)."""
    del args
    return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="few iterations (a smoke run, about 20 s)")
    parser.add_argument("--rounds", type=int, default=3, help="timed loops per figure; the best is reported")
    parser.add_argument("--json", action="store_true")
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
    onchain = onchain_figures(args)
    if args.json:
        print(json.dumps({"quick": args.quick, "rounds": rounds, "offchain": rows, "onchain": onchain}, indent=1))
    else:
        print("\non chain (gas of addCoSigningKey / anchorJoint, joint anchor over a node):")
        for row in onchain:
            print(f"{row['operation']:<42} {row['backend']:<9} {row['us']:>12,.1f} µs/op {row['ops']:>12,.1f} ops/s")
        if not onchain:
            print("  not measured by this script yet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
