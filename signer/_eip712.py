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
    "eip712_message",
    "key_acceptance_typed_data",
    "sm2_key_acceptance_struct_hash",
    "sm2_key_acceptance_typed_data",
    "trust_domain_separator",
]

#: EIP-712 domain name and version of the license registry (``LicenseRegistry``'s constructor).
DOMAIN_NAME = "E-License Registry"
DOMAIN_VERSION = "1"
#: EIP-712 domain name and version of the trust registry (``TrustRegistry``'s constructor).
TRUST_REGISTRY_DOMAIN = ("E-License Trust Registry", "1")
_DOMAIN_TYPEHASH = keccak256(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")


_SM2_KEY_ACCEPTANCE_TYPEHASH = keccak256(
    b"Sm2KeyAcceptance(bytes32 issuerId,address key,bytes sm2PublicKey,bytes distinguishingId)"
)


def _domain(name: str, version: str, chain_id: int, contract: str) -> bytes:
    return keccak256(
        _DOMAIN_TYPEHASH
        + keccak256(name.encode())
        + keccak256(version.encode())
        + chain_id.to_bytes(32, "big")
        + to_canonical_address(contract).rjust(32, b"\x00")
    )


def domain_separator(chain_id: int, license_registry: str) -> bytes:
    """EIP-712 domain separator of a deployment's license registry."""
    return _domain(DOMAIN_NAME, DOMAIN_VERSION, chain_id, license_registry)


def trust_domain_separator(chain_id: int, trust_registry: str) -> bytes:
    """EIP-712 domain separator of a deployment's trust registry (what key acceptances are signed under)."""
    _check_chain_id(chain_id)
    return _domain(*TRUST_REGISTRY_DOMAIN, chain_id, _address("trust_registry", trust_registry))


def eip712_message(domain: bytes, digest: bytes) -> bytes:
    """The 66-byte EIP-712 encoded message ``0x19 0x01 || domain || digest``: what an SM2 key signs
    (the secp256k1 suite signs its keccak256, :func:`eip712_hash`)."""
    if len(domain) != 32 or len(digest) != 32:
        raise SignerInputError("an EIP-712 domain separator and struct hash are 32 bytes each")
    return b"\x19\x01" + domain + digest


def eip712_hash(domain: bytes, digest: bytes) -> bytes:
    """The hash a key signs for the struct hash ``digest`` under ``domain``."""
    return keccak256(b"\x19\x01" + domain + digest)


def _check_chain_id(chain_id: object) -> None:
    if not isinstance(chain_id, int) or isinstance(chain_id, bool) or not 0 <= chain_id < 2**64:
        raise SignerInputError(f"chain_id must be an integer from 0 to 2**64 - 1, got {chain_id!r}")


def _check_issuer_id(issuer_id: object) -> None:
    if not isinstance(issuer_id, bytes) or len(issuer_id) != 32 or not any(issuer_id):
        raise SignerInputError("issuer_id must be 32 bytes, not all zero")


def _address(name: str, value: object) -> str:
    if not isinstance(value, str) or not is_address(value):
        raise SignerInputError(f"{name} must be a 0x-prefixed 20-byte address, got {value!r}")
    return to_checksum_address(value)


def key_acceptance_typed_data(*, issuer_id: bytes, key: str, chain_id: int, trust_registry: str) -> dict[str, Any]:
    """The EIP-712 message a key signs to accept becoming a key of ``issuer_id``:
    ``KeyAcceptance(bytes32 issuerId,address key)`` under the trust registry's domain."""
    _check_issuer_id(issuer_id)
    _check_chain_id(chain_id)
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


def sm2_key_acceptance_struct_hash(
    *, issuer_id: bytes, key: str, sm2_public_key: bytes, distinguishing_id: bytes
) -> bytes:
    """``hashStruct`` of ``Sm2KeyAcceptance(bytes32 issuerId,address key,bytes sm2PublicKey,bytes
    distinguishingId)``: the two ``bytes`` members enter as the keccak256 of their content."""
    _check_issuer_id(issuer_id)
    if not isinstance(sm2_public_key, bytes) or not isinstance(distinguishing_id, bytes):
        raise SignerInputError("sm2_public_key and distinguishing_id must be bytes")
    return keccak256(
        _SM2_KEY_ACCEPTANCE_TYPEHASH
        + issuer_id
        + to_canonical_address(_address("key", key)).rjust(32, b"\x00")
        + keccak256(sm2_public_key)
        + keccak256(distinguishing_id)
    )


def sm2_key_acceptance_typed_data(
    *, issuer_id: bytes, key: str, sm2_public_key: bytes, distinguishing_id: bytes, chain_id: int, trust_registry: str
) -> dict[str, Any]:
    """The EIP-712 typed data binding an SM2 key to the account ``key`` of ``issuer_id``, under the
    trust registry's domain: the account signs it (65 bytes) and the SM2 key signs its encoded message."""
    typed = key_acceptance_typed_data(issuer_id=issuer_id, key=key, chain_id=chain_id, trust_registry=trust_registry)
    if not isinstance(sm2_public_key, bytes) or not isinstance(distinguishing_id, bytes):
        raise SignerInputError("sm2_public_key and distinguishing_id must be bytes")
    del typed["types"]["KeyAcceptance"]
    typed["types"]["Sm2KeyAcceptance"] = [
        {"name": "issuerId", "type": "bytes32"},
        {"name": "key", "type": "address"},
        {"name": "sm2PublicKey", "type": "bytes"},
        {"name": "distinguishingId", "type": "bytes"},
    ]
    typed["primaryType"] = "Sm2KeyAcceptance"
    typed["message"]["sm2PublicKey"] = sm2_public_key
    typed["message"]["distinguishingId"] = distinguishing_id
    return typed
