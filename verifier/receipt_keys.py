"""The signing identity of a verifying service that signs receipts (:mod:`verifier.receipts`): its
id and Ed25519 key, kept on disk only encrypted in the project's keystore shape (Web3 Secret
Storage v3, scrypt, file 0600, ``"kind": "ed25519-receipt"``), and the published public key a
relying department trusts."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.errors import RegistryError
from signer import DEFAULT_SCRYPT_N, KeystoreError, open_kind_keystore, read_kind_keystore, seal_kind_keystore

__all__ = [
    "KEY_KIND",
    "ReceiptError",
    "VerifierIdentity",
    "VerifierPublicKey",
    "check_service_id",
    "public_key_of",
    "read_key_file",
]

KEY_KIND: Final = "ed25519-receipt"
_WHAT = "a receipt key"
_SERVICE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")


class ReceiptError(RegistryError, ValueError):
    """A receipt, a verifier key or a receipt identity's input is not of the expected form."""

    http_status = 422
    title = "Invalid receipt"


@dataclass(frozen=True, slots=True)
class VerifierPublicKey:
    """A verifying service's published key: its id and its Ed25519 public key (32 bytes)."""

    service_id: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_service_id(self.service_id)
        if not isinstance(self.public_key, bytes) or len(self.public_key) != 32:
            raise ReceiptError("an Ed25519 public key is 32 bytes")
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key)
        except ValueError:
            raise ReceiptError("not an Ed25519 public key") from None

    @property
    def fingerprint(self) -> str:
        """The first 16 bytes of SHA-256 of the public key, in hex (32 digits)."""
        return hashlib.sha256(self.public_key).digest()[:16].hex()

    def to_dict(self) -> dict[str, str]:
        return {
            "service_id": self.service_id,
            "algorithm": "Ed25519",
            "public_key": self.public_key.hex(),
            "fingerprint": self.fingerprint,
        }

    @classmethod
    def parse(cls, text: str) -> VerifierPublicKey | bytes:
        """A published key as JSON (what ``to_dict`` gives), or a bare key as 64 hex digits (then
        only the key's bytes: a bare key trusts whichever service id the receipt names)."""
        if not isinstance(text, str) or len(text) > 4096:
            raise ReceiptError("a verifier key is a JSON object or 64 hex digits, at most 4096 characters")
        bare = text.strip().removeprefix("0x").lower()
        if re.fullmatch(r"[0-9a-f]{64}", bare):
            return cls("unnamed", bytes.fromhex(bare)).public_key
        try:
            data = json.loads(text)
        except ValueError:
            raise ReceiptError("a verifier key is a JSON object or 64 hex digits") from None
        if not isinstance(data, dict) or not isinstance(data.get("public_key"), str):
            raise ReceiptError('a verifier key\'s JSON has "service_id" and "public_key" (64 hex digits)')
        key = data["public_key"].removeprefix("0x")
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            raise ReceiptError("public_key must be 64 lower-case hex digits")
        return cls(check_service_id(data.get("service_id")), bytes.fromhex(key))


class VerifierIdentity:
    """A verifying service's signing identity. The private key is never shown (``repr`` included)
    and is written to disk only encrypted (:meth:`save`)."""

    def __init__(self, service_id: str, private_key: Ed25519PrivateKey) -> None:
        self.service_id = check_service_id(service_id)
        self._key = private_key
        raw = private_key.public_key().public_bytes_raw()
        self.public = VerifierPublicKey(self.service_id, raw)

    def __repr__(self) -> str:
        return f"VerifierIdentity({self.service_id!r}, fingerprint={self.public.fingerprint})"

    @classmethod
    def generate(cls, service_id: str) -> VerifierIdentity:
        return cls(service_id, Ed25519PrivateKey.generate())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def save(self, path: str | Path, password: str, *, scrypt_n: int = DEFAULT_SCRYPT_N) -> Path:
        """Write the key encrypted (scrypt, AES-128-CTR) at ``path``, mode 0600, never overwriting."""
        members = {"serviceId": self.service_id, "publicKey": self.public.public_key.hex()}
        secret = self._key.private_bytes_raw()
        return seal_kind_keystore(path, secret, password, kind=KEY_KIND, members=members, scrypt_n=scrypt_n)

    @classmethod
    def load(cls, path: str | Path, password: str) -> VerifierIdentity:
        read_key_file(path)  # its shape first, before scrypt
        secret, document = open_kind_keystore(path, password, kind=KEY_KIND, what=_WHAT)
        if len(secret) != 32:
            raise KeystoreError(f"{path} does not hold a 32-byte Ed25519 secret")
        identity = cls(document["serviceId"], Ed25519PrivateKey.from_private_bytes(secret))
        if document.get("publicKey") != identity.public.public_key.hex():
            raise KeystoreError(f"{path} records another public key than the secret it holds")
        return identity


def read_key_file(path: str | Path) -> dict[str, Any]:
    """A receipt keystore's JSON, checked for its shape (not decrypted)."""
    document = read_kind_keystore(path, kind=KEY_KIND, what=_WHAT)
    if not isinstance(document.get("serviceId"), str) or not isinstance(document.get("publicKey"), str):
        raise KeystoreError(f"{path} records no serviceId or publicKey")
    return document


def public_key_of(path: str | Path) -> VerifierPublicKey:
    """The published key recorded in a receipt keystore, without decrypting it."""
    document = read_key_file(path)
    key = VerifierPublicKey.parse(
        json.dumps({"service_id": document["serviceId"], "public_key": document["publicKey"]})
    )
    assert isinstance(key, VerifierPublicKey)
    return key


def check_service_id(value: object) -> str:
    if not isinstance(value, str) or not _SERVICE_ID.fullmatch(value):
        raise ReceiptError("a verifier's service id is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'")
    return value
