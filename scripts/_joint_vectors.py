"""The joint-issuance vectors (tests/vectors/joint.json) that scripts/make_vectors.py writes: BLS12-381
co-signing keys with their proofs of possession, aggregate signatures (valid and invalid, a rogue
key among them), hash-to-G2 points, and bundle digests (docs/joint.md), all computed with py-ecc
(the reference) from fixed labels, so the file is reproducible."""

from __future__ import annotations

import hashlib
from typing import Any

import cbor2
from py_ecc.bls import G2ProofOfPossession as Reference
from py_ecc.bls.g2_primitives import G1_to_pubkey, G2_to_signature, pubkey_to_G1, signature_to_G2
from py_ecc.bls.hash_to_curve import hash_to_G2
from py_ecc.optimized_bls12_381 import G1, add, curve_order, multiply, neg, normalize
from stdnum.cn import uscc
from stdnum.iso7064 import mod_37_36

from registry import issuer_id_from_uscc, license_type_id
from signer import domain_separator, keccak256
from signer._eip712 import eip712_hash

CHAIN_ID = 31337
#: Hardhat's first deployment from its first account: where the contracts' tests find the registry.
LICENSE_REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DST_SIG = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
DST_POP = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
JOINT_MEMBER_TYPE = b"JointMember(bytes32 digest,bytes32 licenseType,bytes32 issuerId)"
JOINT_BUNDLE_TYPE = (
    b"JointBundle(bytes32 applicationId,bytes32 applicant,JointMember[] members,bytes32[] departments)"
    + JOINT_MEMBER_TYPE
)
#: The co-signing departments (made-up credit codes; check characters recomputed).
DEPARTMENTS = ["11110000MB0195560", "11110108MB0283741", "11110108MB0369952", "12110000MB1475083", "11310115MB0512346"]

FORMAT = (
    "Joint-issuance vectors written by scripts/make_vectors.py with py-ecc (the reference), ciphersuite "
    "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_ (docs/joint.md). Bytes are 0x-prefixed hex. "
    "keys[i]: a department's co-signing key: secret (32-byte big-endian scalar; null for the rogue key, "
    "whose secret nobody knows), publicKey (48-byte compressed G1), publicKeyEip2537 (128 bytes: x, y as "
    "64-byte words), keyId (keccak256 of the 48 bytes), proofOfPossession (96-byte compressed G2: PopProve, "
    "or for the rogue key the best proof its maker can compute, x * H_pop(pk)), proofOfPossessionEip2537 "
    "(256 bytes: x.c0, x.c1, y.c0, y.c1), proofOfPossessionValid (PopVerify), uscc and issuerId of the "
    "department (the rogue key: forgeryScalar x and victim index, pk = g1 * x - pk_victim). "
    "aggregates[j]: message (32 bytes), keys (indices into keys, the public keys checked), signers and "
    "signedMessages (who signed what), signatures (the individual 96-byte signatures aggregated; empty when the "
    "aggregate is forged), aggregate (96 bytes) and "
    "aggregateEip2537 (256), fastAggregateVerify (FastAggregateVerify(pks, message, aggregate)), valid "
    "(fastAggregateVerify and every key's proof of possession valid: what a registry that checks proofs "
    "accepts). hashToG2[k]: message, dst (ASCII), point (256-byte EIP-2537 G2) and compressed (96 bytes) of "
    "hash_to_curve. bundles[m]: a joint bundle under the license registry's EIP-712 domain (chainId, "
    "licenseRegistry, domainSeparator at the top): applicationIdText and applicationId (keccak256 of the "
    "text), applicant (creditCode, name, salt, commitment = keccak256(salt || cbor2(['applicant', [code, "
    "name]]))), members ascending by digest (digest, licenseType, issuerId, memberHash), departments "
    "ascending (issuer ids), structHash, bundleDigest, and coSignature: keys (indices in the departments' "
    "order), publicKeys (their 128-byte EIP-2537 forms concatenated, as anchorJoint takes them), aggregate "
    "and aggregateEip2537 of their signatures of bundleDigest."
)


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _g1_eip2537(pk: bytes) -> bytes:
    x, y = normalize(pubkey_to_G1(pk))
    return b"".join(bytes(16) + c.n.to_bytes(48, "big") for c in (x, y))


def _g2_eip2537(sig: bytes) -> bytes:
    x, y = normalize(signature_to_G2(sig))
    return b"".join(bytes(16) + c.to_bytes(48, "big") for c in (*x.coeffs, *y.coeffs))


def _secret(label: str) -> int:
    return int.from_bytes(keccak256(label.encode()), "big") % curve_order


def _uscc(base: str) -> str:
    return base + uscc.calc_check_digit(base)


def _keys() -> list[dict[str, Any]]:
    keys = []
    for i, base in enumerate(DEPARTMENTS):
        sk = _secret(f"elicense co-signing key {i}")
        pk = Reference.SkToPk(sk)
        pop = Reference.PopProve(sk)
        assert Reference.PopVerify(pk, pop)
        code = _uscc(base)
        keys.append(
            {
                "label": f"department {i}",
                "secret": _hex(sk.to_bytes(32, "big")),
                "publicKey": _hex(pk),
                "publicKeyEip2537": _hex(_g1_eip2537(pk)),
                "keyId": _hex(keccak256(pk)),
                "proofOfPossession": _hex(pop),
                "proofOfPossessionEip2537": _hex(_g2_eip2537(pop)),
                "proofOfPossessionValid": True,
                "uscc": code,
                "issuerId": _hex(issuer_id_from_uscc(code)),
            }
        )
    victim = 0
    x = _secret("elicense rogue forgery scalar")
    rogue = G1_to_pubkey(add(multiply(G1, x), neg(pubkey_to_G1(bytes.fromhex(keys[victim]["publicKey"][2:])))))
    proof = G2_to_signature(multiply(hash_to_G2(rogue, DST_POP, hashlib.sha256), x))
    valid = Reference.PopVerify(rogue, proof)
    assert not valid
    keys.append(
        {
            "label": "rogue key: g1 * x - pk of department 0",
            "secret": None,
            "forgeryScalar": _hex(x.to_bytes(32, "big")),
            "victim": victim,
            "publicKey": _hex(rogue),
            "publicKeyEip2537": _hex(_g1_eip2537(rogue)),
            "keyId": _hex(keccak256(rogue)),
            "proofOfPossession": _hex(proof),
            "proofOfPossessionEip2537": _hex(_g2_eip2537(proof)),
            "proofOfPossessionValid": valid,
        }
    )
    return keys


def _sign(key: dict[str, Any], message: bytes) -> bytes:
    return bytes(Reference.Sign(int(key["secret"], 16), message))


def _aggregate_case(
    label: str,
    *,
    keys: list[dict[str, Any]],
    indices: list[int],
    message: bytes,
    signed: list[tuple[int, bytes]],
    aggregate: bytes | None = None,
) -> dict[str, Any]:
    signatures = [_sign(keys[i], m) for i, m in signed]
    aggregate = bytes(Reference.Aggregate(signatures)) if aggregate is None else aggregate
    pks = [bytes.fromhex(keys[i]["publicKey"][2:]) for i in indices]
    fav = bool(Reference.FastAggregateVerify(pks, message, aggregate))
    return {
        "label": label,
        "message": _hex(message),
        "keys": indices,
        "signers": [i for i, _ in signed],
        "signedMessages": [_hex(m) for _, m in signed],
        "signatures": [_hex(s) for s in signatures],
        "aggregate": _hex(aggregate),
        "aggregateEip2537": _hex(_g2_eip2537(aggregate)),
        "fastAggregateVerify": fav,
        "valid": fav and all(keys[i]["proofOfPossessionValid"] for i in indices),
    }


def _aggregates(keys: list[dict[str, Any]], messages: list[bytes]) -> list[dict[str, Any]]:
    rogue = len(keys) - 1
    out = []
    # label, keys checked, message checked, (signer, message signed) pairs aggregated
    for label, indices, message, signed in (
        ("three departments", [0, 1, 2], messages[0], [(i, messages[0]) for i in (0, 1, 2)]),
        ("five departments", [0, 1, 2, 3, 4], messages[1], [(i, messages[1]) for i in range(5)]),
        ("one department", [3], messages[2], [(3, messages[2])]),
        ("one signature missing", [0, 1, 2], messages[0], [(i, messages[0]) for i in (0, 1)]),
        ("signed another message", [0, 1, 2], messages[0], [(i, messages[1]) for i in (0, 1, 2)]),
        ("a department signed twice, another not", [0, 1, 2, 3], messages[0], [(i, messages[0]) for i in (0, 1, 2, 2)]),
    ):
        out.append(_aggregate_case(label, keys=keys, indices=indices, message=message, signed=signed))
    x = int(keys[rogue]["forgeryScalar"], 16)
    forged = G2_to_signature(multiply(hash_to_G2(messages[0], DST_SIG, hashlib.sha256), x))
    case = _aggregate_case(
        "rogue key: forged alone, no valid proof of possession",
        keys=keys,
        indices=[0, rogue],
        message=messages[0],
        signed=[],
        aggregate=forged,
    )
    assert case["fastAggregateVerify"]
    assert not case["valid"]
    out.append(case)
    return out


def _hash_to_g2(keys: list[dict[str, Any]], messages: list[bytes]) -> list[dict[str, Any]]:
    cases = [(b"", DST_SIG), (b"abc", DST_SIG), (messages[0], DST_SIG)]
    cases += [(bytes.fromhex(keys[0]["publicKey"][2:]), DST_POP), (messages[0], DST_POP)]
    out = []
    for message, dst in cases:
        point = hash_to_G2(message, dst, hashlib.sha256)
        compressed = G2_to_signature(point)
        out.append(
            {
                "message": _hex(message),
                "dst": dst.decode(),
                "point": _hex(_g2_eip2537(compressed)),
                "compressed": _hex(compressed),
            }
        )
    return out


def _application_id(lead: str, serial: int) -> str:
    body = f"JA{lead}{serial:08d}"
    return body + mod_37_36.calc_check_digit(body)


def _bundle(
    label: str,
    *,
    keys: list[dict[str, Any]],
    lead: int,
    serial: int,
    members: list[tuple[str, int]],
    applicant: tuple[str, str],
    domain: bytes,
) -> dict[str, Any]:
    app_text = _application_id(keys[lead]["uscc"], serial)
    salt = keccak256(f"{label} applicant salt".encode())[:16]
    commitment = keccak256(salt + cbor2.dumps(["applicant", list(applicant)]))
    rows = []
    for n, (type_code, dept) in enumerate(members):
        digest = keccak256(f"{label} member {n}".encode())
        row = (digest, license_type_id(type_code), bytes.fromhex(keys[dept]["issuerId"][2:]))
        rows.append(row)
    rows.sort()
    member_hashes = [keccak256(keccak256(JOINT_MEMBER_TYPE) + b"".join(row)) for row in rows]
    dept_indices = sorted({dept for _, dept in members}, key=lambda i: bytes.fromhex(keys[i]["issuerId"][2:]))
    departments = [bytes.fromhex(keys[i]["issuerId"][2:]) for i in dept_indices]
    struct_hash = keccak256(
        keccak256(JOINT_BUNDLE_TYPE)
        + keccak256(app_text.encode("ascii"))
        + commitment
        + keccak256(b"".join(member_hashes))
        + keccak256(b"".join(departments))
    )
    digest = eip712_hash(domain, struct_hash)
    signatures = [_sign(keys[i], digest) for i in dept_indices]
    aggregate = bytes(Reference.Aggregate(signatures))
    assert Reference.FastAggregateVerify(
        [bytes.fromhex(keys[i]["publicKey"][2:]) for i in dept_indices], digest, aggregate
    )
    return {
        "label": label,
        "applicationIdText": app_text,
        "applicationId": _hex(keccak256(app_text.encode("ascii"))),
        "applicant": {
            "creditCode": applicant[0],
            "name": applicant[1],
            "salt": _hex(salt),
            "commitment": _hex(commitment),
        },
        "members": [
            {"digest": _hex(d), "licenseType": _hex(t), "issuerId": _hex(i), "memberHash": _hex(h)}
            for (d, t, i), h in zip(rows, member_hashes, strict=True)
        ],
        "departments": [_hex(d) for d in departments],
        "structHash": _hex(struct_hash),
        "bundleDigest": _hex(digest),
        "coSignature": {
            "keys": dept_indices,
            "publicKeys": _hex(b"".join(bytes.fromhex(keys[i]["publicKeyEip2537"][2:]) for i in dept_indices)),
            "aggregate": _hex(aggregate),
            "aggregateEip2537": _hex(_g2_eip2537(aggregate)),
        },
    }


def build_joint() -> dict[str, Any]:
    """The content of tests/vectors/joint.json."""
    keys = _keys()
    domain = domain_separator(CHAIN_ID, LICENSE_REGISTRY)
    applicant = (_uscc("91110108MA01ABCD2"), "北京市海淀区星辰智能科技有限公司")
    common = {"keys": keys, "applicant": applicant, "domain": domain}
    bundles = [
        _bundle("three departments", lead=0, serial=1, members=[("BL", 0), ("FB", 1), ("CP", 2)], **common),
        _bundle(
            "five departments, six licenses",
            lead=1,
            serial=2,
            members=[("BL", 0), ("FB", 1), ("CP", 2), ("RP", 3), ("FB", 4), ("CP", 0)],
            **common,
        ),
        _bundle("one department", lead=3, serial=99999999, members=[("RP", 3)], **common),
    ]
    messages = [bytes.fromhex(b["bundleDigest"][2:]) for b in bundles]
    return {
        "format": FORMAT,
        "ciphersuite": DST_SIG.decode(),
        "popDst": DST_POP.decode(),
        "chainId": CHAIN_ID,
        "licenseRegistry": LICENSE_REGISTRY,
        "domainSeparator": _hex(domain),
        "jointMemberTypehash": _hex(keccak256(JOINT_MEMBER_TYPE)),
        "jointBundleTypehash": _hex(keccak256(JOINT_BUNDLE_TYPE)),
        "keys": keys,
        "aggregates": _aggregates(keys, messages),
        "hashToG2": _hash_to_g2(keys, messages),
        "bundles": bundles,
    }
