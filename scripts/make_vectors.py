#!/usr/bin/env python3
"""Write tests/vectors/licenses.json and tests/vectors/joint.json.

licenses.json: licenses -> canonical values -> commitments -> digest -> EIP-712 hash -> signature ->
signer, a batch root with proofs, and each license's QR text; then invalid signatures of the first
license (a flipped byte, the high-s twin, another EIP-712 domain, another signer), each with the
outcome a verifier must reach. joint.json (scripts/_joint_vectors.py): co-signing keys, proofs of
possession, aggregate signatures (a rogue key among them), hash-to-G2 points and bundle digests of
joint issuance (docs/joint.md), computed with py-ecc.

Everything is derived from fixed labels, so the files are reproducible; ``--check`` compares instead
of writing. The pytest suite recomputes every value from the inputs; the Hardhat tests check that
ethers and the LicenseRegistry contract (EIP-712 hashing, ecrecover, MerkleProof) agree.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import rlp
from coincurve import PrivateKey, PublicKey
from eth_account import Account
from eth_utils.address import to_checksum_address
from stdnum.cn import uscc

from registry.document.identifiers import LicenseIdentifier
from registry.document.license import License
from registry.document.licensetypes import get_type
from registry.document.presentation import present
from signer import LicenseSigner, MerkleTree, domain_separator, keccak256
from signer._eip712 import DOMAIN_NAME, DOMAIN_VERSION, eip712_hash
from signer._secp256k1 import SECP256K1_N, compact_signature

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _joint_vectors import build_joint  # a sibling module of this script

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tests" / "vectors" / "licenses.json"
JOINT_TARGET = ROOT / "tests" / "vectors" / "joint.json"
CHAIN_ID = 31337
ISSUER = "11110000MB0195560T"
DOMAIN_TYPEHASH = keccak256(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


def _create_address(sender: str, nonce: int) -> str:
    return to_checksum_address(keccak256(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:])


INPUTS: list[dict[str, Any]] = [
    {
        "label": "business license, all fields",
        "type": "BL",
        "serial": 1,
        "version": 1,
        "valid_from": "2024-03-01",
        "valid_to": None,
        "fields": {
            "name": "北京市海淀区星辰智能科技有限公司",
            "uscc": "91110108MA01ABCD2H",
            "entity_type": 1,
            "legal_representative": "张伟",
            "registered_capital": 5000000,
            "established": "2019-06-18",
            "term_end": "2049-06-17",
            "domicile": "北京市海淀区中关村大街27号15层1503室",
            "business_scope": "技术开发、技术咨询、技术服务；软件开发；数据处理。",
        },
    },
    {
        "label": "business license, optional fields absent",
        "type": "BL",
        "serial": 2,
        "version": 3,
        "valid_from": "2025-01-01",
        "valid_to": "2045-12-31",
        "fields": {
            "name": "北京恒泰贸易有限公司",
            "uscc": "91110105MA00000019",
            "entity_type": "个体工商户",
            "legal_representative": "李娜",
            "established": "2025-01-01",
            "domicile": "北京市朝阳区建国路88号",
            "business_scope": "日用品销售。",
        },
    },
    {
        "label": "food business permit",
        "type": "FB",
        "serial": 7,
        "version": 1,
        "valid_from": "2023-05-20",
        "valid_to": "2028-05-19",
        "fields": {
            "operator_name": "北京鼎盛餐饮管理有限公司",
            "uscc": "91110102MA0000002M",
            "legal_representative": "王芳",
            "domicile": "北京市西城区复兴门内大街1号",
            "premises": "北京市西城区复兴门内大街1号一层",
            "main_format": 2,
            "business_items": "热食类食品制售",
        },
    },
    {
        "label": "residence permit",
        "type": "RP",
        "serial": 42,
        "version": 1,
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "fields": {
            "holder_name": "陈静",
            "ric": "11010519491231002X",
            "residence_region": 310115,
            "residence_address": "上海市浦东新区世纪大道100号",
        },
    },
]


def _fix_codes(fields: dict[str, Any]) -> dict[str, Any]:
    """Recompute check characters of made-up credit codes (python-stdnum)."""
    out = dict(fields)
    for key in ("uscc", "builder_uscc", "contractor_uscc"):
        if key in out:
            out[key] = out[key][:17] + uscc.calc_check_digit(out[key][:17])
    return out


def _domain(name: str, version: str, chain_id: int, contract: str) -> bytes:
    return keccak256(
        DOMAIN_TYPEHASH
        + keccak256(name.encode())
        + keccak256(version.encode())
        + chain_id.to_bytes(32, "big")
        + bytes.fromhex(contract[2:]).rjust(32, b"\x00")
    )


def _ecrecover(message_hash: bytes, r: int, s: int, parity: int) -> str | None:
    """What the ecrecover precompile returns (any s in [1, n), high or low); None for no point."""
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        return None
    try:
        public = PublicKey.from_signature_and_message(
            r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes((parity,)), message_hash, hasher=None
        )
    except Exception:  # noqa: BLE001 - libsecp256k1 refuses r with no curve point with various errors
        return None
    return to_checksum_address(keccak256(public.format(compressed=False)[1:])[12:])


def _read_compact(signature: bytes) -> tuple[int, int, int]:
    """(r, s, y parity) of a 64-byte EIP-2098 signature, read as ECDSA.recover(hash, r, vs) reads it."""
    vs = int.from_bytes(signature[32:], "big")
    return int.from_bytes(signature[:32], "big"), vs & ((1 << 255) - 1), vs >> 255


def _flip(signature: bytes, index: int) -> bytes:
    """``signature`` with the lowest bit of byte ``index`` flipped."""
    return signature[:index] + bytes((signature[index] ^ 0x01,)) + signature[index + 1 :]


def _invalid(label: str, of: dict[str, Any], domain: bytes, signature: bytes, **extra: Any) -> dict[str, Any]:
    """An invalid signature of license ``of``: what recovering it under the license registry's
    domain yields (``signer_mismatch`` and the address, or ``unrecoverable``)."""
    recovered = _ecrecover(eip712_hash(domain, bytes.fromhex(of["digest"][2:])), *_read_compact(signature))
    assert recovered != of["signer"]
    return {
        "label": label,
        "of": of["label"],
        "digest": of["digest"],
        "eip712Hash": of["eip712Hash"],
        "signature": "0x" + signature.hex(),
        "signer": of["signer"],
        "expect": "unrecoverable" if recovered is None else "signer_mismatch",
        "recovered": recovered,
        **extra,
    }


def _signed_under(
    label: str, of: dict[str, Any], domain: bytes, key: bytes, *, name: str, chain_id: int, contract: str
) -> dict[str, Any]:
    """``of`` signed with ``key`` under another EIP-712 domain."""
    signed_domain = _domain(name, DOMAIN_VERSION, chain_id, contract)
    sig = PrivateKey(key).sign_recoverable(eip712_hash(signed_domain, bytes.fromhex(of["digest"][2:])), hasher=None)
    signature = compact_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64])
    return _invalid(
        label,
        of,
        domain,
        signature,
        signedDomain={"name": name, "version": DOMAIN_VERSION, "chainId": chain_id, "verifyingContract": contract},
        signedDomainSeparator="0x" + signed_domain.hex(),
    )


def invalid_vectors(
    of: dict[str, Any], *, signer_key: bytes, other_key: bytes, registry: str, other_registry: str
) -> list[dict[str, Any]]:
    """Invalid signatures of the valid vector ``of`` (see the module's docstring)."""
    domain = domain_separator(CHAIN_ID, registry)
    assert _domain(DOMAIN_NAME, DOMAIN_VERSION, CHAIN_ID, registry) == domain
    valid = bytes.fromhex(of["signature"][2:])
    message_hash = bytes.fromhex(of["eip712Hash"][2:])
    r, s, parity = _read_compact(valid)
    out = [_invalid("flipped byte: the last byte of s xor 0x01", of, domain, _flip(valid, 63))]
    # the last byte of r whose flip leaves no curve point with x = r
    index = next(i for i in range(31, -1, -1) if _ecrecover(message_hash, *_read_compact(_flip(valid, i))) is None)
    label = f"flipped byte: byte {index} of r xor 0x01 (no curve point at x = r)"
    out.append(_invalid(label, of, domain, _flip(valid, index)))

    # the other solution of the same signature: s -> n - s with the y parity flipped. ecrecover accepts
    # it; OpenZeppelin's ECDSA and ethers refuse it (s above n / 2). n - s does not fit the 255 bits of
    # a compact signature: its top bit is read as the y parity, so a compact reader recovers another
    # address from the same 64 bytes.
    high_s = SECP256K1_N - s
    twin = valid[:32] + high_s.to_bytes(32, "big")
    twin65 = twin + bytes((27 + (parity ^ 1),))
    assert _ecrecover(message_hash, r, high_s, parity ^ 1) == of["signer"]
    out.append(
        _invalid(
            "high s: s replaced by n - s (y parity flipped)",
            of,
            domain,
            twin,
            signature65="0x" + twin65.hex(),
            ecrecover65=of["signer"],
            openzeppelin65={"error": "ECDSAInvalidSignatureS", "s": "0x" + high_s.to_bytes(32, "big").hex()},
        )
    )

    for label, name, chain_id, contract in (
        ("wrong EIP-712 domain: another verifying contract", DOMAIN_NAME, CHAIN_ID, other_registry),
        ("wrong EIP-712 domain: another name", "Another License Registry", CHAIN_ID, registry),
        ("wrong EIP-712 domain: another chain id", DOMAIN_NAME, 1, registry),
    ):
        out.append(_signed_under(label, of, domain, signer_key, name=name, chain_id=chain_id, contract=contract))

    other_signer = LicenseSigner(Account.from_key(other_key), chain_id=CHAIN_ID, license_registry=registry)
    by_other = other_signer.sign_license(bytes.fromhex(of["digest"][2:]))
    out.append(_invalid("wrong issuer: signed by a key not the issuer's", of, domain, by_other))
    assert out[-1]["recovered"] == other_signer.address
    return out


def build() -> dict[str, Any]:
    signer_account = Account.from_key(keccak256(b"elicense test vector signer"))
    deployer = Account.from_key(keccak256(b"elicense test vector deployer"))
    other_key = keccak256(b"elicense test vector other signer")
    trust = _create_address(deployer.address, 0)
    registry = _create_address(deployer.address, 1)
    other_registry = _create_address(deployer.address, 2)  # a second LicenseRegistry of the deployer
    signer = LicenseSigner(signer_account, chain_id=CHAIN_ID, license_registry=registry)
    domain = domain_separator(CHAIN_ID, registry)
    issuer_uscc = uscc.validate(ISSUER[:17] + uscc.calc_check_digit(ISSUER[:17]))
    vectors = []
    digests = []
    for item in INPUTS:
        fields = _fix_codes(item["fields"])
        lic = License.create(
            license_type=item["type"],
            license_id=LicenseIdentifier(item["type"], issuer_uscc, item["serial"], item["version"]),
            valid_from=dt.date.fromisoformat(item["valid_from"]),
            valid_to=None if item["valid_to"] is None else dt.date.fromisoformat(item["valid_to"]),
            fields=fields,
            secret=keccak256(item["label"].encode())[:16],
        )
        signature = signer.sign_license(lic.digest)
        ltype = get_type(item["type"])
        vectors.append(
            {
                "label": item["label"],
                "input": {**item, "fields": fields},
                "secret": "0x" + lic.secret.hex(),
                "header": {
                    "formatVersion": 1,
                    "licenseType": "0x" + ltype.type_id.hex(),
                    "licenseId": str(lic.header.license_id),
                    "issuerId": "0x" + lic.header.issuer_id.hex(),
                    "validFrom": lic.header.valid_from,
                    "validTo": 0xFFFFFFFF if lic.header.valid_to is None else lic.header.valid_to,
                },
                "canonical": dict(lic.fields),
                "salts": {k: "0x" + lic.salts[ltype.by_key[k].number - 1].hex() for k in lic.fields},
                "commitments": {k: "0x" + v.hex() for k, v in lic.commitments.items()},
                "sortedCommitments": ["0x" + c.hex() for c in sorted(lic.commitments.values())],
                "digest": "0x" + lic.digest.hex(),
                "eip712Hash": "0x" + eip712_hash(domain, lic.digest).hex(),
                "signature": "0x" + signature.hex(),
                "signer": signer_account.address,
                "qr": present(lic, signature).to_text(form="LC1"),
                "qrLC2": present(lic, signature).to_text(),
            }
        )
        digests.append(lic.digest)
    tree = MerkleTree.from_digests(digests)
    return {
        "description": "License test vectors written by scripts/make_vectors.py: inputs -> canonical values -> "
        "salts -> commitments -> digest (EIP-712 struct hash) -> EIP-712 hash -> signature -> signer, "
        "one batch with proofs, and each license's QR text (qr: LC1, qrLC2: LC2, one presentation); "
        "invalidVectors: invalid signatures of the first license, each with the outcome a verifier must reach "
        "(expect: signer_mismatch and the recovered address, or unrecoverable).",
        "chainId": CHAIN_ID,
        "deployerKey": "0x" + bytes(deployer.key).hex(),
        "signerKey": "0x" + bytes(signer_account.key).hex(),
        "trustRegistry": trust,
        "licenseRegistry": registry,
        "domainSeparator": "0x" + domain.hex(),
        "issuerUscc": issuer_uscc,
        "vectors": vectors,
        "batch": {
            "root": "0x" + tree.root.hex(),
            "digests": ["0x" + d.hex() for d in tree.digests],
            "proofs": {"0x" + d.hex(): ["0x" + p.hex() for p in tree.proof(d)] for d in tree.digests},
        },
        "otherLicenseRegistry": other_registry,
        "invalidVectors": invalid_vectors(
            vectors[0],
            signer_key=bytes(signer_account.key),
            other_key=other_key,
            registry=registry,
            other_registry=other_registry,
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare with the committed file; exit 1 if different")
    args = parser.parse_args()
    outputs = {TARGET: build(), JOINT_TARGET: build_joint()}
    texts = {target: json.dumps(content, ensure_ascii=False, indent=1) + "\n" for target, content in outputs.items()}
    if args.check:
        stale = [t for t, text in texts.items() if (t.read_text(encoding="utf-8") if t.exists() else "") != text]
        for target in stale:
            print(f"{target} is stale; run scripts/make_vectors.py", file=sys.stderr)
        if stale:
            return 1
        print("vectors up to date")
        return 0
    for target, text in texts.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
