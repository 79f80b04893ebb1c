"""EIP-712 hashing: the domains of the two registry contracts and the hash a key signs."""

from __future__ import annotations

from typing import Any

from eth_utils.address import is_address, to_canonical_address, to_checksum_address

from signer._keccak import keccak256
from signer.errors import SignerInputError

__all__ = [
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "TRUST_REGISTRY_DOMAIN",
    "domain_separator",
    "eip712_hash",
    "key_acceptance_typed_data",
]

#: EIP-712 domain name and version of the license registry (``LicenseRegistry``'s constructor).
DOMAIN_NAME = "E-License Registry"
DOMAIN_VERSION = "1"
#: EIP-712 domain name and version of the trust registry (``TrustRegistry``'s constructor).
TRUST_REGISTRY_DOMAIN = ("E-License Trust Registry", "1")
_DOMAIN_TYPEHASH = keccak256(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


def domain_separator(chain_id: int, license_registry: str) -> bytes:
    """EIP-712 domain separator of a deployment's license registry."""
    return keccak256(
        _DOMAIN_TYPEHASH
        + keccak256(DOMAIN_NAME.encode())
        + keccak256(DOMAIN_VERSION.encode())
        + chain_id.to_bytes(32, "big")
        + to_canonical_address(license_registry).rjust(32, b"\x00")
    )


def eip712_hash(domain: bytes, digest: bytes) -> bytes:
    """The hash a key signs for the struct hash ``digest`` under ``domain``."""
    return keccak256(b"\x19\x01" + domain + digest)


def _address(name: str, value: object) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise SignerInputError(f"{name} must be a 0x-prefixed 20-byte address, got {value!r}")
    return to_checksum_address(value)


def key_acceptance_typed_data(*, issuer_id: bytes, key: str, chain_id: int, trust_registry: str) -> dict[str, Any]:
    """The EIP-712 message a key signs to accept becoming a key of ``issuer_id``:
    ``KeyAcceptance(bytes32 issuerId,address key)`` under the trust registry's domain."""
    if not isinstance(issuer_id, bytes) or len(issuer_id) != 32 or not any(issuer_id):
        raise SignerInputError("issuer_id must be 32 bytes, not all zero")
    if not isinstance(chain_id, int) or isinstance(chain_id, bool) or not 0 <= chain_id < 2**64:
        raise SignerInputError(f"chain_id must be an integer from 0 to 2**64 - 1, got {chain_id!r}")
    name, version = TRUST_REGISTRY_DOMAIN
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "KeyAcceptance": [{"name": "issuerId", "type": "bytes32"}, {"name": "key", "type": "address"}],
        },
        "primaryType": "KeyAcceptance",
        "domain": {
            "name": name,
            "version": version,
            "chainId": chain_id,
            "verifyingContract": _address("trust_registry", trust_registry),
        },
        "message": {"issuerId": issuer_id, "key": _address("key", key)},
    }
