"""Exceptions of the ``registry`` package.

Every exception raised on purpose by this package derives from :class:`RegistryError`::

    RegistryError
    ├── ConfigurationError (ValueError)      bad artifact, deployment file or argument
    ├── ChainUnavailableError (ConnectionError)  the chain node cannot be reached
    ├── TransactionError                     a transaction failed without a known custom error
    └── ContractRevertError                  a contract reverted with a custom error
        ├── UnauthorizedError (PermissionError)  wrong role, wrong issuer's key, key not valid now
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
