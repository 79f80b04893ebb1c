"""The SM2 suite's part of the chain client: a department's signing key (its anchoring account)
bound to an SM2 public key (``addSm2Key``, ``rotateSm2Key``), and reading a binding back.

The account's window (rotation, retirement, compromise) is the SM2 key's window. The contract
checks the registration's shape (lengths, coordinates below p, the point on the curve, the proof's
r and s in [1, n - 1]) and the account's acceptance; it cannot check SM2 signatures, so every
verifier checks the proof of possession (the SM2 key's signature of :func:`sm2_key_acceptance_message`)
before it counts a binding. The same shape checks run here before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from registry.chain import _args as check
from registry.chain._contracts import ContractCalls
from registry.chain.records import OPEN_END
from registry.chain.transport import TxResult
from registry.errors import ConfigurationError
from signer import (  # the curve's constants and wire-form checks live in the signer, once
    DEFAULT_SM2_ID,
    MAX_CERTIFICATE_BYTES,
    MAX_SM2_ID_BYTES,
    SignerInputError,
    check_sm2_public_key,
    check_sm2_signature,
    keccak256,
    sign_sm2_account_acceptance,
    sm2_key_acceptance_message,
)

__all__ = [
    "DEFAULT_SM2_ID",
    "MAX_SM2_CERTIFICATE_BYTES",
    "MAX_SM2_ID_BYTES",
    "Sm2KeyCalls",
    "Sm2KeyRegistration",
]

MAX_SM2_CERTIFICATE_BYTES = MAX_CERTIFICATE_BYTES


@dataclass(frozen=True, slots=True, kw_only=True)
class Sm2KeyRegistration:
    """An SM2 key as registered with the account it is bound to: ``public_key`` X || Y (64 bytes,
    big-endian), its ``distinguishing_id`` (1 to 64 bytes), its ``proof`` of possession r || s (64
    bytes) and an optional DER X.509 ``certificate`` (at most 2,048 bytes). Checked on creation as
    the contract checks it (with the signer's own checks of the wire forms), so a malformed
    registration is refused before it is sent."""

    public_key: bytes
    proof: bytes
    distinguishing_id: bytes = DEFAULT_SM2_ID
    certificate: bytes = b""

    def __post_init__(self) -> None:
        for name in ("public_key", "proof", "distinguishing_id", "certificate"):
            if not isinstance(getattr(self, name), bytes):
                raise ConfigurationError(f"the SM2 {name.replace('_', ' ')} must be bytes")
        if len(self.public_key) != 64:
            raise ConfigurationError(
                f"an SM2 public key is 64 bytes X || Y (without the 04 prefix), got {len(self.public_key)} bytes"
            )
        if not 1 <= len(self.distinguishing_id) <= MAX_SM2_ID_BYTES:
            raise ConfigurationError(
                f"an SM2 distinguishing ID is 1 to {MAX_SM2_ID_BYTES} bytes, got {len(self.distinguishing_id)}"
            )
        if len(self.proof) != 64:
            raise ConfigurationError(f"an SM2 proof is 64 bytes r || s (not DER), got {len(self.proof)} bytes")
        if len(self.certificate) > MAX_SM2_CERTIFICATE_BYTES:
            raise ConfigurationError(
                f"an SM2 key's certificate is at most {MAX_SM2_CERTIFICATE_BYTES} bytes (DER), "
                f"got {len(self.certificate)}"
            )
        try:
            check_sm2_public_key(self.public_key)
        except SignerInputError as exc:
            raise ConfigurationError(str(exc)) from None
        try:
            check_sm2_signature(self.proof)
        except SignerInputError:
            raise ConfigurationError("the SM2 proof's r and s must lie in [1, n - 1]") from None

    @property
    def key_hash(self) -> bytes:
        """keccak256(public_key || distinguishing_id): what the contract records for the binding."""
        return keccak256(self.public_key + self.distinguishing_id)

    def as_abi(self) -> tuple[bytes, bytes, bytes, bytes]:
        """The ``Sm2KeyRegistration`` struct's fields, in the contract's order."""
        return (self.public_key, self.distinguishing_id, self.proof, self.certificate)


class Sm2KeyCalls(ContractCalls):
    """Signing keys bound to SM2 keys."""

    def sm2_key_acceptance_message(
        self, issuer_id: bytes, key: str, public_key: bytes, distinguishing_id: bytes = DEFAULT_SM2_ID
    ) -> bytes:
        """The 66-byte EIP-712 encoded message ``0x1901 || domainSeparator || hashStruct`` of the
        binding in this deployment: what the SM2 key signs as its proof of possession (its keccak is
        the digest the account signs). :func:`signer.sm2_key_acceptance_message` computes it."""
        try:
            return sm2_key_acceptance_message(
                issuer_id=check.bytes32("issuer_id", issuer_id),
                account=check.address("key", key),
                sm2_public_key=public_key,
                distinguishing_id=distinguishing_id,
                chain_id=self.deployment.chain_id,
                trust_registry=self.trust.address,
            )
        except SignerInputError as exc:
            raise ConfigurationError(str(exc)) from None

    def sm2_key_acceptance_digest(
        self, issuer_id: bytes, key: str, public_key: bytes, distinguishing_id: bytes = DEFAULT_SM2_ID
    ) -> bytes:
        """The EIP-712 digest account ``key`` signs to accept the binding, as the contract computes it."""
        for name, value, most in (("public_key", public_key, 64), ("distinguishing_id", distinguishing_id, 64)):
            if not isinstance(value, bytes) or len(value) > most:
                raise ConfigurationError(f"{name} must be at most {most} bytes")
        fn = self.trust.functions.sm2KeyAcceptanceDigest(
            check.bytes32("issuer_id", issuer_id), check.address("key", key), public_key, distinguishing_id
        )
        return bytes(self._call(fn))

    def sm2_key_acceptance(self, account: LocalAccount, issuer_id: bytes, registration: Sm2KeyRegistration) -> bytes:
        """``account``'s acceptance (65-byte EIP-712 signature) of becoming a key of ``issuer_id``
        bound to ``registration``'s SM2 key in this deployment (:func:`signer.sign_sm2_account_acceptance`)."""
        return sign_sm2_account_acceptance(
            account,
            issuer_id=check.bytes32("issuer_id", issuer_id),
            sm2_public_key=registration.public_key,
            distinguishing_id=registration.distinguishing_id,
            chain_id=self.deployment.chain_id,
            trust_registry=self.trust.address,
        )

    def _sm2_account(
        self, name: str, issuer_id: bytes, key: str | LocalAccount, sm2: object, acceptance: bytes | None
    ) -> tuple[str, Sm2KeyRegistration, bytes]:
        if not isinstance(sm2, Sm2KeyRegistration):
            raise ConfigurationError("sm2 must be an Sm2KeyRegistration (public key, ID, proof, certificate)")
        if isinstance(key, LocalAccount):
            if acceptance is not None:
                raise ConfigurationError(f"give {name} as an account (signed here) or an acceptance, not both")
            return key.address, sm2, self.sm2_key_acceptance(key, issuer_id, sm2)
        if acceptance is None:
            raise ConfigurationError(
                f"{name} {key!r} needs its acceptance: pass the key's account, or the signature of "
                "Sm2KeyAcceptance it made elsewhere"
            )
        if not isinstance(acceptance, bytes) or not 0 < len(acceptance) <= check.MAX_ACCEPTANCE_BYTES:
            raise ConfigurationError(f"acceptance must be a signature of 1 to {check.MAX_ACCEPTANCE_BYTES} bytes")
        return check.address(name, key), sm2, acceptance

    def add_sm2_key(
        self,
        sender: LocalAccount,
        issuer_id: bytes,
        key: str | LocalAccount,
        sm2: Sm2KeyRegistration,
        *,
        valid_from: int,
        valid_until: int = OPEN_END,
        acceptance: bytes | None = None,
    ) -> TxResult:
        """Add ``key`` to ``issuer_id`` bound to the SM2 key ``sm2`` (region authorities). The
        account accepts as for ``add_key``: give its account (signed here) or its address and the
        ``acceptance`` of ``Sm2KeyAcceptance`` it signed elsewhere. Events: ``KeyAdded``, ``Sm2KeyBound``."""
        issuer_id = check.bytes32("issuer_id", issuer_id)
        address, registration, signature = self._sm2_account("key", issuer_id, key, sm2, acceptance)
        args = (
            issuer_id,
            address,
            registration.as_abi(),
            check.uint("valid_from", valid_from, check.UINT64_MAX),
            check.uint("valid_until", valid_until, check.UINT64_MAX),
            signature,
        )
        return self._transact(sender, self.trust.functions.addSm2Key(*args), _gas(200_000, registration, signature))

    def rotate_sm2_key(
        self,
        sender: LocalAccount,
        issuer_id: bytes,
        old_key: str,
        new_key: str | LocalAccount,
        sm2: Sm2KeyRegistration,
        *,
        acceptance: bytes | None = None,
    ) -> TxResult:
        """``rotate_key`` to ``new_key`` bound to the SM2 key ``sm2`` (an authority, or ``old_key``
        itself while valid; ``old_key`` may be SM2-bound or not). Events: ``KeyRetired``,
        ``KeyAdded``, ``Sm2KeyBound``, ``KeyRotated``."""
        issuer_id = check.bytes32("issuer_id", issuer_id)
        address, registration, signature = self._sm2_account("new_key", issuer_id, new_key, sm2, acceptance)
        args = (issuer_id, check.address("old_key", old_key), address, registration.as_abi(), signature)
        return self._transact(sender, self.trust.functions.rotateSm2Key(*args), _gas(340_000, registration, signature))

    def get_sm2_key(self, key: str) -> bytes | None:
        """keccak256(public key || ID) of the SM2 key bound to account ``key``; ``None`` when none.
        The registration itself is in the ``Sm2KeyBound`` event."""
        value = bytes(self._call(self.trust.functions.getSm2Key(check.address("key", key))))
        return None if value == b"\x00" * 32 else value


def _gas(base: int, registration: Sm2KeyRegistration, signature: bytes) -> int:
    """A gas limit: the work, and per byte of registration its calldata (EIP-7623 floor, 40) and its
    log data (8), per byte of acceptance its calldata."""
    size = sum(len(part) for part in registration.as_abi())
    return base + 48 * size + 40 * len(signature)
