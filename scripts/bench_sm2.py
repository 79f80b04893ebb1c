#!/usr/bin/env python3
"""SM2 figures (docs/signatures.md), one core: signing and verifying a license's 66-byte encoded
message with each SM2 backend evaluated, and secp256k1 recovery with coincurve (the secp256k1
suite's verification floor) measured in the same run, with the ratio of SM2 verify to it.

- tongsuo (what the library runs): ``Sm2SigningKey.sign`` and ``verify_sm2_license`` (Z_A and the
  key object cached per key and identifier; e = SM3(Z_A || M) computed here; Tongsuo verifies the
  digest), with the parts: SM3 of Z_A || M, Tongsuo's digest verification alone, and the binding's
  high-level call (EVP_DigestVerify with the default identifier, the key object reused);
- gmssl (pure Python): sign and verify of the same digest;
- gmssl_pyx and gmssl_fast (GmSSL bindings) when they are installed (they are not dependencies).

Each figure is the best of ``--rounds`` timed loops (the machine's other load makes single loops noisy).

    python scripts/bench_sm2.py [--rounds 5] [--quick] [--json]
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from collections.abc import Callable
from typing import Any

from coincurve import PrivateKey as Secp256k1Key
from coincurve import PublicKey
from eth_account import Account
from gmssl import sm2 as gm
from tongsuopy.crypto import hashes
from tongsuopy.crypto.asymciphers import ec

from signer import (
    LicenseSigner,
    Sm2LicenseSigner,
    Sm2SigningKey,
    _sm2,
    domain_separator,
    recover_signer,
    verify_sm2_license,
)
from signer._eip712 import eip712_message

REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DIGEST = bytes.fromhex("ab" * 32)


def best(operation: Callable[[], object], loops: int, rounds: int) -> float:
    """Best µs per call over ``rounds`` loops of ``loops`` calls."""
    operation()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(loops):
            operation()
        times.append((time.perf_counter() - start) / loops)
    return min(times) * 1e6


def _der(signature: bytes) -> bytes:
    return _sm2._der_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))


def measure(loops: int, rounds: int) -> dict[str, float]:
    key = Sm2SigningKey.generate("北京市海淀区市场监督管理局".encode())
    signer = Sm2LicenseSigner(key, chain_id=31337, license_registry=REGISTRY)
    domain = signer.domain
    message = eip712_message(domain, DIGEST)
    signature = signer.sign_license(DIGEST)
    public, identifier = key.public_key, key.distinguishing_id
    e = _sm2.message_digest(public, identifier, message)
    r, s = int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    backend_key = _sm2._verifying_key(public)
    assert verify_sm2_license(domain, DIGEST, signature, public, identifier)

    figures: dict[str, float] = {}
    figures["tongsuo sign"] = best(lambda: signer.sign_license(DIGEST), loops, rounds)
    figures["tongsuo verify"] = best(
        lambda: verify_sm2_license(domain, DIGEST, signature, public, identifier), loops, rounds
    )
    figures["  SM3(Z_A || M), Z_A cached"] = best(
        lambda: _sm2.message_digest(public, identifier, message), loops, rounds
    )
    figures["  Tongsuo digest verification alone"] = best(
        lambda: _sm2.verify_digest(backend_key, e, r, s), loops, rounds
    )
    default_key = Sm2SigningKey.from_secret(key.secret_bytes())
    default_signature = default_key.sign(message)
    high_level = ec.EllipticCurvePublicNumbers(
        int.from_bytes(public[:32], "big"), int.from_bytes(public[32:], "big"), ec.SM2()
    ).public_key()
    algorithm = ec.ECDSA(hashes.SM3())  # the binding's name for "sign with this curve's scheme"
    figures["  binding's DigestVerify (default ID)"] = best(
        lambda: high_level.verify(_der(default_signature), message, algorithm), loops, rounds
    )

    table = {
        "n": f"{_sm2.N:064x}",
        "p": f"{_sm2.P:064x}",
        "g": f"{_sm2.GX:064x}{_sm2.GY:064x}",
        "a": f"{_sm2.A:064x}",
        "b": f"{_sm2.B:064x}",
    }
    pure = gm.CryptSM2(private_key=key.secret_bytes().hex(), public_key=public.hex(), ecc_table=table)
    assert pure.verify(signature.hex(), e)
    slow = max(3, loops // 100)
    figures["gmssl sign"] = best(lambda: pure.sign(e, "01" * 32), slow, rounds)
    figures["gmssl verify"] = best(lambda: pure.verify(signature.hex(), e), slow, rounds)

    try:
        pyx: Any = importlib.import_module("gmssl_pyx")
    except ImportError:
        print("gmssl_pyx: not installed, skipped")
    else:
        der = _der(signature)
        assert pyx.sm2_verify_sm3_digest(public, e, der)
        figures["gmssl_pyx verify (digest)"] = best(lambda: pyx.sm2_verify_sm3_digest(public, e, der), loops, rounds)
    try:
        fast: Any = importlib.import_module("gmssl_fast")
    except ImportError:
        print("gmssl_fast: not installed, skipped")
    else:
        default = fast.SM2(public_key=public.hex())
        assert default.verify(message, default_signature)
        figures["gmssl_fast verify (default ID)"] = best(
            lambda: default.verify(message, default_signature), loops, rounds
        )

    account = Account.create()
    secp_signature = LicenseSigner(account, chain_id=31337, license_registry=REGISTRY).sign_license(DIGEST)
    secp_domain = domain_separator(31337, REGISTRY)
    assert recover_signer(secp_domain, DIGEST, secp_signature) == account.address
    secp_key = Secp256k1Key()
    compact = secp_key.sign_recoverable(DIGEST, hasher=None)
    figures["secp256k1 recover (coincurve)"] = best(
        lambda: PublicKey.from_signature_and_message(compact, DIGEST, hasher=None), loops, rounds
    )
    figures["secp256k1 recover_signer (recipe)"] = best(
        lambda: recover_signer(secp_domain, DIGEST, secp_signature), loops, rounds
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer loops")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    figures = measure(200 if args.quick else 1000, args.rounds)
    ratio = figures["tongsuo verify"] / figures["secp256k1 recover (coincurve)"]
    if args.json:
        print(json.dumps({"us_per_op": figures, "sm2_verify_over_secp256k1_recover": ratio}, indent=1))
        return 0
    print(f"{'operation (one core)':42} {'µs/op':>10} {'ops/s':>10}")
    for name, micros in figures.items():
        print(f"{name:42} {micros:10.1f} {1e6 / micros:10.0f}")
    print(f"SM2 verify (tongsuo) / secp256k1 recover (coincurve): {ratio:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
