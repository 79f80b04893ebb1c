"""SM2 recipes (docs/signatures.md): a department's SM2 key, its signature of a license, the key
binding's proof of possession and the account's acceptance of the binding, and the check of each.

What an SM2 key signs is always an EIP-712 *encoded message*, the 66 bytes ``0x19 0x01 ||
domainSeparator || structHash`` whose keccak256 the secp256k1 suite signs; the SM2 scheme hashes it
with SM3 after the identifier digest ``Z_A`` (GM/T 0003.2). Primitives stay in ``signer._sm2``.
"""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from tongsuopy.crypto import serialization
from tongsuopy.crypto.exceptions import UnsupportedAlgorithm

from signer import _sm2
from signer._eip712 import (
    domain_separator,
    eip712_message,
    sm2_key_acceptance_struct_hash,
    sm2_key_acceptance_typed_data,
    trust_domain_separator,
)
from signer.errors import SignerInputError

__all__ = [
    "DEFAULT_SM2_ID",
    "MAX_SM2_ID_BYTES",
    "Sm2LicenseSigner",
    "Sm2SigningKey",
    "check_sm2_public_key",
    "check_sm2_signature",
    "sign_sm2_account_acceptance",
    "sign_sm2_key_acceptance",
    "sm2_key_acceptance_message",
    "verify_sm2_key_acceptance",
    "verify_sm2_license",
    "verify_sm2_signature",
]

#: The default distinguishing identifier (GM/T 0009): ``b"1234567812345678"``.
DEFAULT_SM2_ID = _sm2.DEFAULT_ID
#: The longest distinguishing identifier taken (bytes), as the TrustRegistry contract takes it.
MAX_SM2_ID_BYTES = _sm2.MAX_ID_BYTES
_MAX_PEM_BYTES = 8 * 1024
_MAX_MESSAGE_BYTES = 4096  # a certificate's TBSCertificate; licenses and bindings are 66


def check_sm2_public_key(public_key: object) -> bytes:
    """``public_key`` when it is an SM2 public key in wire form: 64 bytes ``X || Y``, each coordinate
    below p, the point on the curve sm2p256v1; :class:`SignerInputError` saying which check failed
    otherwise."""
    _sm2.decode_public_key(public_key)
    assert isinstance(public_key, bytes)
    return public_key


def check_sm2_signature(signature: object) -> bytes:
    """``signature`` when it has an SM2 signature's wire form: 64 bytes ``r || s`` (not DER), both in
    [1, n - 1]; :class:`SignerInputError` otherwise. Only the form: whether it verifies is
    :func:`verify_sm2_signature`'s question."""
    if not isinstance(signature, bytes) or len(signature) != 64:
        got = f"{len(signature)} bytes" if isinstance(signature, bytes) else type(signature).__name__
        raise SignerInputError(f"an SM2 signature is 64 bytes r || s (not DER), got {got}")
    if _sm2.decode_signature(signature) is None:
        raise SignerInputError("an SM2 signature's r and s must lie in [1, n - 1]")
    return signature


class Sm2SigningKey:
    """A department's SM2 key pair and its distinguishing identifier. The private key stays inside:
    never in ``repr`` or ``str``; :meth:`secret_bytes` and :meth:`to_pkcs8_pem` hand it out only for a
    keystore or an export."""

    __slots__ = ("_key", "distinguishing_id", "public_key")

    def __init__(self, key: _sm2.PrivateKey, distinguishing_id: bytes = DEFAULT_SM2_ID) -> None:
        self._key = key
        #: The identifier registered with the key (1 to 64 bytes).
        self.distinguishing_id: bytes = _sm2.check_id(distinguishing_id)
        #: 64-byte public key X || Y.
        self.public_key: bytes = key.public_key

    @classmethod
    def generate(cls, distinguishing_id: bytes = DEFAULT_SM2_ID) -> Sm2SigningKey:
        """A new key drawn by Tongsuo's generator."""
        return cls(_sm2.PrivateKey.generate(), distinguishing_id)

    @classmethod
    def from_secret(cls, secret: bytes, distinguishing_id: bytes = DEFAULT_SM2_ID) -> Sm2SigningKey:
        """The key of a 32-byte big-endian private scalar in [1, n - 2]."""
        if not isinstance(secret, bytes) or len(secret) != 32:
            raise SignerInputError("an SM2 private key is 32 bytes")
        return cls(_sm2.PrivateKey.from_scalar(int.from_bytes(secret, "big")), distinguishing_id)

    @classmethod
    def from_pkcs8_pem(
        cls, pem: bytes, password: str | None = None, *, distinguishing_id: bytes = DEFAULT_SM2_ID
    ) -> Sm2SigningKey:
        """The key in a PKCS#8 PEM (``PRIVATE KEY``, or ``ENCRYPTED PRIVATE KEY`` with ``password``)."""
        if not isinstance(pem, bytes) or len(pem) > _MAX_PEM_BYTES:
            raise SignerInputError(f"a PKCS#8 PEM key is at most {_MAX_PEM_BYTES} bytes")
        text = pem.lstrip()
        encrypted = text.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        if not encrypted and not text.startswith(b"-----BEGIN PRIVATE KEY-----"):
            raise SignerInputError("not a PKCS#8 PEM key: expected BEGIN PRIVATE KEY or BEGIN ENCRYPTED PRIVATE KEY")
        if encrypted and not password:
            raise SignerInputError("the PKCS#8 key is encrypted: a password is needed")
        if not encrypted and password:
            raise SignerInputError("the PKCS#8 key is not encrypted, yet a password was given")
        try:
            key = serialization.load_pem_private_key(text, password.encode() if password else None)
        except UnsupportedAlgorithm:
            raise SignerInputError("the PKCS#8 key is not an SM2 key (curve sm2p256v1)") from None
        except (ValueError, TypeError) as exc:
            wrong = "Incorrect password" in str(exc)
            detail = "the password does not decrypt it" if wrong else "it cannot be read"
            raise SignerInputError(f"not a usable PKCS#8 SM2 key: {detail}") from None
        return cls(_sm2.PrivateKey(key), distinguishing_id)

    def to_pkcs8_pem(self, password: str | None = None) -> bytes:
        """The key as PKCS#8 PEM, encrypted with ``password`` when one is given."""
        encryption: Any = (
            serialization.BestAvailableEncryption(password.encode()) if password else serialization.NoEncryption()
        )
        pem: bytes = self._key.backend_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        )
        return pem

    def secret_bytes(self) -> bytes:
        """The 32-byte private scalar, for storing it in an encrypted keystore."""
        return self._key.scalar().to_bytes(32, "big")

    def sign(self, message: bytes) -> bytes:
        """64-byte SM2 signature ``r || s`` of ``message`` (at most 4096 bytes) under this key's identifier."""
        if not isinstance(message, bytes) or len(message) > _MAX_MESSAGE_BYTES:
            raise SignerInputError(f"an SM2 message is bytes, at most {_MAX_MESSAGE_BYTES} long")
        r, s = self._key.sign_digest(_sm2.message_digest(self.public_key, self.distinguishing_id, message))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def __repr__(self) -> str:
        return f"Sm2SigningKey(public_key=0x{self.public_key.hex()}, distinguishing_id={self.distinguishing_id!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("an SM2 signing key is not pickled; store it in a keystore")


def verify_sm2_signature(
    public_key: bytes, message: bytes, signature: bytes, distinguishing_id: bytes = DEFAULT_SM2_ID
) -> bool:
    """Whether ``signature`` (64 bytes ``r || s``) is the SM2 signature of ``message`` by
    ``public_key`` (64 bytes) with ``distinguishing_id``. A bad signature of any form is ``False``;
    a malformed key or identifier (caller's data, checked when it was registered) raises
    :class:`SignerInputError`."""
    if not isinstance(message, bytes):
        raise SignerInputError("an SM2 message is bytes")
    return _sm2.verify(public_key, distinguishing_id, message, signature)


class Sm2LicenseSigner:
    """Signs license digests for one deployment (EIP-712 domain) with one SM2 key."""

    __slots__ = ("_key", "distinguishing_id", "domain", "public_key")

    def __init__(self, key: Sm2SigningKey, *, chain_id: int, license_registry: str) -> None:
        if not isinstance(key, Sm2SigningKey):
            raise SignerInputError("Sm2LicenseSigner needs an Sm2SigningKey")
        self._key = key
        self.public_key: bytes = key.public_key
        self.distinguishing_id: bytes = key.distinguishing_id
        self.domain = domain_separator(chain_id, license_registry)

    def sign_license(self, digest: bytes) -> bytes:
        """64-byte SM2 signature of ``0x19 0x01 || domain || digest`` for the license ``digest``."""
        if not isinstance(digest, bytes) or len(digest) != 32:
            raise SignerInputError("a license digest is 32 bytes")
        return self._key.sign(eip712_message(self.domain, digest))


def verify_sm2_license(
    domain: bytes, digest: bytes, signature: bytes, public_key: bytes, distinguishing_id: bytes = DEFAULT_SM2_ID
) -> bool:
    """Whether ``signature`` is the SM2 signature of the license ``digest`` under ``domain`` by
    ``public_key`` with ``distinguishing_id``: ``False`` for any bad signature; only malformed
    caller data (domain, digest, key, identifier) raises :class:`SignerInputError`."""
    if not isinstance(domain, bytes) or not isinstance(digest, bytes):
        raise SignerInputError("the domain separator and the license digest are bytes")
    return _sm2.verify(public_key, distinguishing_id, eip712_message(domain, digest), signature)


def sm2_key_acceptance_message(
    *,
    issuer_id: bytes,
    account: str,
    sm2_public_key: bytes,
    distinguishing_id: bytes,
    chain_id: int,
    trust_registry: str,
) -> bytes:
    """The 66 bytes ``0x19 0x01 || trust registry domain || hashStruct(Sm2KeyAcceptance)`` that the
    SM2 key signs to prove possession and consent to serve ``account`` of ``issuer_id``."""
    _sm2.decode_public_key(sm2_public_key)
    _sm2.check_id(distinguishing_id)
    struct_hash = sm2_key_acceptance_struct_hash(
        issuer_id=issuer_id, key=account, sm2_public_key=sm2_public_key, distinguishing_id=distinguishing_id
    )
    return eip712_message(trust_domain_separator(chain_id, trust_registry), struct_hash)


def sign_sm2_key_acceptance(
    key: Sm2SigningKey, *, issuer_id: bytes, account: str, chain_id: int, trust_registry: str
) -> bytes:
    """The SM2 key's proof of possession (64 bytes): its signature of the binding's encoded message."""
    return key.sign(
        sm2_key_acceptance_message(
            issuer_id=issuer_id,
            account=account,
            sm2_public_key=key.public_key,
            distinguishing_id=key.distinguishing_id,
            chain_id=chain_id,
            trust_registry=trust_registry,
        )
    )


def verify_sm2_key_acceptance(
    *,
    issuer_id: bytes,
    account: str,
    sm2_public_key: bytes,
    distinguishing_id: bytes,
    proof: bytes,
    chain_id: int,
    trust_registry: str,
) -> bool:
    """Whether ``proof`` is the SM2 key's signature of its binding to ``account`` of ``issuer_id``:
    what every verifier checks before it trusts a binding read from the chain. Malformed keys or
    identifiers raise :class:`SignerInputError` (callers decide to ignore such a binding)."""
    message = sm2_key_acceptance_message(
        issuer_id=issuer_id,
        account=account,
        sm2_public_key=sm2_public_key,
        distinguishing_id=distinguishing_id,
        chain_id=chain_id,
        trust_registry=trust_registry,
    )
    return _sm2.verify(sm2_public_key, distinguishing_id, message, proof)


def sign_sm2_account_acceptance(
    account: LocalAccount,
    *,
    issuer_id: bytes,
    sm2_public_key: bytes,
    distinguishing_id: bytes,
    chain_id: int,
    trust_registry: str,
) -> bytes:
    """The account's acceptance (65-byte EIP-712 signature) of binding the SM2 key to it: the same
    typed data the SM2 key signs, checked on chain with SignatureChecker."""
    _sm2.decode_public_key(sm2_public_key)
    _sm2.check_id(distinguishing_id)
    typed = sm2_key_acceptance_typed_data(
        issuer_id=issuer_id,
        key=account.address,
        sm2_public_key=sm2_public_key,
        distinguishing_id=distinguishing_id,
        chain_id=chain_id,
        trust_registry=trust_registry,
    )
    return bytes(account.sign_typed_data(full_message=typed).signature)
