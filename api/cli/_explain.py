"""The contracts' refusals of joint issuance and of SM2 key bindings in plain words, for the command
line's one-line errors: what was refused, why, and what to do (the custom error's name follows in
brackets)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from registry.document.identifiers import uscc_from_issuer_id
from registry.document.licensetypes import CATALOG
from registry.errors import ContractRevertError

__all__ = ["EXPLAINED", "explain"]


def _hex(value: Any) -> str:
    return "0x" + value.hex() if isinstance(value, bytes) else str(value)


def _type(value: Any) -> str:
    code = value.rstrip(b"\x00").decode("ascii", errors="replace") if isinstance(value, bytes) else "?"
    ltype = CATALOG.get(code)
    return f"{code} ({ltype.zh})" if ltype else _hex(value)


class _Labels:
    """Names of departments (by issuer id) and member licenses (by digest) where the caller knows them."""

    def __init__(self, names: Mapping[bytes, str]) -> None:
        self.names = names

    def issuer(self, value: Any) -> str:
        code = uscc_from_issuer_id(value) if isinstance(value, bytes) else None
        name = self.names.get(value) if isinstance(value, bytes) else None
        label = code or _hex(value)
        return f"{label} ({name})" if name else label

    def license(self, value: Any) -> str:
        name = self.names.get(value) if isinstance(value, bytes) else None
        return name or f"the member with digest {_hex(value)}"


_Rule = Callable[[dict[str, Any], _Labels], str]

_RULES: dict[str, _Rule] = {
    "LicenseRegistryCoApprovalMissing": lambda a, n: (
        f"the chain refused the joint anchor: a co-approval policy (联合审批) of licenses of type "
        f"{_type(a['license_type'])} requires the co-signature of {n.issuer(a['issuer_id'])}, which is not "
        f"among the application's co-signing departments ({n.license(a['digest'])}); name it with "
        "`elicense joint add APP --co-approver USCC`, let every department co-sign again, then anchor"
    ),
    "LicenseRegistryCoSigningKeyNotValid": lambda a, n: (
        f"the chain refused the joint anchor: key {_hex(a['key_id'])} is not a co-signing key of "
        f"{n.issuer(a['issuer_id'])} valid now (unknown, another department's, retired or declared "
        "compromised); that department co-signs again with its current co-signing key"
    ),
    "LicenseRegistryNotParticipant": lambda a, n: (
        f"the chain refused the joint anchor: {a['sender']} is not a signing key, valid now, of one of the "
        "application's departments; anchor with a department's signing key (--keystore)"
    ),
    "LicenseRegistryInvalidAggregateSignature": lambda a, n: (
        "the chain refused the joint anchor: the departments' aggregate co-signature does not verify for "
        f"bundle {_hex(a['bundle_digest'])}"
    ),
    "LicenseRegistryJointExists": lambda a, n: f"bundle {_hex(a['bundle_digest'])} is anchored already",
    "LicenseRegistryMemberIssuerNotCoSigner": lambda a, n: (
        f"the issuer {n.issuer(a['issuer_id'])} of {n.license(a['digest'])} is not among the co-signing departments"
    ),
    "LicenseRegistryTypeNotPermitted": lambda a, n: (
        f"the chain refused the joint anchor: {n.issuer(a['issuer_id'])} may not issue {_type(a['license_type'])} now"
    ),
    "LicenseRegistryIssuerInactive": lambda a, n: (
        f"the chain refused the joint anchor: department {n.issuer(a['issuer_id'])} is inactive"
    ),
    "LicenseRegistryInvalidBundle": lambda a, n: f"the chain refused the bundle: {a['reason']}",
    "TrustRegistryInvalidProofOfPossession": lambda a, n: (
        f"the proof of possession does not prove the secret of co-signing key {_hex(a['key_id'])}: take the "
        "public key and the proof from the same `elicense keys co-signing-proof`"
    ),
    "TrustRegistryInvalidCoSigningKey": lambda a, n: "that public key is not a valid BLS12-381 co-signing key",
    "TrustRegistryCoSigningKeyInUse": lambda a, n: (
        f"co-signing key {_hex(a['key_id'])} is registered already (to {n.issuer(a['issuer_id'])}); a key is "
        "never registered twice: create a new one with `elicense keys create NAME --co-signing`"
    ),
    "TrustRegistryUnknownCoSigningKey": lambda a, n: (
        f"{n.issuer(a['issuer_id'])} has no co-signing key {_hex(a['key_id'])} on chain"
    ),
    "TrustRegistryCoSigningKeyClosed": lambda a, n: (
        f"co-signing key {_hex(a['key_id'])} of {n.issuer(a['issuer_id'])} was retired or rotated already"
    ),
    "TrustRegistryCoSigningKeyNotValid": lambda a, n: (
        f"co-signing key {_hex(a['key_id'])} of {n.issuer(a['issuer_id'])} is not valid now"
    ),
    "TrustRegistryCoSigningKeyCompromiseTimeOutOfRange": lambda a, n: (
        f"the compromise time {a['compromised_at']} is outside co-signing key {_hex(a['key_id'])}'s window "
        f"[{a['valid_from']}, {a['valid_until']})"
    ),
    "TrustRegistryTooManyDepartments": lambda a, n: (
        f"a co-approval policy names at most {a['maximum']} departments, not {a['count']}"
    ),
    "TrustRegistryInvalidSm2KeyLength": lambda a, n: (
        f"an SM2 public key is 64 bytes, the coordinates X and Y (without the 04 prefix), not {a['length']} bytes"
    ),
    "TrustRegistryInvalidSm2IdLength": lambda a, n: (
        f"an SM2 distinguishing ID is 1 to 64 bytes (default 1234567812345678), not {a['length']} bytes"
    ),
    "TrustRegistryInvalidSm2ProofLength": lambda a, n: (
        f"an SM2 proof of possession is 64 bytes, r and s (not a DER signature), not {a['length']} bytes"
    ),
    "TrustRegistrySm2CertificateTooLong": lambda a, n: (
        f"the SM2 key's certificate is {a['length']} bytes; at most {a['maximum']} bytes of DER are registered"
    ),
    "TrustRegistrySm2CoordinateOutOfRange": lambda a, n: (
        "a coordinate of that SM2 public key is not below the curve's prime p: it is not an SM2 key"
    ),
    "TrustRegistrySm2KeyNotOnCurve": lambda a, n: (
        "that SM2 public key is not a point of the SM2 curve (sm2p256v1): check that X and Y are given "
        "in that order, big-endian, and belong to an SM2 key rather than a key of another curve"
    ),
    "TrustRegistrySm2ProofOutOfRange": lambda a, n: (
        "the SM2 proof of possession is no SM2 signature: its r and s must lie between 1 and n - 1"
    ),
    "TrustRegistrySm2KeyNotAccepted": lambda a, n: (
        f"account {a['key']} has not accepted to be a key of {n.issuer(a['issuer_id'])} bound to this SM2 key: "
        "the account signs Sm2KeyAcceptance over the same SM2 public key and ID that are registered "
        "(a plain key acceptance does not do)"
    ),
}


#: The custom errors :func:`explain` puts in plain words.
EXPLAINED = frozenset(_RULES)


def explain(exc: ContractRevertError, names: Mapping[bytes, str] | None = None) -> str:
    """``exc`` in plain words (``names``: department names by issuer id, license labels by digest)."""
    rule = _RULES.get(exc.error_name)
    if rule is None:
        return str(exc)
    try:
        return f"{rule(exc.arguments, _Labels(names or {}))} ({exc.error_name})"
    except (KeyError, AttributeError, TypeError):  # arguments of another shape: the raw error says it all
        return str(exc)
