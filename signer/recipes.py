"""The signing recipes the rest of the system uses: sign a license digest, recover who signed one,
and accept becoming a key of an issuer. Primitives (keccak, EIP-712, secp256k1) stay private."""

from __future__ import annotations

from coincurve import PrivateKey
from eth_account.signers.local import LocalAccount

from signer._eip712 import domain_separator, eip712_hash, key_acceptance_typed_data
from signer._secp256k1 import recover_address, sign_compact
from signer.errors import SignerInputError

__all__ = ["LicenseSigner", "recover_signer", "sign_key_acceptance"]


class LicenseSigner:
    """Signs license digests for one deployment (EIP-712 domain) with one issuer key."""

    __slots__ = ("_key", "address", "domain")

    def __init__(self, account: LocalAccount, *, chain_id: int, license_registry: str) -> None:
        self._key = PrivateKey(bytes(account.key))
        self.address: str = account.address
        self.domain = domain_separator(chain_id, license_registry)

    def sign_license(self, digest: bytes) -> bytes:
        """64-byte compact (EIP-2098) signature of the EIP-712 hash of the license ``digest``."""
        if len(digest) != 32:
            raise SignerInputError("a license digest is 32 bytes")
        return sign_compact(self._key, eip712_hash(self.domain, digest))


def recover_signer(domain: bytes, digest: bytes, signature: bytes) -> str | None:
    """Address that made ``signature`` (64-byte compact) over the EIP-712 hash of the license
    ``digest`` under ``domain``; ``None`` when it is not a valid canonical signature."""
    return recover_address(eip712_hash(domain, digest), signature)


def sign_key_acceptance(account: LocalAccount, *, issuer_id: bytes, chain_id: int, trust_registry: str) -> bytes:
    """``account``'s acceptance (65-byte signature) of becoming a key of ``issuer_id`` in the trust
    registry at ``trust_registry`` on chain ``chain_id``: what ``addKey`` and ``rotateKey`` require
    of the new key. A department makes it with its own keystore and hands it to its authority."""
    typed = key_acceptance_typed_data(
        issuer_id=issuer_id, key=account.address, chain_id=chain_id, trust_registry=trust_registry
    )
    return bytes(account.sign_typed_data(full_message=typed).signature)
