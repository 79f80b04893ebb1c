"""BLS12-381 primitives of the co-signing keys (docs/joint.md): ciphersuite
``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_``, public keys in G1, signatures in G2, computed with
py-arkworks-bls12381 (py-ecc's ``G2ProofOfPossession`` is the reference the tests compare with).

Every encoding read from outside goes through a strict decoder: exact length, the flags of the
ZCash compressed form (compression bit set, infinity only as the all-zero canonical form, no sign
bit on infinity), coordinates below p, the point on the curve and in the prime-order subgroup, and
a public key never the point at infinity. Each refusal is a :class:`SignerInputError` that says
what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence

from py_arkworks_bls12381 import GT, G1Point, G2Point, Scalar

from signer.errors import SignerInputError

__all__ = [
    "CURVE_ORDER",
    "DST_POP",
    "DST_SIG",
    "FIELD_MODULUS",
    "G1_COMPRESSED",
    "G1_EIP2537",
    "G2_COMPRESSED",
    "G2_EIP2537",
    "MAX_MESSAGE",
    "MAX_SIGNERS",
    "aggregate",
    "decode_public_key",
    "decode_public_key_eip2537",
    "decode_signature",
    "decode_signature_eip2537",
    "fast_aggregate_verify",
    "g1_to_eip2537",
    "g2_to_eip2537",
    "hash_to_g2",
    "pop_prove",
    "pop_verify",
    "public_key",
    "secret_scalar",
    "sign",
]

#: p, the base field's modulus, and r, the order of the groups (and of the secrets).
FIELD_MODULUS = 0x1A0111EA397FE69A4B1BA7B6434BACD764774B84F38512BF6730D2A0F6B0F6241EABFFFEB153FFFFB9FEFFFFFFFFAAAB
CURVE_ORDER = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001
DST_SIG = b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
DST_POP = b"BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"
G1_COMPRESSED = 48
G2_COMPRESSED = 96
G1_EIP2537 = 128
G2_EIP2537 = 256
#: Bounds of the recipes: co-signers of one message (docs/joint.md: 1 to 16 departments) and the
#: length of a signed message (a bundle digest is 32 bytes).
MAX_SIGNERS = 16
MAX_MESSAGE = 1024

_FP = 48  # bytes of a base field element
_WORD = 64  # bytes of an EIP-2537 field element (16 zero bytes + 48)
_COMPRESSION, _INFINITY, _SIGN = 0x80, 0x40, 0x20
_G1 = G1Point()
_NEG_G1 = -_G1


def _bytes(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise SignerInputError(f"{what} must be {size} bytes, got {type(value).__name__}")
    data = bytes(value)
    if len(data) != size:
        raise SignerInputError(f"{what} must be {size} bytes, got {len(data)}")
    return data


def _check_flags(data: bytes, what: str) -> bool:
    """Check the flags of a ZCash compressed point and each x coordinate below p; True for infinity."""
    flags = data[0] & 0xE0
    if not flags & _COMPRESSION:
        raise SignerInputError(f"{what} must be in compressed form (top bit of the first byte set)")
    if flags & _INFINITY:
        if flags & _SIGN or data[0] & 0x1F or any(data[1:]):
            raise SignerInputError(f"{what}: the point at infinity is encoded 0xc0 followed by zero bytes only")
        return True
    words = [bytes((data[0] & 0x1F,)) + data[1:_FP], *(data[i : i + _FP] for i in range(_FP, len(data), _FP))]
    if any(int.from_bytes(w, "big") >= FIELD_MODULUS for w in words):
        raise SignerInputError(f"{what}: a coordinate is not below the field modulus p")
    return False


def decode_public_key(data: object, what: str = "a co-signing public key") -> G1Point:
    """A 48-byte compressed G1 public key, checked (see the module's docstring)."""
    raw = _bytes(data, G1_COMPRESSED, what)
    if _check_flags(raw, what):
        raise SignerInputError(f"{what} must not be the point at infinity")
    try:
        point = G1Point.from_compressed_bytes_unchecked(raw)
    except ValueError:
        raise SignerInputError(f"{what} is not a point of the BLS12-381 G1 curve") from None
    if not point.is_in_subgroup():
        raise SignerInputError(f"{what} is not in the prime-order subgroup of G1")
    return point


def decode_signature(data: object, what: str = "a co-signature") -> G2Point:
    """A 96-byte compressed G2 signature, checked (the point at infinity is a valid encoding)."""
    raw = _bytes(data, G2_COMPRESSED, what)
    if _check_flags(raw, what):
        return G2Point.identity()
    try:
        point = G2Point.from_compressed_bytes_unchecked(raw)
    except ValueError:
        raise SignerInputError(f"{what} is not a point of the BLS12-381 G2 curve") from None
    if not point.is_in_subgroup():
        raise SignerInputError(f"{what} is not in the prime-order subgroup of G2")
    return point


def _eip2537_words(data: bytes, what: str) -> bytes:
    """The 48-byte field elements of an EIP-2537 encoding, each checked: 16 zero bytes, then < p."""
    out = []
    for i in range(0, len(data), _WORD):
        word = data[i : i + _WORD]
        if any(word[: _WORD - _FP]) or int.from_bytes(word, "big") >= FIELD_MODULUS:
            raise SignerInputError(f"{what}: each 64-byte word must be 16 zero bytes and a field element below p")
        out.append(word[_WORD - _FP :])
    return b"".join(out)


def decode_public_key_eip2537(data: object, what: str = "a co-signing public key (EIP-2537)") -> G1Point:
    """A 128-byte EIP-2537 G1 public key, checked as :func:`decode_public_key`."""
    raw = _bytes(data, G1_EIP2537, what)
    xy = _eip2537_words(raw, what)
    if not any(xy):
        raise SignerInputError(f"{what} must not be the point at infinity")
    try:
        point = G1Point.from_xy_bytes_be(xy)
    except ValueError as exc:
        if "subgroup" in str(exc):
            raise SignerInputError(f"{what} is not in the prime-order subgroup of G1") from None
        raise SignerInputError(f"{what} is not a point of the BLS12-381 G1 curve") from None
    return point


def decode_signature_eip2537(data: object, what: str = "a co-signature (EIP-2537)") -> G2Point:
    """A 256-byte EIP-2537 G2 signature, checked as :func:`decode_signature`."""
    raw = _bytes(data, G2_EIP2537, what)
    xy = _eip2537_words(raw, what)
    if not any(xy):
        return G2Point.identity()
    try:
        point = G2Point.from_xy_bytes_be(xy)
    except ValueError as exc:
        if "subgroup" in str(exc):
            raise SignerInputError(f"{what} is not in the prime-order subgroup of G2") from None
        raise SignerInputError(f"{what} is not a point of the BLS12-381 G2 curve") from None
    return point


def g1_to_eip2537(point: G1Point) -> bytes:
    """128-byte EIP-2537 form of a G1 point (all zero for infinity)."""
    if point == G1Point.identity():
        return bytes(G1_EIP2537)
    xy = point.to_xy_bytes_be()
    pad = bytes(_WORD - _FP)
    return pad + xy[:_FP] + pad + xy[_FP:]


def g2_to_eip2537(point: G2Point) -> bytes:
    """256-byte EIP-2537 form of a G2 point: x.c0, x.c1, y.c0, y.c1 (all zero for infinity)."""
    if point == G2Point.identity():
        return bytes(G2_EIP2537)
    xy = point.to_xy_bytes_be()
    pad = bytes(_WORD - _FP)
    return b"".join(pad + xy[i : i + _FP] for i in range(0, 4 * _FP, _FP))


def secret_scalar(secret: object) -> Scalar:
    """The scalar of a 32-byte big-endian secret, which must be in [1, r)."""
    raw = _bytes(secret, 32, "a co-signing secret")
    value = int.from_bytes(raw, "big")
    if not 0 < value < CURVE_ORDER:
        raise SignerInputError("a co-signing secret must be an integer from 1 to r - 1 (the BLS12-381 group order)")
    return Scalar(value)


def public_key(secret: Scalar) -> G1Point:
    return _G1 * secret


def _message(message: object) -> bytes:
    if not isinstance(message, bytes | bytearray | memoryview):
        raise SignerInputError(f"a message must be bytes, got {type(message).__name__}")
    data = bytes(message)
    if len(data) > MAX_MESSAGE:
        raise SignerInputError(f"a message is at most {MAX_MESSAGE} bytes, got {len(data)}")
    return data


def hash_to_g2(message: bytes, dst: bytes) -> G2Point:
    """hash_to_curve (SSWU, random oracle) of ``message`` into G2 under ``dst``."""
    return G2Point.hash_to_curve(message, dst)


def sign(secret: Scalar, message: object) -> G2Point:
    return hash_to_g2(_message(message), DST_SIG) * secret


def pop_prove(secret: Scalar) -> G2Point:
    return hash_to_g2(public_key(secret).to_compressed_bytes(), DST_POP) * secret


def pop_verify(key: G1Point, proof: G2Point) -> bool:
    """``e(pk, H_pop(pk)) == e(g1, proof)``."""
    return bool(GT.pairing_check([key, _NEG_G1], [hash_to_g2(key.to_compressed_bytes(), DST_POP), proof]))


def _count(items: Sequence[object], what: str) -> None:
    if isinstance(items, str | bytes | bytearray) or not isinstance(items, Sequence):
        raise SignerInputError(f"{what} must be a list, got {type(items).__name__}")
    if not 1 <= len(items) <= MAX_SIGNERS:
        raise SignerInputError(f"{what} must hold 1 to {MAX_SIGNERS} items, got {len(items)}")


def aggregate(signatures: Sequence[object]) -> G2Point:
    """The sum of 1 to 16 signatures, each decoded strictly."""
    _count(signatures, "the signatures to aggregate")
    total = G2Point.identity()
    for i, sig in enumerate(signatures):
        total = total + decode_signature(sig, f"signature {i}")
    return total


def fast_aggregate_verify(keys: Sequence[object], message: object, signature: object) -> bool:
    """FastAggregateVerify: ``e(pk_1 + ... + pk_n, H(message)) == e(g1, signature)``; keys and
    signature are compressed encodings, refused when malformed."""
    _count(keys, "the public keys")
    total = G1Point.identity()
    for i, key in enumerate(keys):
        total = total + decode_public_key(key, f"public key {i}")
    point = decode_signature(signature, "the aggregate signature")
    if total == G1Point.identity():  # keys that cancel out (pk, -pk) prove nothing: KeyValidate fails
        return False
    return bool(GT.pairing_check([total, _NEG_G1], [hash_to_g2(_message(message), DST_SIG), point]))
