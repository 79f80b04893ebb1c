"""secp256k1 through libsecp256k1 (coincurve): recoverable signatures in the 64-byte compact form
of EIP-2098, low-s only (EIP-2), and Ethereum addresses of recovered keys; and a batch check that
many signatures recover to the keys expected of them (:func:`signatures_agree`)."""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from functools import lru_cache
from types import ModuleType

from coincurve import PrivateKey
from coincurve._libsecp256k1 import ffi, lib
from coincurve.context import GLOBAL_CONTEXT
from coincurve.flags import EC_UNCOMPRESSED

from signer._keccak import keccak256
from signer.errors import SignerError

__all__ = [
    "BATCH_BUILT",
    "SECP256K1_N",
    "compact_signature",
    "key_address",
    "recover_address",
    "recover_key",
    "sign_compact",
    "signatures_agree",
]

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

    The verifier's reference path: libsecp256k1's functions are called as coincurve's own wrappers
    call them (``PublicKey.from_signature_and_message``, ``PublicKey.format``), without the
    wrappers' objects, and each recovered key's address is derived once (:func:`key_address`)."""
    public_key = recover_key(message_hash, signature)
    return None if public_key is None else key_address(public_key)


def recover_key(message_hash: bytes, signature: bytes) -> bytes | None:
    """The public key (64 bytes, ``x || y``) that made the 64-byte compact ``signature`` over
    ``message_hash``; ``None`` when the signature is not a valid canonical (low-s) signature."""
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
    return bytes(ffi.buffer(serialized, 65)[1:])


def _batch_module() -> ModuleType | None:
    try:
        return importlib.import_module("signer._secp256k1_batch")  # compiled: scripts/setup builds it
    except ImportError:
        return None


_BATCH = _batch_module()
#: Whether the compiled batch check (``signer/_secp256k1_batch.c``) is built; without it,
#: :func:`signatures_agree` recovers each signature (the same answers, at the recovery's cost).
BATCH_BUILT = _BATCH is not None
#: Most distinct keys in one batch check.
MAX_BATCH_KEYS = 65535


def signatures_agree(message_hashes: Sequence[bytes], signatures: Sequence[bytes], keys: Sequence[bytes]) -> bool:
    """Whether every ``signatures[i]`` (64-byte compact) over ``message_hashes[i]`` recovers to
    ``keys[i]`` (64 bytes, ``x || y``, as :func:`recover_key` gives), checked as one randomly
    weighted sum (``signer/_secp256k1_batch.c``): a few times cheaper per signature than a recovery
    once there are dozens. ``False`` says only that not all of them agree: recover each one then.

    The weights are drawn here for each call (128 bits each), so whoever made the signatures cannot
    make errors cancel out: a batch with one that does not agree passes with a chance of 2^-128."""
    n = len(signatures)
    if len(message_hashes) != n or len(keys) != n:
        raise ValueError("one message hash and one key are needed for each signature")
    if any(len(s) != 64 for s in signatures) or any(len(h) != 32 for h in message_hashes):
        return False
    distinct: dict[bytes, int] = {}
    for key in keys:
        if len(key) != 64:
            raise ValueError("a key is 64 bytes (x || y)")
        distinct.setdefault(key, len(distinct))
    if _BATCH is None or len(distinct) > MAX_BATCH_KEYS:  # each recovered: the same answer
        return all(recover_key(h, s) == k for h, s, k in zip(message_hashes, signatures, keys, strict=True))
    key_of = b"".join(distinct[key].to_bytes(2, "little") for key in keys)
    return bool(
        _BATCH.agree(b"".join(message_hashes), b"".join(signatures), key_of, b"".join(distinct), os.urandom(16 * n))
    )


@lru_cache(maxsize=4096)
def key_address(public_key: bytes) -> str:
    """The checksummed (EIP-55) address of a 64-byte public key (cached: signers are few, issuer keys)."""
    hex_address = keccak256(public_key)[12:].hex()
    hashed = keccak256(hex_address.encode()).hex()
    return "0x" + "".join(c.upper() if int(h, 16) >= 8 else c for c, h in zip(hex_address, hashed[:40], strict=True))
