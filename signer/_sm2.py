"""SM2 signatures with SM3 (GM/T 0003.2 / GB/T 32918.2, hash GM/T 0004 / GB/T 32905) on the
recommended curve sm2p256v1 (GM/T 0003.5 / GB/T 32918.5), through Tongsuo (tongsuopy).

The scheme proper: ``e = SM3(Z_A || M)`` with ``Z_A = SM3(ENTL || ID || a || b || xG || yG || xA || yA)``,
then the SM2 signature of ``e``. This module computes ``Z_A`` (cached per key and identifier) and ``e``
itself and hands Tongsuo only the digest: ``EVP_PKEY_sign``/``EVP_PKEY_verify`` on a key of type
``EVP_PKEY_SM2`` run the SM2 algorithm on ``e`` (checked here against the standard's example values,
tests/vectors/sm2.json). A key of type ``EVP_PKEY_EC`` would run ECDSA instead, so every key object
is checked to be of the SM2 type when it is made.

Wire forms: a public key is 64 bytes ``X || Y`` (big-endian, each < p, on the curve); a signature is
64 bytes ``r || s`` with ``1 <= r, s <= n - 1``; an identifier is 1 to 64 bytes.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

from tongsuopy.backends.tongsuo.backend import backend as _backend
from tongsuopy.crypto.asymciphers import ec

from signer.errors import SignerError, SignerInputError

__all__ = [
    "DEFAULT_ID",
    "GX",
    "GY",
    "MAX_ID_BYTES",
    "A",
    "B",
    "N",
    "P",
    "PrivateKey",
    "check_id",
    "decode_public_key",
    "decode_signature",
    "is_on_curve",
    "message_digest",
    "sm3",
    "verify",
    "verify_digest",
    "z_a",
]

#: The recommended curve (GB/T 32918.5-2017): y^2 = x^3 + a x + b over F_p, order n, cofactor 1.
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = P - 3
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
#: The identifier GM/T 0009 names as the default when the parties agree on no other.
DEFAULT_ID = b"1234567812345678"
MAX_ID_BYTES = 64
_CURVE_BYTES = b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY))
_LIB = _backend._lib
_FFI = _backend._ffi
_SM2_TYPE = _LIB.EVP_PKEY_SM2

if "sm3" in hashlib.algorithms_available:

    def sm3(data: bytes) -> bytes:
        """SM3 digest (32 bytes) of ``data``."""
        return hashlib.new("sm3", data).digest()

else:  # pragma: no cover - an OpenSSL without SM3 under hashlib: use Tongsuo's
    from tongsuopy.crypto import hashes as _hashes

    def sm3(data: bytes) -> bytes:
        """SM3 digest (32 bytes) of ``data``."""
        h = _hashes.Hash(_hashes.SM3())
        h.update(data)
        return bytes(h.finalize())


def check_id(distinguishing_id: object) -> bytes:
    """The distinguishing identifier as bytes, 1 to 64 long; :class:`SignerInputError` otherwise."""
    if not isinstance(distinguishing_id, bytes) or not 1 <= len(distinguishing_id) <= MAX_ID_BYTES:
        raise SignerInputError(
            f"an SM2 distinguishing identifier is 1 to {MAX_ID_BYTES} bytes, got {distinguishing_id!r}"
        )
    return distinguishing_id


def is_on_curve(x: int, y: int) -> bool:
    """Whether (x, y), each in [0, p), is a point of the curve (never the point at infinity)."""
    return 0 <= x < P and 0 <= y < P and (y * y - (x * x * x + A * x + B)) % P == 0


def decode_public_key(public_key: object) -> tuple[int, int]:
    """The coordinates of a 64-byte public key ``X || Y``; :class:`SignerInputError` unless each
    coordinate is below p and the point is on the curve (cofactor 1: then it is in the group)."""
    if not isinstance(public_key, bytes) or len(public_key) != 64:
        raise SignerInputError(f"an SM2 public key is 64 bytes X || Y, got {_describe(public_key)}")
    x = int.from_bytes(public_key[:32], "big")
    y = int.from_bytes(public_key[32:], "big")
    if x >= P or y >= P:
        raise SignerInputError("an SM2 public key coordinate is not below the field prime p")
    if not is_on_curve(x, y):
        raise SignerInputError("the SM2 public key is not a point of the curve sm2p256v1")
    return x, y


def decode_signature(signature: object) -> tuple[int, int] | None:
    """``(r, s)`` of a 64-byte signature ``r || s`` with both in [1, n - 1]; ``None`` otherwise."""
    if not isinstance(signature, bytes) or len(signature) != 64:
        return None
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < N and 0 < s < N):
        return None
    return r, s


def _describe(value: object) -> str:
    return f"{len(value)} bytes" if isinstance(value, bytes) else type(value).__name__


def z_a(public_key: bytes, distinguishing_id: bytes) -> bytes:
    """``Z_A``: the SM3 digest of the signer's identifier, the curve and its public key (checked)."""
    if type(public_key) is not bytes or type(distinguishing_id) is not bytes:  # what the cache can key on
        decode_public_key(public_key)
        check_id(distinguishing_id)
    return _z_a(public_key, distinguishing_id)


@lru_cache(maxsize=4096)
def _z_a(public_key: bytes, distinguishing_id: bytes) -> bytes:
    decode_public_key(public_key)
    check_id(distinguishing_id)
    entl = (8 * len(distinguishing_id)).to_bytes(2, "big")
    return sm3(entl + distinguishing_id + _CURVE_BYTES + public_key)


def message_digest(public_key: bytes, distinguishing_id: bytes, message: bytes) -> bytes:
    """``e = SM3(Z_A || M)``, the value the SM2 algorithm signs."""
    return sm3(z_a(public_key, distinguishing_id) + message)


def _der_signature(r: int, s: int) -> bytes:
    def integer(v: int) -> bytes:
        body = v.to_bytes(v.bit_length() // 8 + 1, "big")  # a leading zero keeps it positive
        return b"\x02" + bytes((len(body),)) + body

    body = integer(r) + integer(s)
    return b"\x30" + bytes((len(body),)) + body


def _parse_der_signature(der: bytes) -> tuple[int, int]:
    # What Tongsuo writes: SEQUENCE { INTEGER r, INTEGER s }, short lengths, minimal encoding.
    def integer(at: int) -> tuple[int, int]:
        if der[at] != 0x02 or not 1 <= der[at + 1] <= 33:
            raise SignerError("the SM2 backend returned a malformed signature")
        end = at + 2 + der[at + 1]
        return int.from_bytes(der[at + 2 : end], "big"), end

    if len(der) < 8 or der[0] != 0x30 or der[1] != len(der) - 2:
        raise SignerError("the SM2 backend returned a malformed signature")
    r, at = integer(2)
    s, end = integer(at)
    if end != len(der) or not (0 < r < N and 0 < s < N):
        raise SignerError("the SM2 backend returned a malformed signature")
    return r, s


def _checked_sm2(key: Any) -> Any:
    if _LIB.EVP_PKEY_id(key._evp_pkey) != _SM2_TYPE:  # an EC key would mean ECDSA, not SM2
        raise SignerError("the SM2 backend made a key that is not of the SM2 type")
    return key


@lru_cache(maxsize=4096)
def _verifying_key(public_key: bytes) -> Any:
    x, y = decode_public_key(public_key)
    return _checked_sm2(ec.EllipticCurvePublicNumbers(x, y, ec.SM2()).public_key())


def verify(public_key: bytes, distinguishing_id: bytes, message: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (64 bytes ``r || s``) is the SM2 signature of ``message`` by the holder
    of ``public_key`` with identifier ``distinguishing_id``. A malformed or out-of-range signature
    is ``False``; a malformed key or identifier raises :class:`SignerInputError`."""
    e = message_digest(public_key, distinguishing_id, message)
    rs = decode_signature(signature)
    if rs is None:
        return False
    return verify_digest(_verifying_key(public_key), e, *rs)


def verify_digest(key: Any, e: bytes, r: int, s: int) -> bool:
    """SM2 verification of the 32-byte digest ``e`` under a key object made by this module."""
    der = _der_signature(r, s)
    ctx = _LIB.EVP_PKEY_CTX_new(key._evp_pkey, _FFI.NULL)
    if ctx == _FFI.NULL:
        raise SignerError("the SM2 backend could not make a verification context")
    try:
        if _LIB.EVP_PKEY_verify_init(ctx) != 1:
            raise SignerError("the SM2 backend could not start a verification")
        result = _LIB.EVP_PKEY_verify(ctx, der, len(der), e, len(e))
    finally:
        _LIB.EVP_PKEY_CTX_free(ctx)
    if result != 1:
        _backend._consume_errors()  # a failed verification leaves errors on OpenSSL's queue
    return bool(result == 1)


class PrivateKey:
    """An SM2 private key inside Tongsuo (the scalar never leaves it except for a keystore)."""

    __slots__ = ("_key", "public_key")

    def __init__(self, key: Any) -> None:
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SM2):
            raise SignerInputError("not an SM2 private key (curve sm2p256v1)")
        self._key = _checked_sm2(key)
        # GM/T 0003.1 draws d from [1, n - 2]: with d = n - 1, 1 + d has no inverse and nothing can be signed
        if not 1 <= key.private_numbers().private_value <= N - 2:
            raise SignerInputError("an SM2 private key is an integer from 1 to n - 2")
        numbers = key.public_key().public_numbers()
        #: 64-byte public key X || Y.
        self.public_key: bytes = numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(ec.generate_private_key(ec.SM2()))

    @classmethod
    def from_scalar(cls, scalar: int) -> PrivateKey:
        if not 1 <= scalar <= N - 2:
            raise SignerInputError("an SM2 private key is an integer from 1 to n - 2")
        return cls(ec.derive_private_key(scalar, ec.SM2()))

    @property
    def backend_key(self) -> Any:
        return self._key

    def scalar(self) -> int:
        value: int = self._key.private_numbers().private_value
        return value

    def sign_digest(self, e: bytes) -> tuple[int, int]:
        """SM2 signature ``(r, s)`` of the 32-byte digest ``e`` (k drawn by Tongsuo's generator)."""
        ctx = _LIB.EVP_PKEY_CTX_new(self._key._evp_pkey, _FFI.NULL)
        if ctx == _FFI.NULL:
            raise SignerError("the SM2 backend could not make a signing context")
        try:
            size = _FFI.new("size_t *", 80)
            out = _FFI.new("unsigned char[]", 80)
            if _LIB.EVP_PKEY_sign_init(ctx) != 1 or _LIB.EVP_PKEY_sign(ctx, out, size, e, len(e)) != 1:
                _backend._consume_errors()
                raise SignerError("the SM2 backend failed to sign")
            der = bytes(_FFI.buffer(out, size[0]))
        finally:
            _LIB.EVP_PKEY_CTX_free(ctx)
        return _parse_der_signature(der)
