"""X.509 certificates of SM2 keys: the subject and the SM2 public key, and the refusals (other key
types, other curves, compressed points, oversize or malformed input)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import unicodedata

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as pyca
from cryptography.hazmat.primitives.asymmetric import ec as pyca_ec
from cryptography.x509.oid import NameOID

from devkit.certificates import EC_PUBLIC_KEY, der, oid, self_signed_certificate, seq, sm2_spki
from signer import (
    DEFAULT_SM2_ID,
    MAX_CERTIFICATE_BYTES,
    SignerInputError,
    Sm2SigningKey,
    parse_sm2_certificate,
    verify_sm2_signature,
)

KEY = Sm2SigningKey.generate()


def tbs_and_signature(certificate: bytes) -> tuple[bytes, bytes]:
    """The TBSCertificate bytes and the 64-byte ``r || s`` of a DER certificate (for checking it)."""
    parsed = x509.load_der_x509_certificate(certificate)
    value = parsed.signature  # DER SEQUENCE { INTEGER r, INTEGER s }
    at = 2
    parts = []
    for _ in range(2):
        length = value[at + 1]
        parts.append(int.from_bytes(value[at + 2 : at + 2 + length], "big"))
        at += 2 + length
    return parsed.tbs_certificate_bytes, parts[0].to_bytes(32, "big") + parts[1].to_bytes(32, "big")


def test_a_self_signed_sm2_certificate():
    certificate = self_signed_certificate(KEY, "海淀区行政审批局电子印章")
    parsed = parse_sm2_certificate(certificate)
    assert parsed.public_key == KEY.public_key
    assert parsed.der == certificate
    assert parsed.subject == "CN=海淀区行政审批局电子印章,O=北京市市场监督管理局,C=CN"
    # it really is signed with SM2/SM3 by its key (default identifier, as GM/T 0015 has it)
    tbs, signature = tbs_and_signature(certificate)
    assert verify_sm2_signature(KEY.public_key, tbs, signature, DEFAULT_SM2_ID)


@pytest.mark.parametrize(
    ("common_name", "organisation", "shown"),
    [
        ("签章\u202e有效", "局\nVALID", "CN=签章\\E2\\80\\AE有效,O=局\\0AVALID,C=CN"),
        (
            "\x1b[2J\x1b[32mVALID\r",
            "a\u2028b\u2066c\u200fd",
            "CN=\\1B[2J\\1B[32mVALID\\0D,O=a\\E2\\80\\A8b\\E2\\81\\A6c\\E2\\80\\8Fd,C=CN",
        ),
        ("x\x00y\x7f", "\ue000私用", "CN=x\\00y\\7F,O=\\EE\\80\\80私用,C=CN"),
    ],
    ids=["override-and-newline", "terminal-escapes-and-isolates", "nul-del-private-use"],
)
def test_a_subject_is_given_with_its_control_and_direction_characters_escaped(common_name, organisation, shown):
    """Any department registers any certificate: its subject comes out as RFC 4514 text whose control,
    format and line-breaking characters are hex pairs (section 2.4), so it draws nothing wherever it
    is shown, and an RFC 4514 parser reads it back to the very name in the certificate."""
    certificate = self_signed_certificate(KEY, common_name, organisation)
    subject = parse_sm2_certificate(certificate).subject
    assert subject == shown
    assert not any(unicodedata.category(c)[0] == "C" or c in "\u2028\u2029" for c in subject)
    assert x509.Name.from_rfc4514_string(subject) == x509.load_der_x509_certificate(certificate).subject


def test_pem_is_taken_too():
    certificate = x509.load_der_x509_certificate(self_signed_certificate(KEY))
    pem = certificate.public_bytes(pyca.Encoding.PEM)
    assert parse_sm2_certificate(pem).public_key == KEY.public_key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="the openssl command is not installed")
def test_a_certificate_made_by_openssl_from_the_exported_key(tmp_path):
    """An independent maker: OpenSSL signs a certificate of the key exported as PKCS#8; the parser
    finds the same public key, and the library verifies OpenSSL's SM2/SM3 signature of it."""
    (tmp_path / "key.pem").write_bytes(KEY.to_pkcs8_pem())
    subprocess.run(
        [
            "openssl", "req", "-new", "-x509", "-key", str(tmp_path / "key.pem"), "-sm3",
            "-sigopt", "distid:1234567812345678", "-subj", "/C=CN/O=Test Bureau/CN=测试部门", "-utf8",
            "-days", "30", "-outform", "DER", "-out", str(tmp_path / "cert.der"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    certificate = (tmp_path / "cert.der").read_bytes()
    parsed = parse_sm2_certificate(certificate)
    assert parsed.public_key == KEY.public_key
    assert parsed.subject == "CN=测试部门,O=Test Bureau,C=CN"
    tbs, signature = tbs_and_signature(certificate)
    assert verify_sm2_signature(KEY.public_key, tbs, signature, DEFAULT_SM2_ID)


def test_a_p256_certificate_is_refused():
    private = pyca_ec.generate_private_key(pyca_ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not an SM2 key")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    with pytest.raises(SignerInputError, match="not an SM2 key"):
        parse_sm2_certificate(certificate.public_bytes(pyca.Encoding.DER))


@pytest.mark.parametrize(
    "spki",
    [
        # a compressed point
        seq(seq(oid(EC_PUBLIC_KEY), oid("1.2.156.10197.1.301")), der(0x03, b"\x00\x02" + KEY.public_key[:32])),
        # the SM2 point under the P-256 curve's identifier
        seq(seq(oid(EC_PUBLIC_KEY), oid("1.2.840.10045.3.1.7")), der(0x03, b"\x00\x04" + KEY.public_key)),
        # the curve's identifier given as the key algorithm (a non-standard form)
        seq(seq(oid("1.2.156.10197.1.301")), der(0x03, b"\x00\x04" + KEY.public_key)),
    ],
    ids=["compressed", "p256-curve", "sm2-oid-as-algorithm"],
)
def test_other_key_encodings_are_refused(spki):
    with pytest.raises(SignerInputError, match="not an SM2 key"):
        parse_sm2_certificate(self_signed_certificate(KEY, spki=spki))


def test_an_off_curve_point_is_refused():
    off_curve = KEY.public_key[:63] + bytes((KEY.public_key[63] ^ 1,))
    with pytest.raises(SignerInputError, match="curve"):
        parse_sm2_certificate(self_signed_certificate(KEY, spki=sm2_spki(off_curve)))


def test_size_limit():
    base = len(self_signed_certificate(KEY))
    sizes = set()
    edge = (MAX_CERTIFICATE_BYTES - base) // 2  # the organisation is in the subject and the issuer
    for padding in range(edge - 12, edge + 4):
        # r and s vary by a byte or two
        certificate = self_signed_certificate(KEY, organisation="北京市市场监督管理局" + "x" * padding)
        sizes.add(len(certificate) <= MAX_CERTIFICATE_BYTES)
        if len(certificate) <= MAX_CERTIFICATE_BYTES:
            assert parse_sm2_certificate(certificate).public_key == KEY.public_key
        else:
            with pytest.raises(SignerInputError, match="at most 2048"):
                parse_sm2_certificate(certificate)
    assert sizes == {True, False}
    with pytest.raises(SignerInputError, match="larger than"):
        parse_sm2_certificate(b"\x30" * (4 * MAX_CERTIFICATE_BYTES + 1))


@pytest.mark.parametrize(
    "data",
    [b"", b"\x30\x03\x02\x01\x01", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "text"],
)
def test_garbage_is_refused(data):
    with pytest.raises(SignerInputError):
        parse_sm2_certificate(data)


def test_truncated_or_trailing_bytes_are_refused():
    certificate = self_signed_certificate(KEY)
    with pytest.raises(SignerInputError):
        parse_sm2_certificate(certificate[:-1])
    with pytest.raises(SignerInputError):
        parse_sm2_certificate(certificate + b"\x00")
