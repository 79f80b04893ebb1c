"""Typed records of every event of the registry contracts, and a decoder for raw logs.

Each record is a dataclass named after its event (registered with the decoder of
:mod:`registry.chain._decoding`), whose fields are the event's inputs in
snake_case, plus a :class:`LogMeta` (block, transaction, log index), so a mirror can rebuild the
registries from logs alone. Decoding is driven by the shipped ABIs alone: the decoder reads each
event's inputs from the ABI and refuses an ABI whose event has no record here or whose inputs are
not the record's fields, so the declarations below cannot drift from the contracts.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.chain._decoding import EVENT_TYPES, EventDecoder, LogMeta, RegistryEvent, _event, snake_case

__all__ = [
    "EVENT_TYPES",
    "BatchAnchored",
    "CoApprovalPolicySet",
    "CoSigningKeyAdded",
    "CoSigningKeyCompromised",
    "CoSigningKeyRetired",
    "CoSigningKeyRotated",
    "EIP712DomainChanged",
    "EventDecoder",
    "IssuerActiveSet",
    "IssuerProfileUpdated",
    "IssuerRegionAllowed",
    "IssuerRegistered",
    "JointAnchored",
    "KeyAdded",
    "KeyCompromiseWalkTruncated",
    "KeyCompromised",
    "KeyRetired",
    "KeyRotated",
    "LicenseTypePermitted",
    "LicensesReinstated",
    "LicensesRevoked",
    "LicensesSuperseded",
    "LicensesSuspended",
    "LogMeta",
    "RegionAdded",
    "RegionAuthorityAdded",
    "RegionAuthorityRemoved",
    "RegistryEvent",
    "RoleAdminChanged",
    "RoleGranted",
    "RoleRevoked",
    "Sm2KeyBound",
    "StatusChangesVoided",
    "snake_case",
]


@_event
@dataclass(frozen=True, slots=True)
class RoleGranted(RegistryEvent):
    role: bytes
    account: str
    sender: str


@_event
@dataclass(frozen=True, slots=True)
class RoleRevoked(RegistryEvent):
    role: bytes
    account: str
    sender: str


@_event
@dataclass(frozen=True, slots=True)
class RoleAdminChanged(RegistryEvent):
    role: bytes
    previous_admin_role: bytes
    new_admin_role: bytes


@_event
@dataclass(frozen=True, slots=True)
class EIP712DomainChanged(RegistryEvent):
    """ERC-5267: the EIP-712 domain changed (never emitted by this deployment; listed by the ABI)."""


@_event
@dataclass(frozen=True, slots=True)
class RegionAdded(RegistryEvent):
    region: int
    name: str


@_event
@dataclass(frozen=True, slots=True)
class RegionAuthorityAdded(RegistryEvent):
    region: int
    account: str


@_event
@dataclass(frozen=True, slots=True)
class RegionAuthorityRemoved(RegistryEvent):
    region: int
    account: str


@_event
@dataclass(frozen=True, slots=True)
class IssuerRegistered(RegistryEvent):
    issuer_id: bytes
    region: int
    name: str
    profile_hash: bytes
    profile_uri: str


@_event
@dataclass(frozen=True, slots=True)
class IssuerProfileUpdated(RegistryEvent):
    issuer_id: bytes
    name: str
    profile_hash: bytes
    profile_uri: str


@_event
@dataclass(frozen=True, slots=True)
class IssuerActiveSet(RegistryEvent):
    issuer_id: bytes
    active: bool


@_event
@dataclass(frozen=True, slots=True)
class KeyAdded(RegistryEvent):
    issuer_id: bytes
    key: str
    valid_from: int
    valid_until: int


@_event
@dataclass(frozen=True, slots=True)
class KeyRetired(RegistryEvent):
    issuer_id: bytes
    key: str
    valid_until: int


@_event
@dataclass(frozen=True, slots=True)
class KeyRotated(RegistryEvent):
    issuer_id: bytes
    old_key: str
    new_key: str
    by_self: bool


@_event
@dataclass(frozen=True, slots=True)
class KeyCompromiseWalkTruncated(RegistryEvent):
    issuer_id: bytes
    next: str


@_event
@dataclass(frozen=True, slots=True)
class KeyCompromised(RegistryEvent):
    issuer_id: bytes
    key: str
    compromised_at: int


@_event
@dataclass(frozen=True, slots=True)
class Sm2KeyBound(RegistryEvent):
    """Account ``key`` was bound to an SM2 key (right after its ``KeyAdded``): ``public_key`` X || Y,
    its ``distinguishing_id``, its ``proof`` of possession r || s (not checked on chain: a verifier
    ignores a binding whose proof fails) and an optional DER ``certificate`` (empty when none)."""

    issuer_id: bytes
    key: str
    public_key: bytes
    distinguishing_id: bytes
    proof: bytes
    certificate: bytes


@_event
@dataclass(frozen=True, slots=True)
class LicenseTypePermitted(RegistryEvent):
    issuer_id: bytes
    license_type: bytes
    valid_from: int
    valid_until: int


@_event
@dataclass(frozen=True, slots=True)
class IssuerRegionAllowed(RegistryEvent):
    """A federation admin allowed ``issuer_id`` in ``region`` outside its code's division (0: withdrawn)."""

    issuer_id: bytes
    region: int


@_event
@dataclass(frozen=True, slots=True)
class CoSigningKeyAdded(RegistryEvent):
    """A co-signing (BLS12-381) key was added, its proof of possession checked on chain."""

    issuer_id: bytes
    key_id: bytes
    public_key: bytes
    valid_from: int
    valid_until: int


@_event
@dataclass(frozen=True, slots=True)
class CoSigningKeyRetired(RegistryEvent):
    issuer_id: bytes
    key_id: bytes
    valid_until: int


@_event
@dataclass(frozen=True, slots=True)
class CoSigningKeyRotated(RegistryEvent):
    issuer_id: bytes
    old_key_id: bytes
    new_key_id: bytes


@_event
@dataclass(frozen=True, slots=True)
class CoSigningKeyCompromised(RegistryEvent):
    issuer_id: bytes
    key_id: bytes
    compromised_at: int


@_event
@dataclass(frozen=True, slots=True)
class CoApprovalPolicySet(RegistryEvent):
    region: int
    license_type: bytes
    departments: tuple[bytes, ...]


@_event
@dataclass(frozen=True, slots=True)
class JointAnchored(RegistryEvent):
    """A bundle co-signed by ``departments`` (keys ``key_ids``), its aggregate checked on chain."""

    bundle_digest: bytes
    application_id: bytes
    submitter: str
    applicant: bytes
    digests: tuple[bytes, ...]
    license_types: tuple[bytes, ...]
    issuer_ids: tuple[bytes, ...]
    departments: tuple[bytes, ...]
    key_ids: tuple[bytes, ...]


@_event
@dataclass(frozen=True, slots=True)
class BatchAnchored(RegistryEvent):
    root: bytes
    issuer_id: bytes
    key: str
    digests: tuple[bytes, ...]


@_event
@dataclass(frozen=True, slots=True)
class LicensesSuspended(RegistryEvent):
    issuer_id: bytes
    actor: str
    reason: int
    digests: tuple[bytes, ...]


@_event
@dataclass(frozen=True, slots=True)
class LicensesReinstated(RegistryEvent):
    issuer_id: bytes
    actor: str
    reason: int
    digests: tuple[bytes, ...]


@_event
@dataclass(frozen=True, slots=True)
class LicensesRevoked(RegistryEvent):
    issuer_id: bytes
    actor: str
    reason: int
    digests: tuple[bytes, ...]


@_event
@dataclass(frozen=True, slots=True)
class LicensesSuperseded(RegistryEvent):
    issuer_id: bytes
    actor: str
    reason: int
    digests: tuple[bytes, ...]
    replacements: tuple[bytes, ...]


@_event
@dataclass(frozen=True, slots=True)
class StatusChangesVoided(RegistryEvent):
    issuer_id: bytes
    actor: str
    digests: tuple[bytes, ...]
