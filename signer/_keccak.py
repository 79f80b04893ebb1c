"""Keccak-256 through a C backend (safe-pysha3), the only hash the chain side needs."""

from __future__ import annotations

import sha3

_keccak_256 = sha3.keccak_256


def keccak256(data: bytes) -> bytes:
    """Return the 32-byte Keccak-256 digest of ``data`` (Ethereum's hash, not NIST SHA3-256)."""
    digest: bytes = _keccak_256(data).digest()
    return digest
