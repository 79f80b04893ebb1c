"""EIP-712 signatures of license digests, in the 64-byte compact form of EIP-2098.

Signing uses a pre-built coincurve key (no public-key derivation per signature); recovery is the
verifier's job (``verifier``), with the same library.
"""

from __future__ import annotations

from coincurve import PrivateKey
from eth_account.signers.local import LocalAccount

from registry.document import domain_separator, eip712_hash
from signer.errors import SignerError

__all__ = ["SECP256K1_N", "LicenseSigner", "compact_signature"]

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2


def compact_signature(r: int, s: int, v: int) -> bytes:
    """EIP-2098: ``r || (yParity << 255 | s)``; ``s`` must be in the lower half (EIP-2)."""
    if not 0 < s <= _HALF_N:
        raise SignerError("signature s is not in the lower half of the curve order")
    parity = v - 27 if v >= 27 else v
    return r.to_bytes(32, "big") + ((parity << 255) | s).to_bytes(32, "big")


class LicenseSigner:
    """Signs license digests for one deployment (EIP-712 domain) with one issuer key."""

    __slots__ = ("_key", "address", "domain")

    def __init__(self, account: LocalAccount, *, chain_id: int, license_registry: str) -> None:
        self._key = PrivateKey(bytes(account.key))
        self.address: str = account.address
        self.domain = domain_separator(chain_id, license_registry)

    def sign_digest(self, digest: bytes) -> bytes:
        """64-byte compact signature of the EIP-712 hash of ``digest``."""
        if len(digest) != 32:
            raise SignerError("a license digest is 32 bytes")
        sig = self._key.sign_recoverable(eip712_hash(self.domain, digest), hasher=None)
        r = int.from_bytes(sig[:32], "big")
        s = int.from_bytes(sig[32:64], "big")
        parity = sig[64]
        if s > _HALF_N:  # libsecp256k1 already normalises; kept as a guard
            s = SECP256K1_N - s
            parity ^= 1
        return compact_signature(r, s, parity)
