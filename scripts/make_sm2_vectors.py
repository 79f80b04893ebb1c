#!/usr/bin/env python3
"""Write tests/vectors/sm2.json: the SM2 suite's test vectors (docs/signatures.md).

- sm3: the examples of GB/T 32905-2016 / GM/T 0004-2012 Annex A ("abc" and the 512-bit message).
- standard: the signature examples the standards publish, with their k, Z_A, e, r and s: GB/T
  32918.5-2017 / GM/T 0003.5-2012 Annex A on the recommended curve (ID "1234567812345678"), and
  GB/T 32918.2-2016 / GM/T 0003.2-2012 Annex A on its 256-bit test curve (ID "ALICE123@YAHOO.COM").
- license: a license digest signed by an SM2 key: M = 0x19 0x01 || domainSeparator || digest.
- keyAcceptance: the binding of an SM2 key to an account: the SM2 proof of possession and the
  account's 65-byte EIP-712 signature of the same typed data.
- signatures: the license signature and signatures that must fail (ECDSA on the SM2 curve over the
  same message, the (r, n - s) twin, flipped bits, another identifier or key, out-of-range values).

Signatures here use a fixed k, computed with gmssl (pure Python, independent of the Tongsuo
backend); everything else derives from fixed labels, so the file is reproducible; ``--check``
compares instead of writing. tests/test_sm2_vectors.py checks every value with Tongsuo and gmssl,
tests/contracts/Sm2Vectors.test.js with the JavaScript package sm-crypto.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eth_account import Account
from gmssl import sm2 as gm

from signer import keccak256, sign_sm2_account_acceptance, sm2_key_acceptance_message
from signer._eip712 import domain_separator, eip712_message, sm2_key_acceptance_struct_hash, trust_domain_separator
from signer._sm2 import GX, GY, A, B, N, P, sm3

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "tests" / "vectors" / "sm2.json"
CHAIN_ID = 31337
#: Hardhat's first two deployments from its first account (the license and trust registries in the tests).
LICENSE_REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
TRUST_REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
RECOMMENDED = {"p": P, "a": A, "b": B, "n": N, "gx": GX, "gy": GY}
#: GB/T 32918.2-2016 Annex A / GM/T 0003.2-2012 Annex A: the 256-bit prime-field test curve.
TEST_CURVE = {
    "p": 0x8542D69E4C044F18E8B92435BF6FF7DE457283915C45517D722EDB8B08F1DFC3,
    "a": 0x787968B4FA32C3FD2417842E73BBFEFF2F3C848B6831D7E0EC65228B3937E498,
    "b": 0x63E4C6D3B23B0C849CF84241484BFE48F61D59A5B16BA06E6E12D1DA27C5249A,
    "n": 0x8542D69E4C044F18E8B92435BF6FF7DD297720630485628D5AE74EE7C32E79B7,
    "gx": 0x421DEBD61B62EAB6746434EBC3CC315E32220B3BADD50BDC4C4E6C147FEDD43D,
    "gy": 0x0680512BCBB42C07D47349D2153B70C4E5D7FDFCBFA36EA1A85841B9E46E09A2,
}
#: The published values (the standards' Annex A), copied here and recomputed below.
PUBLISHED: list[dict[str, Any]] = [
    {
        "label": "GB/T 32918.5-2017 / GM/T 0003.5-2012 Annex A (recommended curve)",
        "curve": RECOMMENDED,
        "id": b"1234567812345678",
        "message": b"message digest",
        "d": 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8,
        "x": 0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020,
        "y": 0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13,
        "za": 0xB2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3,
        "e": 0xF0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640,
        "k": 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21,
        "r": 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3,
        "s": 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA,
    },
    {
        "label": "GB/T 32918.2-2016 / GM/T 0003.2-2012 Annex A (256-bit test curve)",
        "curve": TEST_CURVE,
        "id": b"ALICE123@YAHOO.COM",
        "message": b"message digest",
        "d": 0x128B2FA8BD433C6C068C8D803DFF79792A519A55171B1B650C23661D15897263,
        "x": 0x0AE4C7798AA0F119471BEE11825BE46202BB79E2A5844495E97C04FF4DF2548A,
        "y": 0x7C0240F88F1CD4E16352A73C17B7F16F07353E53A176D684A9FE0C6BB798E857,
        "za": 0xF4A38489E32B45B6F876E3AC2168CA392362DC8F23459C1D1146FC3DBFB7BC9A,
        "e": 0xB524F552CD82B8B028476E005C377FB19A87E6FC682D48BB5D42E3D9B9EFFE76,
        "k": 0x6CB28D99385C175C94F94E934817663FC176D925DD72B727260DBAAE1FB2F96F,
        "r": 0x40F1EC59F793D9F49E09DCEF49130D4194F79FB1EED2CAA55BACDB49C4E755D1,
        "s": 0x6FC6DAC32C5D5CF10C77DFB20F7C2EB667A457872FB09EC56327A67EC7DEEBE7,
    },
]
SM3_EXAMPLES = [
    (b"abc", 0x66C7F0F462EEEDD9D1F2D46BDC10E4E24167C4875CF2F7A2297DA02B8F4BA8E0),
    (b"abcd" * 16, 0xDEBE9FF92275B8A138604889C18E5A4D6FDB70E5387E5765293DCBA39C0C5732),
]

FORMAT = (
    "SM2 suite vectors written by scripts/make_sm2_vectors.py (docs/signatures.md). Bytes are 0x-prefixed hex; "
    "integers are 0x-prefixed 64-digit hex. curve: the recommended curve sm2p256v1. sm3[i]: input, text, digest. "
    "standard[j]: the standards' published examples: label, curve (p, a, b, n, gx, gy), privateKey, publicKey "
    "(X || Y), id and idText, message and messageText, za = SM3(ENTL || ID || a || b || xG || yG || xA || yA), "
    "e = SM3(za || message), k, r, s, signature (r || s). license: chainId, licenseRegistry, domainSeparator, "
    "digest (the license struct hash), message (0x1901 || domainSeparator || digest, what the SM2 key signs), "
    "privateKey, publicKey, distinguishingId, za, e, k, signature. keyAcceptance: chainId, trustRegistry, "
    "domainSeparator (of the trust registry), issuerId, account and accountPrivateKey, sm2PublicKey, "
    "distinguishingId, structHash (Sm2KeyAcceptance), message (0x1901 || domainSeparator || structHash), "
    "privateKey, k, proof (the SM2 signature of message), accountSignature (65-byte EIP-712 signature of the same "
    "typed data by the account). signatures[m]: label, publicKey, distinguishingId, message, signature, valid "
    "(whether SM2 verification must accept it)."
)


def _h(value: bytes) -> str:
    return "0x" + value.hex()


def _i(value: int) -> str:
    return f"0x{value:064x}"


def _b(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _z(curve: dict[str, int], identifier: bytes, x: int, y: int) -> bytes:
    entl = (8 * len(identifier)).to_bytes(2, "big")
    return sm3(entl + identifier + b"".join(_b(curve[k]) for k in ("a", "b", "gx", "gy")) + _b(x) + _b(y))


def _table(curve: dict[str, int]) -> dict[str, str]:
    return {
        "n": f"{curve['n']:064x}",
        "p": f"{curve['p']:064x}",
        "g": f"{curve['gx']:064x}{curve['gy']:064x}",
        "a": f"{curve['a']:064x}",
        "b": f"{curve['b']:064x}",
    }


def _gm(d: int, curve: dict[str, int] = RECOMMENDED) -> gm.CryptSM2:
    table = _table(curve)
    public = gm.CryptSM2(private_key=None, public_key="", ecc_table=table)._kg(d, table["g"])
    return gm.CryptSM2(private_key=f"{d:064x}", public_key=public, ecc_table=table)


def _gm_sign(d: int, e: bytes, k: int, curve: dict[str, int] = RECOMMENDED) -> bytes:
    """The SM2 signature of the digest ``e`` with the given ``k`` (gmssl: r = e + x1, s = (1+d)^-1 (k - r d))."""
    return bytes.fromhex(_gm(d, curve).sign(e, f"{k:064x}"))


def _public(d: int, curve: dict[str, int] = RECOMMENDED) -> bytes:
    return bytes.fromhex(_gm(d, curve).public_key)


def _scalar(label: str) -> int:
    return int.from_bytes(sm3(label.encode()), "big") % (N - 2) + 1


def _ecdsa(d: int, digest: bytes, k: int) -> bytes:
    """ECDSA on the SM2 curve (the confusion to rule out): r = x(kG) mod n, s = k^-1 (z + r d) mod n."""
    table = _table(RECOMMENDED)
    x1 = int(gm.CryptSM2(private_key=None, public_key="", ecc_table=table)._kg(k, table["g"])[:64], 16) % N
    s = pow(k, -1, N) * (int.from_bytes(digest, "big") + x1 * d) % N
    return _b(x1) + _b(s)


def _standard() -> list[dict[str, Any]]:
    out = []
    for item in PUBLISHED:
        curve: dict[str, int] = item["curve"]
        d, k, identifier, message = item["d"], item["k"], item["id"], item["message"]
        public = _public(d, curve)
        za = _z(curve, identifier, int.from_bytes(public[:32], "big"), int.from_bytes(public[32:], "big"))
        e = sm3(za + message)
        signature = _gm_sign(d, e, k, curve)
        computed = (public, za, e, signature)
        published = (_b(item["x"]) + _b(item["y"]), _b(item["za"]), _b(item["e"]), _b(item["r"]) + _b(item["s"]))
        if computed != published:
            raise SystemExit(f"{item['label']}: gmssl does not reproduce the published values")
        out.append(
            {
                "label": item["label"],
                "curve": {name: _i(value) for name, value in curve.items()},
                "privateKey": _i(d),
                "publicKey": _h(public),
                "id": _h(identifier),
                "idText": identifier.decode(),
                "message": _h(message),
                "messageText": message.decode(),
                "za": _h(za),
                "e": _h(e),
                "k": _i(k),
                "r": _h(signature[:32]),
                "s": _h(signature[32:]),
                "signature": _h(signature),
            }
        )
    return out


def _license() -> dict[str, Any]:
    d, k = _scalar("elicense sm2 vector: department key"), _scalar("elicense sm2 vector: license k")
    identifier = "北京市海淀区市场监督管理局".encode()
    public = _public(d)
    domain = domain_separator(CHAIN_ID, LICENSE_REGISTRY)
    digest = keccak256(b"elicense sm2 vector: a license struct hash")
    message = eip712_message(domain, digest)
    za = _z(RECOMMENDED, identifier, int.from_bytes(public[:32], "big"), int.from_bytes(public[32:], "big"))
    e = sm3(za + message)
    return {
        "chainId": CHAIN_ID,
        "licenseRegistry": LICENSE_REGISTRY,
        "domainSeparator": _h(domain),
        "digest": _h(digest),
        "message": _h(message),
        "privateKey": _i(d),
        "publicKey": _h(public),
        "distinguishingId": _h(identifier),
        "za": _h(za),
        "e": _h(e),
        "k": _i(k),
        "signature": _h(_gm_sign(d, e, k)),
    }


def _key_acceptance() -> dict[str, Any]:
    d, k = _scalar("elicense sm2 vector: department key"), _scalar("elicense sm2 vector: binding k")
    identifier = "北京市海淀区市场监督管理局".encode()
    public = _public(d)
    account = Account.from_key(keccak256(b"elicense sm2 vector: anchoring account"))
    issuer_id = keccak256(b"elicense sm2 vector: issuer")
    struct_hash = sm2_key_acceptance_struct_hash(
        issuer_id=issuer_id, key=account.address, sm2_public_key=public, distinguishing_id=identifier
    )
    message = sm2_key_acceptance_message(
        issuer_id=issuer_id,
        account=account.address,
        sm2_public_key=public,
        distinguishing_id=identifier,
        chain_id=CHAIN_ID,
        trust_registry=TRUST_REGISTRY,
    )
    za = _z(RECOMMENDED, identifier, int.from_bytes(public[:32], "big"), int.from_bytes(public[32:], "big"))
    account_signature = sign_sm2_account_acceptance(
        account,
        issuer_id=issuer_id,
        sm2_public_key=public,
        distinguishing_id=identifier,
        chain_id=CHAIN_ID,
        trust_registry=TRUST_REGISTRY,
    )
    return {
        "chainId": CHAIN_ID,
        "trustRegistry": TRUST_REGISTRY,
        "domainSeparator": _h(trust_domain_separator(CHAIN_ID, TRUST_REGISTRY)),
        "issuerId": _h(issuer_id),
        "account": account.address,
        "accountPrivateKey": _h(bytes(account.key)),
        "sm2PublicKey": _h(public),
        "distinguishingId": _h(identifier),
        "structHash": _h(struct_hash),
        "message": _h(message),
        "privateKey": _i(d),
        "k": _i(k),
        "proof": _h(_gm_sign(d, sm3(za + message), k)),
        "accountSignature": _h(account_signature),
    }


def _signatures(license_vector: dict[str, Any]) -> list[dict[str, Any]]:
    public = bytes.fromhex(license_vector["publicKey"][2:])
    identifier = bytes.fromhex(license_vector["distinguishingId"][2:])
    message = bytes.fromhex(license_vector["message"][2:])
    signature = bytes.fromhex(license_vector["signature"][2:])
    d, k = int(license_vector["privateKey"], 16), int(license_vector["k"], 16)
    other = _public(_scalar("elicense sm2 vector: another key"))
    r, s = signature[:32], int.from_bytes(signature[32:], "big")
    flipped_message = bytes((message[0],)) + bytes((message[1] ^ 0x01,)) + message[2:]
    flipped_signature = signature[:63] + bytes((signature[63] ^ 0x01,))
    e = bytes.fromhex(license_vector["e"][2:])

    def case(
        label: str,
        valid: bool,
        *,
        sig: bytes = signature,
        msg: bytes = message,
        key: bytes = public,
        ident: bytes = identifier,
    ) -> dict[str, Any]:
        return {
            "label": label,
            "publicKey": _h(key),
            "distinguishingId": _h(ident),
            "message": _h(msg),
            "signature": _h(sig),
            "valid": valid,
        }

    return [
        case("the license signature", True),
        case("the license signature under the default identifier", False, ident=b"1234567812345678"),
        case("ECDSA on the SM2 curve over SM3(M), same key and k", False, sig=_ecdsa(d, sm3(message), k)),
        case("ECDSA on the SM2 curve over e = SM3(Z_A || M), same key and k", False, sig=_ecdsa(d, e, k)),
        case("the (r, n - s) twin", False, sig=r + _b(N - s)),
        case("r and s swapped", False, sig=signature[32:] + r),
        case("one bit of the message flipped", False, msg=flipped_message),
        case("one bit of the signature flipped", False, sig=flipped_signature),
        case("another public key", False, key=other),
        case("r = 0", False, sig=_b(0) + signature[32:]),
        case("s = n", False, sig=r + _b(N)),
        case("r = n", False, sig=_b(N) + signature[32:]),
        case("s = 2**256 - 1", False, sig=r + b"\xff" * 32),
        case("63 bytes", False, sig=signature[:63]),
    ]


def build() -> dict[str, Any]:
    license_vector = _license()
    return {
        "format": FORMAT,
        "curve": {name: _i(value) for name, value in RECOMMENDED.items()},
        "sm3": [{"input": _h(data), "text": data.decode(), "digest": _i(digest)} for data, digest in SM3_EXAMPLES],
        "standard": _standard(),
        "license": license_vector,
        "keyAcceptance": _key_acceptance(),
        "signatures": _signatures(license_vector),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = parser.parse_args()
    for data, digest in SM3_EXAMPLES:
        if sm3(data) != _b(digest):
            raise SystemExit(f"SM3 does not reproduce the published digest of {data!r}")
    text = json.dumps(build(), indent=1, ensure_ascii=False) + "\n"
    if args.check:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} differs from what the script computes", file=sys.stderr)
            return 1
        print(f"{TARGET} is up to date")
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
