"""SM2 test material: self-signed X.509 certificates (SM2 with SM3, GM/T 0015 form) built field by
field in DER and signed with the library's own SM2 key, so each test can shape one as it needs."""

from __future__ import annotations

import datetime as dt

from signer import Sm2SigningKey

SM2_WITH_SM3 = "1.2.156.10197.1.501"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
SM2_CURVE = "1.2.156.10197.1.301"


def der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes((n,))
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes((0x80 | len(raw),)) + raw
    return bytes((tag,)) + length + content


def oid(dotted: str) -> bytes:
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
    return der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def seq(*items: bytes) -> bytes:
    return der(0x30, b"".join(items))


def name(common_name: str, organisation: str = "北京市市场监督管理局") -> bytes:
    def rdn(kind: str, value: bytes) -> bytes:
        return der(0x31, seq(oid(kind), value))

    return seq(
        rdn("2.5.4.6", der(0x13, b"CN")),
        rdn("2.5.4.10", der(0x0C, organisation.encode())),
        rdn("2.5.4.3", der(0x0C, common_name.encode())),
    )


def sm2_spki(public_key: bytes) -> bytes:
    return seq(seq(oid(EC_PUBLIC_KEY), oid(SM2_CURVE)), der(0x03, b"\x00\x04" + public_key))


def make_certificate(
    key: Sm2SigningKey,
    common_name: str = "海淀区行政审批局电子印章",
    *,
    spki: bytes | None = None,
    padding: int = 0,
) -> bytes:
    """A self-signed certificate (DER) of ``key``'s public key (or of ``spki``), signed by ``key``
    with SM2/SM3 under the default identifier; ``padding`` bytes of organisation text make it larger."""
    algorithm = seq(oid(SM2_WITH_SM3))
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    validity = seq(
        der(0x17, now.strftime("%y%m%d%H%M%SZ").encode()),
        der(0x17, (now + dt.timedelta(days=730)).strftime("%y%m%d%H%M%SZ").encode()),
    )
    subject = name(common_name, "北京市市场监督管理局" + "x" * padding)
    tbs = seq(
        der(0xA0, integer(2)),
        integer(0x1234567890ABCDEF),
        algorithm,
        name(common_name),
        validity,
        subject,
        spki if spki is not None else sm2_spki(key.public_key),
    )
    signature = key.sign(tbs)  # default identifier, as GM/T 0015 certificates are signed
    value = seq(integer(int.from_bytes(signature[:32], "big")), integer(int.from_bytes(signature[32:], "big")))
    return seq(tbs, algorithm, der(0x03, b"\x00" + value))


def tbs_and_signature(certificate: bytes) -> tuple[bytes, bytes]:
    """The TBSCertificate bytes and the 64-byte ``r || s`` of a DER certificate (for checking it)."""
    from cryptography import x509  # noqa: PLC0415

    parsed = x509.load_der_x509_certificate(certificate)
    value = parsed.signature  # DER SEQUENCE { INTEGER r, INTEGER s }
    at = 2
    parts = []
    for _ in range(2):
        length = value[at + 1]
        parts.append(int.from_bytes(value[at + 2 : at + 2 + length], "big"))
        at += 2 + length
    return parsed.tbs_certificate_bytes, parts[0].to_bytes(32, "big") + parts[1].to_bytes(32, "big")
