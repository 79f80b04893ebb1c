"""Test vectors (tests/vectors/licenses.json) recomputed from their inputs: canonical values,
salts, commitments, digest, EIP-712 hash, signature, signer, batch root and proofs, QR text; and
the invalid signatures, which the verifier's recovery must not attribute to the issuer."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT
from eth_account import Account

from registry.document.identifiers import LicenseIdentifier
from registry.document.license import License
from registry.document.presentation import decode_presentation, present
from signer import LicenseSigner, MerkleTree, domain_separator, recover_signer, verify_proof
from signer._eip712 import eip712_hash
from signer._secp256k1 import SECP256K1_N

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


DATA = json.loads((ROOT / "tests" / "vectors" / "licenses.json").read_text(encoding="utf-8"))


def h(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


@pytest.mark.parametrize("vector", DATA["vectors"], ids=[v["label"] for v in DATA["vectors"]])
def test_vector(vector):
    item = vector["input"]
    lic = License.create(
        license_type=item["type"],
        license_id=LicenseIdentifier(item["type"], DATA["issuerUscc"], item["serial"], item["version"]),
        valid_from=dt.date.fromisoformat(item["valid_from"]),
        valid_to=None if item["valid_to"] is None else dt.date.fromisoformat(item["valid_to"]),
        fields=item["fields"],
        secret=h(vector["secret"]),
    )
    assert str(lic.header.license_id) == vector["header"]["licenseId"]
    assert dict(lic.fields) == vector["canonical"]
    spec = lic.license_type.by_key
    assert {k: "0x" + lic.salts[spec[k].number - 1].hex() for k in lic.fields} == vector["salts"]
    assert {k: "0x" + v.hex() for k, v in lic.commitments.items()} == vector["commitments"]
    assert lic.digest == h(vector["digest"])
    domain = domain_separator(DATA["chainId"], DATA["licenseRegistry"])
    assert domain == h(DATA["domainSeparator"])
    assert eip712_hash(domain, lic.digest) == h(vector["eip712Hash"])
    signer = LicenseSigner(
        Account.from_key(h(DATA["signerKey"])), chain_id=DATA["chainId"], license_registry=DATA["licenseRegistry"]
    )
    signature = signer.sign_license(lic.digest)  # RFC 6979: deterministic
    assert signature == h(vector["signature"])
    assert recover_signer(domain, lic.digest, signature) == vector["signer"]
    # the LC1 text written before LC2 existed still reads as the same presentation, and LC2 carries it
    old, new = present(lic, signature).to_text(form="LC1"), present(lic, signature).to_text()
    assert (old, new) == (vector["qr"], vector["qrLC2"])
    assert old.startswith("LC1:")
    assert new.startswith("LC2:")
    assert len(new) < len(old)
    assert decode_presentation(old) == decode_presentation(new) == present(lic, signature)
    assert decode_presentation(new).digest() == lic.digest


INVALID = DATA["invalidVectors"]


def test_invalid_vectors_cover_each_kind():
    labels = [v["label"] for v in INVALID]
    for kind in ("flipped byte", "high s", "another verifying contract", "another name", "another chain id"):
        assert any(kind in label for label in labels), kind
    assert any(label.startswith("wrong issuer") for label in labels)
    assert {v["expect"] for v in INVALID} == {"signer_mismatch", "unrecoverable"}


@pytest.mark.parametrize("vector", INVALID, ids=[v["label"] for v in INVALID])
def test_invalid_vector(vector):
    of = next(v for v in DATA["vectors"] if v["label"] == vector["of"])
    assert (vector["digest"], vector["eip712Hash"], vector["signer"]) == (of["digest"], of["eip712Hash"], of["signer"])
    assert vector["signature"] != of["signature"]
    assert len(h(vector["signature"])) == 64
    domain = domain_separator(DATA["chainId"], DATA["licenseRegistry"])
    recovered = recover_signer(domain, h(vector["digest"]), h(vector["signature"]))
    if vector["expect"] == "unrecoverable":
        assert recovered is None
        assert vector["recovered"] is None
    else:
        assert vector["expect"] == "signer_mismatch"
        assert recovered == vector["recovered"]
        assert recovered != vector["signer"]


@pytest.mark.parametrize("vector", [v for v in INVALID if "signedDomain" in v], ids=lambda v: v["label"])
def test_invalid_vector_signed_under_another_domain_recovers_the_issuer_only_there(vector):
    signed = vector["signedDomain"]
    if signed["name"] == "E-License Registry" and signed["version"] == "1":
        assert domain_separator(signed["chainId"], signed["verifyingContract"]) == h(vector["signedDomainSeparator"])
    assert h(vector["signedDomainSeparator"]) != h(DATA["domainSeparator"])
    assert (
        recover_signer(h(vector["signedDomainSeparator"]), h(vector["digest"]), h(vector["signature"]))
        == vector["signer"]
    )


def test_high_s_twin_is_refused_or_read_as_another_signer():
    vector = next(v for v in INVALID if "signature65" in v)
    of = next(v for v in DATA["vectors"] if v["label"] == vector["of"])
    valid, twin, twin65 = h(of["signature"]), h(vector["signature"]), h(vector["signature65"])
    s = int.from_bytes(valid[32:], "big") & ((1 << 255) - 1)
    parity = valid[32] >> 7
    assert twin[:32] == valid[:32]
    assert int.from_bytes(twin[32:], "big") == SECP256K1_N - s > SECP256K1_N // 2
    assert twin65 == twin + bytes((27 + (parity ^ 1),))
    assert vector["ecrecover65"] == of["signer"]
    assert vector["openzeppelin65"] == {"error": "ECDSAInvalidSignatureS", "s": "0x" + twin[32:].hex()}
    domain = h(DATA["domainSeparator"])
    # n - s has its top bit set, which a compact signature reads as the y parity: another address
    assert recover_signer(domain, h(vector["digest"]), twin) == vector["recovered"] != of["signer"]


def test_batch_root_and_proofs():
    digests = [h(v["digest"]) for v in DATA["vectors"]]
    tree = MerkleTree.from_digests(digests)
    assert tree.root == h(DATA["batch"]["root"])
    for digest in digests:
        proof = [h(p) for p in DATA["batch"]["proofs"]["0x" + digest.hex()]]
        assert tree.proof(digest) == proof
        assert verify_proof(proof, tree.root, digest)


def test_committed_vectors_are_current():
    # the generator of this checkout, whichever checkout an editable install points at
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_vectors.py"), "--check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
