"""Exceptions of the ``registry`` package.

Every exception raised on purpose by this package derives from :class:`RegistryError`::

    RegistryError
    ├── ConfigurationError (ValueError)      bad artifact, deployment file or argument
    ├── ChainUnavailableError (ConnectionError)  the chain node cannot be reached
    ├── TransactionError                     a transaction failed without a known custom error
    └── ContractRevertError                  a contract reverted with a custom error
        ├── UnauthorizedError (PermissionError)  wrong role, wrong issuer's key, key not valid now
        │   ├── IssuerOutsideRegionError          credit code of a division outside the region
        │   └── KeyNotAcceptedError               new key without its own signed acceptance
        ├── NotFoundError (LookupError)          unknown region, issuer or key
        ├── ConflictError                        already exists (region, authority, issuer, key, batch)
        ├── InvalidArgumentError (ValueError)    zero ids, empty windows, unsorted digests, ...
        └── InvalidStateError                    final status changed again, invalid transition

A :class:`ContractRevertError` names the Solidity custom error (``error_name``) and carries its
decoded arguments (``arguments``, a dict keyed by the ABI's parameter names), whether the revert
came from the in-process EVM or from a JSON-RPC node.
"""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    """Root of every error raised by the registry package."""


class ConfigurationError(RegistryError, ValueError):
    """A configuration value, file or argument is invalid."""


class ChainUnavailableError(RegistryError, ConnectionError):
    """The chain node cannot be reached or answered with a transport error."""


class TransactionError(RegistryError):
    """A transaction failed (reverted without a known custom error, was dropped, or timed out)."""


class ContractRevertError(RegistryError):
    """A contract call reverted with a custom error of the registry contracts."""

    def __init__(self, error_name: str, arguments: dict[str, Any], *, contract: str | None = None) -> None:
        self.error_name = error_name
        self.arguments = arguments
        self.contract = contract
        rendered = ", ".join(f"{k}={_render(v)}" for k, v in arguments.items())
        super().__init__(f"{error_name}({rendered})")


class UnauthorizedError(ContractRevertError, PermissionError):
    """The caller is not allowed to do this (role, region authority, issuer key, key window)."""


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


class NotFoundError(ContractRevertError, LookupError):
    """The region, issuer or key named does not exist."""


class ConflictError(ContractRevertError):
    """The thing being created exists already."""


class InvalidArgumentError(ContractRevertError, ValueError):
    """An argument was rejected by the contract."""


class InvalidStateError(ContractRevertError):
    """The change is not allowed from the current state (for example a final license status)."""


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
    "TrustRegistryUnknownRegion": NotFoundError,
    "TrustRegistryAuthorityExists": ConflictError,
    "TrustRegistryNotRegionAuthority": UnauthorizedError,
    "TrustRegistryZeroAddress": InvalidArgumentError,
    "TrustRegistryZeroId": InvalidArgumentError,
    "TrustRegistryIssuerExists": ConflictError,
    "TrustRegistryUnknownIssuer": NotFoundError,
    "TrustRegistryKeyInUse": ConflictError,
    "TrustRegistryUnknownKey": NotFoundError,
    "TrustRegistryInvalidWindow": InvalidArgumentError,
    "TrustRegistryNotIssuerOrAuthority": UnauthorizedError,
    "TrustRegistryKeyNotValid": InvalidStateError,
    "TrustRegistryCompromiseTimeOutOfRange": InvalidArgumentError,
    "TrustRegistryKeyClosed": InvalidStateError,
    "TrustRegistryKeyIsAuthority": ConflictError,
    "TrustRegistryInvalidIssuerId": InvalidArgumentError,
    "TrustRegistryIssuerOutsideRegion": IssuerOutsideRegionError,
    "TrustRegistryKeyNotAccepted": KeyNotAcceptedError,
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
    "LicenseRegistryUnknownIssuer": NotFoundError,
    "LicenseRegistryNotIssuerOrAuthority": UnauthorizedError,
    "LicenseRegistryZeroDigest": InvalidArgumentError,
    "LicenseRegistryStatusFinal": InvalidStateError,
    "LicenseRegistryInvalidTransition": InvalidStateError,
    "LicenseRegistryLengthMismatch": InvalidArgumentError,
    "LicenseRegistryInvalidReplacement": InvalidArgumentError,
    "LicenseRegistryCommitmentsNotAscending": InvalidArgumentError,
    "LicenseRegistryStatusNotVoidable": InvalidStateError,
    "LicenseRegistryNotAuthority": UnauthorizedError,
}
