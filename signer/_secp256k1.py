"""secp256k1 through libsecp256k1 (coincurve): recoverable signatures in the 64-byte compact form
of EIP-2098, low-s only (EIP-2), and Ethereum addresses of recovered keys."""

from __future__ import annotations

from functools import lru_cache

from coincurve import PrivateKey, PublicKey

from signer._keccak import keccak256
from signer.errors import SignerError

__all__ = ["SECP256K1_N", "compact_signature", "recover_address", "sign_compact"]

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2


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
    ``None`` when the signature is not a valid canonical (low-s) signature."""
    if len(signature) != 64:
        return None
    r = int.from_bytes(signature[:32], "big")
    vs = int.from_bytes(signature[32:], "big")
    s = vs & ((1 << 255) - 1)
    if not (0 < r < SECP256K1_N and 0 < s <= _HALF_N):
        return None
    recoverable = signature[:32] + s.to_bytes(32, "big") + bytes((vs >> 255,))
    try:
        public = PublicKey.from_signature_and_message(recoverable, message_hash, hasher=None)
    except Exception:  # noqa: BLE001 - libsecp256k1 refuses unrecoverable signatures with various errors
        return None
    return _checksum(keccak256(public.format(compressed=False)[1:])[12:])


@lru_cache(maxsize=4096)
def _checksum(address: bytes) -> str:
    # EIP-55; signers are few (issuer keys), so the result is cached
    hex_address = address.hex()
    hashed = keccak256(hex_address.encode()).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(hex_address, hashed[:40], strict=True))
