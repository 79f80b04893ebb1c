"""The library's error tree (``signer``, ``registry``, ``verifier`` and the HTTP service's own)::

    ElicenseError                                  500  (signer.errors: the bottom layer)
    ├── SignerError                                500  keys, keystores, signatures
    │   ├── KeystoreError (ValueError)                  missing, malformed or unwritable keystore
    │   │   └── WrongPasswordError                      the password does not open the keystore
    │   ├── PasswordError (ValueError)                  no password available, or an unacceptable one
    │   └── SignerInputError (ValueError)          422  a digest, batch or address of the wrong form
    ├── RegistryError                              500
    │   ├── ConfigurationError (ValueError)        422  bad argument, artifact, deployment or config file
    │   ├── FieldValueError (ValueError)           422  a license field's value (field, problem, expected)
    │   ├── MalformedPresentationError (ValueError) 422 QR text that is not a presentation of this format
    │   ├── QrImageError (ValueError)              422  unreadable image, or no QR code in it
    │   ├── MirrorError                            500  the mirror's store or a snapshot is not usable
    │   ├── ReceiptError (ValueError)              422  a receipt or verifier key not of its form (verifier.receipts)
    │   ├── WebhookSignatureError (ValueError)     401  a webhook delivery that does not check out
    │   ├── NotFoundError (LookupError)            404  unknown region, issuer, key or license
    │   │   └── LicenseNotFoundError               404  no license with this id in the issuer store
    │   ├── ChainUnavailableError (ConnectionError) 503 the chain node cannot be reached
    │   ├── TransactionError                       502  a transaction failed without a known custom error
    │   └── ContractRevertError                    502  a contract reverted with a custom error
    │       ├── UnauthorizedError (PermissionError) 403 wrong role, wrong issuer's key, key not valid now
    │       │   ├── IssuerOutsideRegionError            credit code of a division outside the region
    │       │   └── KeyNotAcceptedError                 new key without its own signed acceptance
    │       │       └── Sm2KeyNotAcceptedError          nor of its binding to an SM2 key
    │       ├── RevertedNotFoundError              404  the contract does not know the region, issuer or key
    │       ├── ConflictError                      409  already exists (region, authority, issuer, key, batch)
    │       ├── InvalidArgumentError (ValueError)  422  zero ids, empty windows, unsorted digests, ...
    │       └── InvalidStateError                  409  final status changed again, invalid transition
    └── ServiceError                               500  (api.errors: the HTTP service's own refusals)
        ├── IssuerKeyRequiredError                 401  no API key, or an unknown or revoked one
        ├── ForbiddenIssuerError                   403  the API key belongs to another department
        ├── UnknownDepartmentError                 404  this service holds no signing key for it
        │   └── NoCoSigningKeyError                     nor a co-signing key (import co-signatures instead)
        ├── NotAnchoredError                       404  no anchored license has the digest
        ├── SubscriptionNotFoundError              404  no such subscription or delivery of the caller
        ├── InvalidSubscriptionError (ValueError)  422  no valid target or callback URL
        ├── TooManySubscriptionsError              409  the department's subscriptions are at the limit
        ├── NoWebhookKeyError                      503  no webhook key to seal a new subscription's secret
        ├── SealedSecretError                      500  a stored subscription secret the webhook key does not open
        ├── NotInstalledError                      404  the counter page's QR decoder is missing
        ├── SeveralAnchorsError                    409  several issuers anchored the digest
        ├── IdempotencyConflictError               409  same Idempotency-Key still running (Retry-After)
        ├── IdempotencyKeyReusedError (ValueError) 422  same Idempotency-Key, different request
        ├── InvalidApiKeyLabelError (ValueError)   422  an API key's label is too long
        ├── PayloadTooLargeError                   413  request body over the limit
        │   ├── ImageTooLargeError                      image over the limit
        │   └── BatchTooLargeError                      more QR texts than a batch takes
        ├── ServiceBusyError                       503  too many images or batches at once (Retry-After)
        │   └── BatchWorkersFailingError                the batch workers keep failing (Retry-After)
        ├── MirrorStaleError                       503  stale chain mirror, policy refuse (Retry-After)
        ├── ApplicationRefusedError                422  an application (秒批) refused, with its rules' results
        ├── NoChainClientError                     503  no chain client to send transactions with
        └── NoReceiptKeyError                      503  receipts asked of a service without a receipt key

Each class carries ``http_status`` and ``title``; the HTTP service reports any of them as problem
details with one lookup. A :class:`ContractRevertError` names the Solidity custom error
(``error_name``) and carries its decoded arguments (``arguments``, a dict keyed by the ABI's
parameter names), whether the revert came from the in-process EVM or from a JSON-RPC node.
"""

from __future__ import annotations

from typing import Any

from signer.errors import ElicenseError, KeystoreError, PasswordError, SignerError, WrongPasswordError

__all__ = [
    "ERROR_CATEGORIES",
    "ChainUnavailableError",
    "ConfigurationError",
    "ConflictError",
    "ContractRevertError",
    "ElicenseError",
    "InvalidArgumentError",
    "InvalidStateError",
    "IssuerOutsideRegionError",
    "KeyNotAcceptedError",
    "KeystoreError",
    "NotFoundError",
    "PasswordError",
    "RegistryError",
    "RevertedNotFoundError",
    "SignerError",
    "Sm2KeyNotAcceptedError",
    "TransactionError",
    "UnauthorizedError",
    "WrongPasswordError",
]


class RegistryError(ElicenseError):
    """Root of the errors of the registry package (documents, chain client, issuer side)."""

    title = "Registry error"


class ConfigurationError(RegistryError, ValueError):
    """A configuration value, file or argument is invalid."""

    http_status = 422
    title = "Invalid request"


class NotFoundError(RegistryError, LookupError):
    """The thing named (region, issuer, key, license) does not exist."""

    http_status = 404
    title = "Not found"


class ChainUnavailableError(RegistryError, ConnectionError):
    """The chain node cannot be reached or answered with a transport error."""

    http_status = 503
    title = "Chain node unavailable"


class TransactionError(RegistryError):
    """A transaction failed (reverted without a known custom error, was dropped, or timed out)."""

    http_status = 502
    title = "Transaction failed"


class ContractRevertError(RegistryError):
    """A contract call reverted with a custom error of the registry contracts."""

    http_status = 502
    title = "Transaction failed"

    def __init__(self, error_name: str, arguments: dict[str, Any], *, contract: str | None = None) -> None:
        self.error_name = error_name
        self.arguments = arguments
        self.contract = contract
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in arguments.items())
        super().__init__(f"{error_name}({rendered})")


class UnauthorizedError(ContractRevertError, PermissionError):
    """The caller is not allowed to do this (role, region authority, issuer key, key window)."""

    http_status = 403
    title = "Refused by the registry contracts"


class IssuerOutsideRegionError(UnauthorizedError):
    """A region authority tried to register a department whose credit code names an administrative
    division outside its region (``issuer_id``, ``division``, ``region``); only a federation admin
    can allow that (``RegistryClient.allow_issuer_region``)."""

    def __init__(self, error_name: str, arguments: dict[str, Any], *, contract: str | None = None) -> None:
        super().__init__(error_name, arguments, contract=contract)
        issuer_id = arguments.get("issuer_id", b"")
        code = issuer_id.rstrip(b"\x00").decode("ascii", errors="replace") if isinstance(issuer_id, bytes) else "?"
        self.issuer_id: bytes = issuer_id if isinstance(issuer_id, bytes) else b""
        self.division = int(arguments.get("division", 0))
        self.region = int(arguments.get("region", 0))
        self.args = (
            f"{self.args[0]}: the credit code {code} belongs to division {self.division:06d}, outside region "
            f"{self.region:06d}; a region registers only its own departments unless a federation admin "
            "allows the exception",
        )


class KeyNotAcceptedError(UnauthorizedError):
    """A key was added or rotated to without its acceptance: a signature by the new key of
    ``KeyAcceptance(issuer_id, key)`` under the trust registry's EIP-712 domain."""

    def __init__(self, error_name: str, arguments: dict[str, Any], *, contract: str | None = None) -> None:
        super().__init__(error_name, arguments, contract=contract)
        self.key = str(arguments.get("key", ""))
        self.args = (
            f"{self.args[0]}: key {self.key} has not accepted to be a key of this issuer (its signed "
            "acceptance is missing, by another account, or for another issuer)",
        )


class Sm2KeyNotAcceptedError(KeyNotAcceptedError):
    """A key was added or rotated to bound to an SM2 key without the account's acceptance of that
    binding: a signature by the account of ``Sm2KeyAcceptance(issuer_id, key, sm2PublicKey,
    distinguishingId)`` for this very SM2 key and ID (``key_hash``: keccak256 of the two)."""

    def __init__(self, error_name: str, arguments: dict[str, Any], *, contract: str | None = None) -> None:
        super().__init__(error_name, arguments, contract=contract)
        key_hash = arguments.get("key_hash", b"")
        self.key_hash: bytes = key_hash if isinstance(key_hash, bytes) else b""
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in arguments.items())
        self.args = (
            f"{error_name}({rendered}): account {self.key} has not accepted to be a key of this issuer bound "
            "to this SM2 key (its signed Sm2KeyAcceptance is missing, by another account, or over another SM2 "
            "key, ID or issuer)",
        )


class RevertedNotFoundError(ContractRevertError, NotFoundError):
    """The contract does not know the region, issuer or key named."""

    http_status = 404
    title = "Not found on chain"


class ConflictError(ContractRevertError):
    """The thing being created exists already."""

    http_status = 409
    title = "Conflict"


class InvalidArgumentError(ContractRevertError, ValueError):
    """An argument was rejected by the contract."""

    http_status = 422
    title = "Refused by the registry contracts"


class InvalidStateError(ContractRevertError):
    """The change is not allowed from the current state (for example a final license status)."""

    http_status = 409
    title = "Not allowed in the current state"


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value) if isinstance(value, str) else str(value)


#: Category of every custom error the contracts can raise (tests check the table is complete).
ERROR_CATEGORIES: dict[str, type[ContractRevertError]] = {
    # OpenZeppelin AccessControl
    "AccessControlUnauthorizedAccount": UnauthorizedError,
    "AccessControlBadConfirmation": InvalidArgumentError,
    # OpenZeppelin ECDSA / EIP712 (signature checks of LicenseRegistry views)
    "ECDSAInvalidSignature": InvalidArgumentError,
    "ECDSAInvalidSignatureLength": InvalidArgumentError,
    "ECDSAInvalidSignatureS": InvalidArgumentError,
    "InvalidShortString": InvalidArgumentError,
    "StringTooLong": InvalidArgumentError,
    # TrustRegistry
    "TrustRegistryInvalidRegionCode": InvalidArgumentError,
    "TrustRegistryRegionExists": ConflictError,
    "TrustRegistryUnknownRegion": RevertedNotFoundError,
    "TrustRegistryAuthorityExists": ConflictError,
    "TrustRegistryNotRegionAuthority": UnauthorizedError,
    "TrustRegistryZeroAddress": InvalidArgumentError,
    "TrustRegistryZeroId": InvalidArgumentError,
    "TrustRegistryIssuerExists": ConflictError,
    "TrustRegistryUnknownIssuer": RevertedNotFoundError,
    "TrustRegistryKeyInUse": ConflictError,
    "TrustRegistryUnknownKey": RevertedNotFoundError,
    "TrustRegistryInvalidWindow": InvalidArgumentError,
    "TrustRegistryNotIssuerOrAuthority": UnauthorizedError,
    "TrustRegistryKeyNotValid": InvalidStateError,
    "TrustRegistryCompromiseTimeOutOfRange": InvalidArgumentError,
    "TrustRegistryKeyClosed": InvalidStateError,
    "TrustRegistryKeyIsAuthority": ConflictError,
    "TrustRegistryInvalidIssuerId": InvalidArgumentError,
    "TrustRegistryIssuerOutsideRegion": IssuerOutsideRegionError,
    "TrustRegistryKeyNotAccepted": KeyNotAcceptedError,
    "TrustRegistryInvalidCoSigningKey": InvalidArgumentError,
    "TrustRegistryInvalidProofOfPossession": UnauthorizedError,
    "TrustRegistryCoSigningKeyInUse": ConflictError,
    "TrustRegistryUnknownCoSigningKey": RevertedNotFoundError,
    "TrustRegistryCoSigningKeyClosed": InvalidStateError,
    "TrustRegistryCoSigningKeyNotValid": InvalidStateError,
    "TrustRegistryCoSigningKeyCompromiseTimeOutOfRange": InvalidArgumentError,
    "TrustRegistryDepartmentsNotAscending": InvalidArgumentError,
    "TrustRegistryTooManyDepartments": InvalidArgumentError,
    "TrustRegistryInvalidSm2KeyLength": InvalidArgumentError,
    "TrustRegistryInvalidSm2IdLength": InvalidArgumentError,
    "TrustRegistryInvalidSm2ProofLength": InvalidArgumentError,
    "TrustRegistrySm2CertificateTooLong": InvalidArgumentError,
    "TrustRegistrySm2CoordinateOutOfRange": InvalidArgumentError,
    "TrustRegistrySm2KeyNotOnCurve": InvalidArgumentError,
    "TrustRegistrySm2ProofOutOfRange": InvalidArgumentError,
    "TrustRegistrySm2KeyNotAccepted": Sm2KeyNotAcceptedError,
    # BLS12381 (the pairing library of both registries)
    "BLS12381InvalidExpandInput": InvalidArgumentError,
    "BLS12381PrecompileFailed": InvalidStateError,  # a chain without EIP-2537, or a point it refused
    # LicenseRegistry
    "LicenseRegistryZeroRoot": InvalidArgumentError,
    "LicenseRegistryEmptyBatch": InvalidArgumentError,
    "LicenseRegistryBatchTooLarge": InvalidArgumentError,
    "LicenseRegistryBatchExists": ConflictError,
    "LicenseRegistryDigestsNotAscending": InvalidArgumentError,
    "LicenseRegistryRootMismatch": InvalidArgumentError,
    "LicenseRegistryUnknownKey": UnauthorizedError,
    "LicenseRegistryKeyNotValid": UnauthorizedError,
    "LicenseRegistryIssuerInactive": UnauthorizedError,
    "LicenseRegistryUnknownIssuer": RevertedNotFoundError,
    "LicenseRegistryNotIssuerOrAuthority": UnauthorizedError,
    "LicenseRegistryZeroDigest": InvalidArgumentError,
    "LicenseRegistryStatusFinal": InvalidStateError,
    "LicenseRegistryInvalidTransition": InvalidStateError,
    "LicenseRegistryLengthMismatch": InvalidArgumentError,
    "LicenseRegistryInvalidReplacement": InvalidArgumentError,
    "LicenseRegistryCommitmentsNotAscending": InvalidArgumentError,
    "LicenseRegistryStatusNotVoidable": InvalidStateError,
    "LicenseRegistryNotAuthority": UnauthorizedError,
    "LicenseRegistryInvalidBundle": InvalidArgumentError,
    "LicenseRegistryMemberIssuerNotCoSigner": InvalidArgumentError,
    "LicenseRegistryNotParticipant": UnauthorizedError,
    "LicenseRegistryCoSigningKeyNotValid": UnauthorizedError,
    "LicenseRegistryTypeNotPermitted": UnauthorizedError,
    "LicenseRegistryCoApprovalMissing": InvalidArgumentError,
    "LicenseRegistryInvalidAggregateSignature": UnauthorizedError,
    "LicenseRegistryJointExists": ConflictError,
}
