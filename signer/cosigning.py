"""Co-signing recipes (docs/joint.md): a department's BLS12-381 key, its proof of possession, its
signature of a bundle digest, the aggregate of the departments' signatures and its check, and the
EIP-2537 forms the contracts take. Inputs from outside are decoded strictly (``signer._bls``)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from signer import _bls
from signer._keccak import keccak256

__all__ = [
    "CoSigningKey",
    "aggregate_signatures",
    "co_signing_key_id",
    "public_key_to_eip2537",
    "signature_to_eip2537",
    "verify_co_signatures",
    "verify_proof_of_possession",
]


class CoSigningKey:
    """A department's co-signing key pair. The secret stays inside: never in ``repr`` or ``str``;
    :meth:`secret_bytes` hands it out only for a keystore."""

    __slots__ = ("_scalar", "_secret", "key_id", "public_key", "public_key_eip2537")

    def __init__(self, secret: bytes) -> None:
        self._scalar = _bls.secret_scalar(secret)
        self._secret = bytes(secret)
        point = _bls.public_key(self._scalar)
        #: 48-byte compressed public key, its 128-byte EIP-2537 form and its key id (keccak256 of the 48 bytes).
        self.public_key: bytes = point.to_compressed_bytes()
        self.public_key_eip2537: bytes = _bls.g1_to_eip2537(point)
        self.key_id: bytes = keccak256(self.public_key)

    @classmethod
    def generate(cls) -> CoSigningKey:
        """A new key with a secret drawn uniformly from [1, r) by the operating system's generator."""
        return cls((secrets.randbelow(_bls.CURVE_ORDER - 1) + 1).to_bytes(32, "big"))

    @classmethod
    def from_secret(cls, secret: bytes) -> CoSigningKey:
        """The key of a 32-byte big-endian secret in [1, r)."""
        return cls(secret)

    def secret_bytes(self) -> bytes:
        """The 32-byte secret, for storing it in an encrypted keystore."""
        return self._secret

    def proof_of_possession(self) -> bytes:
        """96-byte proof of possession (PopProve): what registering the key requires."""
        return bytes(_bls.pop_prove(self._scalar).to_compressed_bytes())

    def sign(self, message: bytes) -> bytes:
        """96-byte signature of ``message`` (at most 1024 bytes; a bundle digest is 32)."""
        return bytes(_bls.sign(self._scalar, message).to_compressed_bytes())

    def __repr__(self) -> str:
        return f"CoSigningKey(key_id=0x{self.key_id.hex()})"

    __str__ = __repr__

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a co-signing key is not pickled; store it in a keystore")


def aggregate_signatures(signatures: Sequence[bytes]) -> bytes:
    """96-byte aggregate (sum) of 1 to 16 signatures of the same message."""
    return bytes(_bls.aggregate(signatures).to_compressed_bytes())


def verify_co_signatures(public_keys: Sequence[bytes], message: bytes, aggregate: bytes) -> bool:
    """Whether ``aggregate`` is the joint signature of ``message`` by all of ``public_keys`` (1 to 16,
    48 bytes each): FastAggregateVerify. Only keys whose proofs of possession were checked may be
    trusted here. Malformed encodings raise :class:`SignerInputError`."""
    return _bls.fast_aggregate_verify(public_keys, message, aggregate)


def verify_proof_of_possession(public_key: bytes, proof: bytes) -> bool:
    """Whether ``proof`` (96 bytes) proves possession of the secret of ``public_key`` (48 bytes)."""
    return _bls.pop_verify(_bls.decode_public_key(public_key), _bls.decode_signature(proof, "a proof of possession"))


def public_key_to_eip2537(public_key: bytes) -> bytes:
    """128-byte EIP-2537 form of a 48-byte compressed public key (checked)."""
    return _bls.g1_to_eip2537(_bls.decode_public_key(public_key))


def signature_to_eip2537(signature: bytes) -> bytes:
    """256-byte EIP-2537 form of a 96-byte compressed signature or proof (checked)."""
    return _bls.g2_to_eip2537(_bls.decode_signature(signature))


def co_signing_key_id(public_key: bytes) -> bytes:
    """The key id of a 48-byte compressed public key: ``keccak256(public key)`` (the key is checked)."""
    return keccak256(_bls.decode_public_key(public_key).to_compressed_bytes())
