"""Self-signed X.509 certificates of SM2 keys (GM/T 0015 form: SM2 with SM3), built field by field
in DER and signed with the library's own SM2 key: what a department's CA would hand it, for the demo
and the tests. The DER pieces are public so that a test can shape a certificate's key info itself
(another curve, a compressed point, a point off the curve)."""

from __future__ import annotations

import datetime as dt

from signer import Sm2SigningKey

__all__ = [
    "EC_PUBLIC_KEY",
    "SM2_CURVE",
    "SM2_WITH_SM3",
    "der",
    "integer",
    "oid",
    "self_signed_certificate",
    "seq",
    "sm2_spki",
]

SM2_WITH_SM3 = "1.2.156.10197.1.501"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
SM2_CURVE = "1.2.156.10197.1.301"


def der(tag: int, content: bytes) -> bytes:
    """A DER element: ``tag``, the definite length of ``content``, ``content``."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((tag, 0x80 | len(raw))) + raw + content


def oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER from its dotted form."""
    parts = [int(p) for p in dotted.split(".")]
    body = bytes((40 * parts[0] + parts[1],))
    for part in parts[2:]:
        chunk, rest = [part & 0x7F], part >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body += bytes(reversed(chunk))
    return der(0x06, body)


def integer(value: int) -> bytes:
    """A non-negative INTEGER."""
    return der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def seq(*items: bytes) -> bytes:
    """A SEQUENCE of DER elements."""
    return der(0x30, b"".join(items))


def sm2_spki(public_key: bytes) -> bytes:
    """The SubjectPublicKeyInfo of a 64-byte SM2 public key ``X || Y`` (id-ecPublicKey, sm2p256v1,
    uncompressed point)."""
    return seq(seq(oid(EC_PUBLIC_KEY), oid(SM2_CURVE)), der(0x03, b"\x00\x04" + public_key))


def self_signed_certificate(
    key: Sm2SigningKey,
    common_name: str = "电子证照签名密钥",
    organisation: str = "北京市市场监督管理局",
    *,
    today: dt.date | None = None,
    spki: bytes | None = None,
) -> bytes:
    """A self-signed certificate (DER) of ``key``'s public key (or of the key info ``spki``), subject
    and issuer ``C=CN, O=organisation, CN=common_name``, valid two years from ``today`` (default: the
    current day), signed by ``key`` with SM2/SM3 under its identifier (GM/T 0015 certificates are
    signed under the default one)."""
    algorithm = seq(oid(SM2_WITH_SM3))

    def rdn(kind: str, value: bytes) -> bytes:
        return der(0x31, seq(oid(kind), value))

    name = seq(
        rdn("2.5.4.6", der(0x13, b"CN")),
        rdn("2.5.4.10", der(0x0C, organisation.encode())),
        rdn("2.5.4.3", der(0x0C, common_name.encode())),
    )
    start = dt.datetime.combine(today or dt.date.today(), dt.time(), dt.UTC)
    validity = seq(*(der(0x17, (start + dt.timedelta(days=d)).strftime("%y%m%d%H%M%SZ").encode()) for d in (0, 730)))
    tbs = seq(
        der(0xA0, integer(2)),
        integer(int.from_bytes(key.public_key[:8], "big")),
        algorithm,
        name,
        validity,
        name,
        sm2_spki(key.public_key) if spki is None else spki,
    )
    signature = key.sign(tbs)
    value = seq(integer(int.from_bytes(signature[:32], "big")), integer(int.from_bytes(signature[32:], "big")))
    return seq(tbs, algorithm, der(0x03, b"\x00" + value))
