r"""X.509 certificates of SM2 keys (GM/T 0015): the subject, for display, and the SM2 public key,
to compare with the key bound on chain. The certificate is parsed by ``cryptography`` (strict DER);
its SubjectPublicKeyInfo must be exactly ``id-ecPublicKey`` with the named curve sm2p256v1 and an
uncompressed point. Nothing here checks who issued the certificate: a verifier shows the subject
only when the certificate's key equals the bound key, which the department proved it holds.

Any department can register any certificate, so its subject is outside input for every reader. It is
given as RFC 4514 text in which every character of Unicode category C (controls such as ESC, CR and
LF; format characters such as the direction overrides U+202A-U+202E and U+2066-U+2069; surrogates,
private use, unassigned) and every line or paragraph separator (U+2028, U+2029) is written the way
RFC 4514 (section 2.4) lets any character be written: as the hex pairs of its UTF-8 bytes (U+202E is
``\E2\80\AE``, LF ``\0A``). That is still RFC 4514 text, which any RFC 4514 parser reads back to the
very name the certificate holds, yet nothing in it can draw on a terminal, reorder a page or forge a
line of a log. This is the one place subjects are made: the verifier's results (JSON included), the
command line and the counter page all show this text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from signer import _sm2
from signer.errors import SignerInputError

__all__ = ["MAX_CERTIFICATE_BYTES", "Sm2Certificate", "parse_sm2_certificate"]

#: The largest certificate (DER) the registry takes.
MAX_CERTIFICATE_BYTES = 2048
# SEQUENCE { SEQUENCE { OID 1.2.840.10045.2.1 (id-ecPublicKey), OID 1.2.156.10197.1.301 (sm2p256v1) },
#            BIT STRING (no unused bits) 0x04 || X || Y }
_SM2_SPKI_PREFIX = bytes.fromhex("3059301306072a8648ce3d020106082a811ccf5501822d03420004")
_EC_PUBLIC_KEY = "1.2.840.10045.2.1"


@dataclass(frozen=True, slots=True)
class Sm2Certificate:
    """A parsed certificate: its DER bytes, its subject (RFC 4514 text) and its SM2 public key (64 bytes)."""

    der: bytes
    subject: str
    public_key: bytes


def _tlv(data: bytes, at: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``at``."""
    if at + 2 > len(data):
        raise SignerInputError("the certificate is truncated")
    tag, length = data[at], data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        if not 1 <= count <= 2 or start + count > len(data):
            raise SignerInputError("the certificate has an unsupported DER length")
        length = int.from_bytes(data[start : start + count], "big")
        start += count
    if start + length > len(data):
        raise SignerInputError("the certificate is truncated")
    return tag, start, start + length


def _subject_public_key_info(tbs: bytes) -> bytes:
    tag, at, end = _tlv(tbs, 0)
    if tag != 0x30 or end != len(tbs):
        raise SignerInputError("the certificate's TBSCertificate is not a DER SEQUENCE")
    tag, _, next_at = _tlv(tbs, at)
    if tag == 0xA0:  # [0] EXPLICIT version
        at = next_at
    for _ in range(5):  # serialNumber, signature, issuer, validity, subject
        _, _, at = _tlv(tbs, at)
    tag, _, spki_end = _tlv(tbs, at)
    if tag != 0x30:
        raise SignerInputError("the certificate has no SubjectPublicKeyInfo where it belongs")
    return tbs[at:spki_end]


def parse_sm2_certificate(data: bytes) -> Sm2Certificate:
    """Parse an X.509 certificate (PEM or DER; at most 2,048 bytes of DER) of an SM2 key.
    :class:`SignerInputError` says what is wrong: not a certificate, too large, or not an SM2 key."""
    if not isinstance(data, bytes) or not data:
        raise SignerInputError("a certificate is non-empty bytes (PEM or DER)")
    if len(data) > 4 * MAX_CERTIFICATE_BYTES:
        raise SignerInputError(f"the certificate is larger than a {MAX_CERTIFICATE_BYTES}-byte DER certificate can be")
    try:
        if data.lstrip().startswith(b"-----BEGIN"):
            certificate = x509.load_pem_x509_certificate(data)
        else:
            certificate = x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise SignerInputError(f"not an X.509 certificate: {exc}") from None
    der = certificate.public_bytes(Encoding.DER)
    if len(der) > MAX_CERTIFICATE_BYTES:
        raise SignerInputError(f"the certificate is {len(der)} bytes of DER; at most {MAX_CERTIFICATE_BYTES} are taken")
    if certificate.public_key_algorithm_oid.dotted_string != _EC_PUBLIC_KEY:
        raise SignerInputError(
            f"the certificate's key is not an SM2 key (algorithm {certificate.public_key_algorithm_oid.dotted_string}; "
            "expected id-ecPublicKey on curve sm2p256v1)"
        )
    spki = _subject_public_key_info(certificate.tbs_certificate_bytes)
    if len(spki) != len(_SM2_SPKI_PREFIX) + 64 or not spki.startswith(_SM2_SPKI_PREFIX):
        raise SignerInputError(
            "the certificate's key is not an SM2 key: expected curve sm2p256v1 (1.2.156.10197.1.301) "
            "and an uncompressed point"
        )
    public_key = spki[len(_SM2_SPKI_PREFIX) :]
    _sm2.decode_public_key(public_key)
    try:
        subject = certificate.subject.rfc4514_string()
    except ValueError as exc:
        raise SignerInputError(f"the certificate's subject cannot be read: {exc}") from None
    return Sm2Certificate(der=der, subject=_escaped(subject), public_key=public_key)


def _escaped(text: str) -> str:
    """RFC 4514 ``text`` with its control, format and other category C characters and its line and
    paragraph separators written as RFC 4514 hex pairs of their UTF-8 bytes (the module's docstring)."""
    return "".join("".join(f"\\{b:02X}" for b in c.encode("utf-8", "surrogatepass")) if _hidden(c) else c for c in text)


def _hidden(c: str) -> bool:
    return unicodedata.category(c) in _HIDDEN


_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
