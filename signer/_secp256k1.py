"""secp256k1 through libsecp256k1 (coincurve): recoverable signatures in the 64-byte compact form
of EIP-2098, low-s only (EIP-2), and Ethereum addresses of recovered keys."""

from __future__ import annotations

from functools import lru_cache

from coincurve import PrivateKey
from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT
from coincurve.flags import EC_UNCOMPRESSED

from signer._keccak import keccak256
from signer.errors import SignerError

__all__ = ["SECP256K1_N", "compact_signature", "recover_address", "sign_compact"]

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2
_ZERO = bytes(32)
_N_BYTES = SECP256K1_N.to_bytes(32, "big")
_HALF_N_BYTES = _HALF_N.to_bytes(32, "big")


def compact_signature(r: int, s: int, v: int) -> bytes:
    """EIP-2098: ``r || (yParity << 255 | s)``; ``s`` must be in the lower half (EIP-2)."""
    if not 0 < s <= _HALF_N:
        raise SignerError("signature s is not in the lower half of the curve order")
    parity = v - 27 if v >= 27 else v
    return r.to_bytes(32, "big") + ((parity << 255) | s).to_bytes(32, "big")


def sign_compact(key: PrivateKey, message_hash: bytes) -> bytes:
    """64-byte compact signature of the 32-byte ``message_hash``."""
    sig = key.sign_recoverable(message_hash, hasher=None)
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:64], "big")
    parity = sig[64]
    if s > _HALF_N:  # libsecp256k1 already normalises; kept as a guard
        s = SECP256K1_N - s
        parity ^= 1
    return compact_signature(r, s, parity)


def recover_address(message_hash: bytes, signature: bytes) -> str | None:
    """Checksummed address whose key made the 64-byte compact ``signature`` over ``message_hash``;
    ``None`` when the signature is not a valid canonical (low-s) signature.

    The verifier's hot path: libsecp256k1's functions are called as coincurve's own wrappers call
    them (``PublicKey.from_signature_and_message``, ``PublicKey.format``), without the wrappers'
    objects, and each recovered key's address is derived once (:func:`_address`)."""
    if len(signature) != 64 or len(message_hash) != 32:
        return None
    r = signature[:32]
    s = bytes((signature[32] & 0x7F,)) + signature[33:]
    if not (_ZERO < r < _N_BYTES and _ZERO < s <= _HALF_N_BYTES):  # big-endian: the bytes order the numbers
        return None
    context = GLOBAL_CONTEXT.ctx
    parsed = ffi.new("secp256k1_ecdsa_recoverable_signature *")
    public = ffi.new("secp256k1_pubkey *")
    if not lib.secp256k1_ecdsa_recoverable_signature_parse_compact(context, parsed, r + s, signature[32] >> 7):
        return None
    if not lib.secp256k1_ecdsa_recover(context, public, parsed, message_hash):
        return None
    serialized = ffi.new("unsigned char[65]")
    lib.secp256k1_ec_pubkey_serialize(context, serialized, ffi.new("size_t *", 65), public, EC_UNCOMPRESSED)
    return _address(ffi.buffer(serialized, 65)[1:])


@lru_cache(maxsize=4096)
def _address(public_key: bytes) -> str:
    # EIP-55 of the key's Keccak-256; signers are few (issuer keys), so the result is cached
    hex_address = keccak256(public_key)[12:].hex()
    hashed = keccak256(hex_address.encode()).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(hex_address, hashed[:40], strict=True))
