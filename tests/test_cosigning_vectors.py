"""tests/vectors/joint.json checked with both BLS backends (py-ecc, the reference, and arkworks, the
service's) and the bundle digests with an independent EIP-712 implementation (eth-account)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import cbor2
import pytest
from _joint_samples import typed_bundle_digest
from py_arkworks_bls12381 import G1Point, G2Point, Scalar
from py_ecc.bls import G2ProofOfPossession as Reference
from py_ecc.bls.g2_primitives import G2_to_signature
from py_ecc.bls.hash_to_curve import hash_to_G2
from stdnum.iso7064 import mod_37_36

from registry import issuer_id_from_uscc
from signer import (
    CoSigningKey,
    aggregate_signatures,
    co_signing_key_id,
    domain_separator,
    keccak256,
    public_key_to_eip2537,
    signature_to_eip2537,
    verify_co_signatures,
    verify_proof_of_possession,
)
from signer._bls import decode_public_key, decode_public_key_eip2537, decode_signature_eip2537

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


ROOT = Path(__file__).resolve().parent.parent
VECTORS = json.loads((ROOT / "tests" / "vectors" / "joint.json").read_text(encoding="utf-8"))
KEYS = VECTORS["keys"]


def b(text: str) -> bytes:
    assert text.startswith("0x")
    return bytes.fromhex(text[2:])


def test_the_file_describes_itself_and_covers_each_case():
    for member in ("keys", "aggregates", "hashToG2", "bundles", "signers", "bundleDigest", "proofOfPossessionValid"):
        assert member in VECTORS["format"]
    assert VECTORS["ciphersuite"] == "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
    assert VECTORS["popDst"] == "BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
    outcomes = {(a["fastAggregateVerify"], a["valid"]) for a in VECTORS["aggregates"]}
    assert outcomes == {(True, True), (False, False), (True, False)}
    assert [k["proofOfPossessionValid"] for k in KEYS].count(False) == 1
    assert {h["dst"] for h in VECTORS["hashToG2"]} == {VECTORS["ciphersuite"], VECTORS["popDst"]}


@pytest.mark.parametrize("vector", KEYS, ids=[k["label"] for k in KEYS])
def test_key(vector):
    pk, pop = b(vector["publicKey"]), b(vector["proofOfPossession"])
    assert b(vector["keyId"]) == keccak256(pk) == co_signing_key_id(pk)
    assert public_key_to_eip2537(pk) == b(vector["publicKeyEip2537"])
    assert decode_public_key_eip2537(b(vector["publicKeyEip2537"])).to_compressed_bytes() == pk
    assert signature_to_eip2537(pop) == b(vector["proofOfPossessionEip2537"])
    assert decode_signature_eip2537(b(vector["proofOfPossessionEip2537"])).to_compressed_bytes() == pop
    assert verify_proof_of_possession(pk, pop) is vector["proofOfPossessionValid"]
    assert Reference.PopVerify(pk, pop) is vector["proofOfPossessionValid"]
    if vector["secret"] is None:  # the rogue key: g1 * x - pk_victim, and x * H_pop(pk) as its proof
        x = Scalar(int(vector["forgeryScalar"], 16))
        victim = decode_public_key(b(KEYS[vector["victim"]]["publicKey"]))
        assert (G1Point() * x - victim).to_compressed_bytes() == pk
        assert (G2Point.hash_to_curve(pk, VECTORS["popDst"].encode()) * x).to_compressed_bytes() == pop
        return
    secret = b(vector["secret"])
    key = CoSigningKey.from_secret(secret)
    assert key.public_key == pk == Reference.SkToPk(int.from_bytes(secret, "big"))
    assert key.public_key_eip2537 == b(vector["publicKeyEip2537"])
    assert key.key_id == b(vector["keyId"])
    assert key.proof_of_possession() == pop == Reference.PopProve(int.from_bytes(secret, "big"))
    assert b(vector["issuerId"]) == issuer_id_from_uscc(vector["uscc"])


@pytest.mark.parametrize("vector", VECTORS["aggregates"], ids=[a["label"] for a in VECTORS["aggregates"]])
def test_aggregate(vector):
    message, aggregate = b(vector["message"]), b(vector["aggregate"])
    signatures = [b(s) for s in vector["signatures"]]
    for signer, signed, signature in zip(vector["signers"], vector["signedMessages"], signatures, strict=True):
        assert CoSigningKey.from_secret(b(KEYS[signer]["secret"])).sign(b(signed)) == signature
    if signatures:
        assert aggregate_signatures(signatures) == aggregate == Reference.Aggregate(signatures)
    else:  # forged with the rogue key's x alone
        rogue = KEYS[vector["keys"][-1]]
        x = Scalar(int(rogue["forgeryScalar"], 16))
        assert (G2Point.hash_to_curve(message, VECTORS["ciphersuite"].encode()) * x).to_compressed_bytes() == aggregate
    assert signature_to_eip2537(aggregate) == b(vector["aggregateEip2537"])
    pks = [b(KEYS[i]["publicKey"]) for i in vector["keys"]]
    assert verify_co_signatures(pks, message, aggregate) is vector["fastAggregateVerify"]
    assert Reference.FastAggregateVerify(pks, message, aggregate) is vector["fastAggregateVerify"]
    proofs = all(
        verify_proof_of_possession(pk, b(KEYS[i]["proofOfPossession"]))
        for pk, i in zip(pks, vector["keys"], strict=True)
    )
    assert vector["valid"] is (vector["fastAggregateVerify"] and proofs)


@pytest.mark.parametrize(
    "vector", VECTORS["hashToG2"], ids=[f"{h['dst'][:7]} {h['message'][:10]}" for h in VECTORS["hashToG2"]]
)
def test_hash_to_g2(vector):
    message, dst = b(vector["message"]), vector["dst"].encode()
    point = G2Point.hash_to_curve(message, dst)
    assert point.to_compressed_bytes() == b(vector["compressed"])
    assert G2_to_signature(hash_to_G2(message, dst, hashlib.sha256)) == b(vector["compressed"])
    assert signature_to_eip2537(b(vector["compressed"])) == b(vector["point"])


@pytest.mark.parametrize("bundle", VECTORS["bundles"], ids=[x["label"] for x in VECTORS["bundles"]])
def test_bundle(bundle):
    chain_id, registry = VECTORS["chainId"], VECTORS["licenseRegistry"]
    assert b(VECTORS["domainSeparator"]) == domain_separator(chain_id, registry)
    text = bundle["applicationIdText"]
    assert len(text) == 29
    assert text.startswith("JA")
    assert mod_37_36.is_valid(text)
    assert b(bundle["applicationId"]) == keccak256(text.encode("ascii"))
    applicant = bundle["applicant"]
    salt = b(applicant["salt"])
    assert len(salt) == 16
    assert b(applicant["commitment"]) == keccak256(
        salt + cbor2.dumps(["applicant", [applicant["creditCode"], applicant["name"]]])
    )
    digests = [m["digest"] for m in bundle["members"]]
    assert digests == sorted(set(digests))
    assert bundle["departments"] == sorted(set(bundle["departments"]))
    assert {m["issuerId"] for m in bundle["members"]} <= set(bundle["departments"])
    assert b(bundle["bundleDigest"]) == typed_bundle_digest(
        keccak256(text.encode("ascii")),
        b(applicant["commitment"]),
        [(b(m["digest"]), b(m["licenseType"]), b(m["issuerId"])) for m in bundle["members"]],
        [b(d) for d in bundle["departments"]],
        chain_id=chain_id,
        registry=registry,
    )
    cosig = bundle["coSignature"]
    assert [KEYS[i]["issuerId"] for i in cosig["keys"]] == bundle["departments"]
    keys = b(cosig["publicKeys"])
    assert len(keys) == 128 * len(cosig["keys"])
    pks = [decode_public_key_eip2537(keys[i : i + 128]).to_compressed_bytes() for i in range(0, len(keys), 128)]
    assert pks == [b(KEYS[i]["publicKey"]) for i in cosig["keys"]]
    aggregate = decode_signature_eip2537(b(cosig["aggregateEip2537"])).to_compressed_bytes()
    assert aggregate == b(cosig["aggregate"])
    signatures = [CoSigningKey.from_secret(b(KEYS[i]["secret"])).sign(b(bundle["bundleDigest"])) for i in cosig["keys"]]
    assert aggregate_signatures(signatures) == aggregate
    assert verify_co_signatures(pks, b(bundle["bundleDigest"]), aggregate)
    assert Reference.FastAggregateVerify(pks, b(bundle["bundleDigest"]), aggregate)


def test_regenerating_gives_the_committed_file():
    spec = importlib.util.spec_from_file_location("_joint_vectors", ROOT / "scripts" / "_joint_vectors.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = json.dumps(module.build_joint(), ensure_ascii=False, indent=1) + "\n"
    assert text == (ROOT / "tests" / "vectors" / "joint.json").read_text(encoding="utf-8")
