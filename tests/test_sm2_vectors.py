"""tests/vectors/sm2.json checked by the Tongsuo backend (signer._sm2) and by gmssl, a second,
independent implementation in pure Python; the standards' published examples are the anchor
(tests/contracts/Sm2Vectors.test.js checks the same file with the JavaScript package sm-crypto)."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from gmssl import sm2 as gm
from gmssl import sm3 as gm_sm3

from signer import (
    Sm2LicenseSigner,
    Sm2SigningKey,
    _sm2,
    sign_sm2_account_acceptance,
    sm2_key_acceptance_message,
    verify_sm2_key_acceptance,
    verify_sm2_license,
    verify_sm2_signature,
)
from signer._eip712 import domain_separator, sm2_key_acceptance_typed_data, trust_domain_separator

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT / "tests" / "vectors" / "sm2.json"


@cache
def vectors() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return data


def b(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def i(value: str) -> int:
    return int(value, 16)


def gm_table(curve: dict[str, str]) -> dict[str, str]:
    return {
        "n": f"{i(curve['n']):064x}",
        "p": f"{i(curve['p']):064x}",
        "g": f"{i(curve['gx']):064x}{i(curve['gy']):064x}",
        "a": f"{i(curve['a']):064x}",
        "b": f"{i(curve['b']):064x}",
    }


def gm_key(public_key: bytes, private_key: int | None = None, curve: dict[str, str] | None = None) -> gm.CryptSM2:
    table = gm_table(curve or vectors()["curve"])
    private = None if private_key is None else f"{private_key:064x}"
    return gm.CryptSM2(private_key=private, public_key=public_key.hex(), ecc_table=table)


def gm_z(curve: dict[str, str], identifier: bytes, public_key: bytes) -> bytes:
    """Z_A computed with gmssl's SM3 over the standard's concatenation."""
    data = (8 * len(identifier)).to_bytes(2, "big") + identifier
    data += b"".join(i(curve[k]).to_bytes(32, "big") for k in ("a", "b", "gx", "gy")) + public_key
    return bytes.fromhex(gm_sm3.sm3_hash(list(data)))


def test_the_script_reproduces_the_file():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sm2_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_curve_constants_are_the_standards():
    curve = vectors()["curve"]
    assert (i(curve["p"]), i(curve["a"]), i(curve["b"]), i(curve["n"])) == (_sm2.P, _sm2.A, _sm2.B, _sm2.N)
    assert (i(curve["gx"]), i(curve["gy"])) == (_sm2.GX, _sm2.GY)
    assert _sm2.is_on_curve(_sm2.GX, _sm2.GY)
    # n G is the point at infinity: (n - 1) G = -G
    minus_g = gm_key(b"", 0)._kg(_sm2.N - 1, f"{_sm2.GX:064x}{_sm2.GY:064x}")
    assert (int(minus_g[:64], 16), int(minus_g[64:], 16)) == (_sm2.GX, _sm2.P - _sm2.GY)


@pytest.mark.parametrize("example", vectors()["sm3"], ids=lambda v: v["text"][:8])
def test_sm3_examples(example):
    assert _sm2.sm3(b(example["input"])) == b(example["digest"])
    assert bytes.fromhex(gm_sm3.sm3_hash(list(b(example["input"])))) == b(example["digest"])


@pytest.mark.parametrize("example", vectors()["standard"], ids=lambda v: v["label"][:20])
def test_the_standards_examples_with_gmssl(example):
    """gmssl reproduces each published example exactly, on its own curve: the public key of d,
    Z_A, e and, signing e with the published k, the published (r, s); and it verifies them."""
    curve, public = example["curve"], b(example["publicKey"])
    key = gm_key(public, i(example["privateKey"]), curve)
    assert key._kg(i(example["privateKey"]), gm_table(curve)["g"]) == public.hex()
    assert gm_z(curve, b(example["id"]), public) == b(example["za"])
    assert bytes.fromhex(gm_sm3.sm3_hash(list(b(example["za"]) + b(example["message"])))) == b(example["e"])
    assert key.sign(b(example["e"]), example["k"][2:]) == example["signature"][2:]
    assert key.verify(example["signature"][2:], b(example["e"]))


def test_the_recommended_curve_example_with_tongsuo():
    """The backend is the GM/T SM2 scheme with the identifier digest: it derives the published public
    key, computes the published Z_A and e, and accepts the published (r, s) on the message."""
    (example,) = [v for v in vectors()["standard"] if "recommended" in v["label"]]
    public, identifier, message = b(example["publicKey"]), b(example["id"]), b(example["message"])
    key = Sm2SigningKey.from_secret(b(example["privateKey"]), identifier)
    assert key.public_key == public
    assert _sm2.z_a(public, identifier) == b(example["za"])
    assert _sm2.message_digest(public, identifier, message) == b(example["e"])
    assert verify_sm2_signature(public, message, b(example["signature"]), identifier)
    assert not verify_sm2_signature(public, b"message digesT", b(example["signature"]), identifier)
    # what Tongsuo signs with its own k verifies with gmssl
    fresh = key.sign(message)
    assert gm_key(public).verify(fresh.hex(), b(example["e"]))


def test_license_vector():
    v = vectors()["license"]
    public, identifier, signature = b(v["publicKey"]), b(v["distinguishingId"]), b(v["signature"])
    domain = domain_separator(v["chainId"], v["licenseRegistry"])
    assert domain == b(v["domainSeparator"])
    assert b(v["message"]) == b"\x19\x01" + domain + b(v["digest"])
    key = Sm2SigningKey.from_secret(b(v["privateKey"]), identifier)
    assert key.public_key == public
    assert _sm2.z_a(public, identifier) == b(v["za"]) == gm_z(vectors()["curve"], identifier, public)
    assert _sm2.message_digest(public, identifier, b(v["message"])) == b(v["e"])
    assert verify_sm2_license(domain, b(v["digest"]), signature, public, identifier)
    assert gm_key(public, i(v["privateKey"])).sign(b(v["e"]), v["k"][2:]) == signature.hex()
    assert gm_key(public).verify(signature.hex(), b(v["e"]))
    signer = Sm2LicenseSigner(key, chain_id=v["chainId"], license_registry=v["licenseRegistry"])
    assert verify_sm2_license(domain, b(v["digest"]), signer.sign_license(b(v["digest"])), public, identifier)


def test_key_acceptance_vector():
    v = vectors()["keyAcceptance"]
    public, identifier, issuer_id = b(v["sm2PublicKey"]), b(v["distinguishingId"]), b(v["issuerId"])
    common = {"issuer_id": issuer_id, "chain_id": v["chainId"], "trust_registry": v["trustRegistry"]}
    message = sm2_key_acceptance_message(
        account=v["account"], sm2_public_key=public, distinguishing_id=identifier, **common
    )
    assert message == b(v["message"])
    assert trust_domain_separator(v["chainId"], v["trustRegistry"]) == b(v["domainSeparator"])
    # eth_account's own EIP-712 encoder agrees on the 66 bytes
    typed = sm2_key_acceptance_typed_data(
        key=v["account"], sm2_public_key=public, distinguishing_id=identifier, **common
    )
    encoded = encode_typed_data(full_message=typed)
    assert b"\x19" + encoded.version + encoded.header + encoded.body == message
    assert encoded.body == b(v["structHash"])
    assert verify_sm2_key_acceptance(
        account=v["account"], sm2_public_key=public, distinguishing_id=identifier, proof=b(v["proof"]), **common
    )
    e = _sm2.message_digest(public, identifier, message)
    assert gm_key(public, i(v["privateKey"])).sign(e, v["k"][2:]) == v["proof"][2:]
    account = Account.from_key(b(v["accountPrivateKey"]))
    assert account.address == v["account"]
    signature = sign_sm2_account_acceptance(account, sm2_public_key=public, distinguishing_id=identifier, **common)
    assert signature == b(v["accountSignature"])
    assert Account.recover_message(encoded, signature=signature) == v["account"]


@pytest.mark.parametrize("case", vectors()["signatures"], ids=lambda v: v["label"])
def test_signature_cases(case):
    public, identifier = b(case["publicKey"]), b(case["distinguishingId"])
    message, signature = b(case["message"]), b(case["signature"])
    assert verify_sm2_signature(public, message, signature, identifier) is case["valid"]
    rs = _sm2.decode_signature(signature)
    if rs is not None:  # gmssl takes only well-formed values; the backend refuses the others above
        e = _sm2.message_digest(public, identifier, message)
        assert gm_key(public).verify(signature.hex(), e) is case["valid"]
