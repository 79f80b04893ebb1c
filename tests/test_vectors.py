"""Test vectors (tests/vectors/licenses.json) recomputed from their inputs: canonical values,
salts, commitments, digest, EIP-712 hash, signature, signer, batch root and proofs, QR text."""

from __future__ import annotations

import datetime as dt
import json
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
    text = present(lic, signature).to_text()
    assert text == vector["qr"]
    assert decode_presentation(text).digest() == lic.digest


def test_batch_root_and_proofs():
    digests = [h(v["digest"]) for v in DATA["vectors"]]
    tree = MerkleTree.from_digests(digests)
    assert tree.root == h(DATA["batch"]["root"])
    for digest in digests:
        proof = [h(p) for p in DATA["batch"]["proofs"]["0x" + digest.hex()]]
        assert tree.proof(digest) == proof
        assert verify_proof(proof, tree.root, digest)


def test_committed_vectors_are_current():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_vectors.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
