"""Typed records of every event of the registry contracts, and a decoder for raw logs.

Each record carries all data of its event plus a :class:`LogMeta` (block, transaction, log index),
so a mirror can rebuild the registries from logs alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address

from registry.errors import ConfigurationError
from signer import keccak256

__all__ = [
    "EVENT_TYPES",
    "BatchAnchored",
    "EIP712DomainChanged",
    "EventDecoder",
    "IssuerActiveSet",
    "IssuerProfileUpdated",
    "IssuerRegionAllowed",
    "IssuerRegistered",
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
    "StatusChangesVoided",
]


@dataclass(frozen=True, slots=True)
class LogMeta:
    """Where a log sits in the chain."""

    address: str
    block_number: int
    block_hash: bytes
    transaction_hash: bytes
    log_index: int


@dataclass(frozen=True, slots=True)
class RegistryEvent:
    """Base of every event record."""

    NAME: ClassVar[str] = ""
    meta: LogMeta


@dataclass(frozen=True, slots=True)
class RoleGranted(RegistryEvent):
    NAME: ClassVar[str] = "RoleGranted"
    role: bytes
    account: str
    sender: str


@dataclass(frozen=True, slots=True)
class RoleRevoked(RegistryEvent):
    NAME: ClassVar[str] = "RoleRevoked"
    role: bytes
    account: str
    sender: str


@dataclass(frozen=True, slots=True)
class RoleAdminChanged(RegistryEvent):
    NAME: ClassVar[str] = "RoleAdminChanged"
    role: bytes
    previous_admin_role: bytes
    new_admin_role: bytes


@dataclass(frozen=True, slots=True)
class EIP712DomainChanged(RegistryEvent):
    """ERC-5267: the EIP-712 domain changed (never emitted by this deployment; listed by the ABI)."""

    NAME: ClassVar[str] = "EIP712DomainChanged"


@dataclass(frozen=True, slots=True)
class RegionAdded(RegistryEvent):
    NAME: ClassVar[str] = "RegionAdded"
    region: int
    name: str


@dataclass(frozen=True, slots=True)
class RegionAuthorityAdded(RegistryEvent):
    NAME: ClassVar[str] = "RegionAuthorityAdded"
    region: int
    account: str


@dataclass(frozen=True, slots=True)
class RegionAuthorityRemoved(RegistryEvent):
    NAME: ClassVar[str] = "RegionAuthorityRemoved"
    region: int
    account: str


@dataclass(frozen=True, slots=True)
class IssuerRegistered(RegistryEvent):
    NAME: ClassVar[str] = "IssuerRegistered"
    issuer_id: bytes
    region: int
    name: str
    profile_hash: bytes
    profile_uri: str


@dataclass(frozen=True, slots=True)
class IssuerProfileUpdated(RegistryEvent):
    NAME: ClassVar[str] = "IssuerProfileUpdated"
    issuer_id: bytes
    name: str
    profile_hash: bytes
    profile_uri: str


@dataclass(frozen=True, slots=True)
class IssuerActiveSet(RegistryEvent):
    NAME: ClassVar[str] = "IssuerActiveSet"
    issuer_id: bytes
    active: bool


@dataclass(frozen=True, slots=True)
class KeyAdded(RegistryEvent):
    NAME: ClassVar[str] = "KeyAdded"
    issuer_id: bytes
    key: str
    valid_from: int
    valid_until: int


@dataclass(frozen=True, slots=True)
class KeyRetired(RegistryEvent):
    NAME: ClassVar[str] = "KeyRetired"
    issuer_id: bytes
    key: str
    valid_until: int


@dataclass(frozen=True, slots=True)
class KeyRotated(RegistryEvent):
    NAME: ClassVar[str] = "KeyRotated"
    issuer_id: bytes
    old_key: str
    new_key: str
    by_self: bool


@dataclass(frozen=True, slots=True)
class KeyCompromiseWalkTruncated(RegistryEvent):
    NAME: ClassVar[str] = "KeyCompromiseWalkTruncated"
    issuer_id: bytes
    next: str


@dataclass(frozen=True, slots=True)
class KeyCompromised(RegistryEvent):
    NAME: ClassVar[str] = "KeyCompromised"
    issuer_id: bytes
    key: str
    compromised_at: int


@dataclass(frozen=True, slots=True)
class LicenseTypePermitted(RegistryEvent):
    NAME: ClassVar[str] = "LicenseTypePermitted"
    issuer_id: bytes
    license_type: bytes
    valid_from: int
    valid_until: int


@dataclass(frozen=True, slots=True)
class IssuerRegionAllowed(RegistryEvent):
    """A federation admin allowed ``issuer_id`` in ``region`` outside its code's division (0: withdrawn)."""

    NAME: ClassVar[str] = "IssuerRegionAllowed"
    issuer_id: bytes
    region: int


@dataclass(frozen=True, slots=True)
class BatchAnchored(RegistryEvent):
    NAME: ClassVar[str] = "BatchAnchored"
    root: bytes
    issuer_id: bytes
    key: str
    digests: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class LicensesSuspended(RegistryEvent):
    NAME: ClassVar[str] = "LicensesSuspended"
    issuer_id: bytes
    actor: str
    reason: int
    digests: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class LicensesReinstated(RegistryEvent):
    NAME: ClassVar[str] = "LicensesReinstated"
    issuer_id: bytes
    actor: str
    reason: int
    digests: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class LicensesRevoked(RegistryEvent):
    NAME: ClassVar[str] = "LicensesRevoked"
    issuer_id: bytes
    actor: str
    reason: int
    digests: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class LicensesSuperseded(RegistryEvent):
    NAME: ClassVar[str] = "LicensesSuperseded"
    issuer_id: bytes
    actor: str
    reason: int
    digests: tuple[bytes, ...]
    replacements: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class StatusChangesVoided(RegistryEvent):
    NAME: ClassVar[str] = "StatusChangesVoided"
    issuer_id: bytes
    actor: str
    digests: tuple[bytes, ...]


EVENT_TYPES: dict[str, type[RegistryEvent]] = {
    cls.NAME: cls
    for cls in (
        RoleGranted,
        RoleRevoked,
        RoleAdminChanged,
        EIP712DomainChanged,
        RegionAdded,
        RegionAuthorityAdded,
        RegionAuthorityRemoved,
        IssuerRegistered,
        IssuerProfileUpdated,
        IssuerActiveSet,
        KeyAdded,
        KeyRetired,
        KeyRotated,
        KeyCompromised,
        KeyCompromiseWalkTruncated,
        LicenseTypePermitted,
        IssuerRegionAllowed,
        BatchAnchored,
        LicensesSuspended,
        LicensesReinstated,
        LicensesRevoked,
        LicensesSuperseded,
        StatusChangesVoided,
    )
}

_CAMEL = re.compile(r"(?<=[a-z0-9])([A-Z])|(?<=[A-Z])([A-Z])(?=[a-z])")


def snake_case(name: str) -> str:
    """``profileURI`` -> ``profile_uri``, ``issuerId`` -> ``issuer_id``."""
    return _CAMEL.sub(lambda m: "_" + (m.group(1) or m.group(2)), name).lower()


def _abi_type(item: Mapping[str, Any]) -> str:
    return str(item["type"])


def _convert(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return to_checksum_address(value)
    if abi_type.endswith("[]"):
        inner = abi_type[:-2]
        return tuple(_convert(inner, v) for v in value)
    return value


@dataclass(frozen=True, slots=True)
class _EventSpec:
    cls: type[RegistryEvent]
    indexed: tuple[tuple[str, str], ...]  # (field, abi type)
    data: tuple[tuple[str, str], ...]


class EventDecoder:
    """Decodes raw logs (dicts as returned by ``eth_getLogs``) into event records."""

    def __init__(self, abis: Sequence[Sequence[Mapping[str, Any]]]) -> None:
        self._specs: dict[bytes, _EventSpec] = {}
        for abi in abis:
            for item in abi:
                if item.get("type") != "event":
                    continue
                name = str(item["name"])
                cls = EVENT_TYPES.get(name)
                if cls is None:
                    raise ConfigurationError(f"the contract ABI has an event {name} this package does not know")
                inputs = item["inputs"]
                signature = f"{name}({','.join(_abi_type(i) for i in inputs)})"
                topic = keccak256(signature.encode())
                self._specs[topic] = _EventSpec(
                    cls=cls,
                    indexed=tuple((snake_case(i["name"]), _abi_type(i)) for i in inputs if i["indexed"]),
                    data=tuple((snake_case(i["name"]), _abi_type(i)) for i in inputs if not i["indexed"]),
                )

    @property
    def topics(self) -> list[bytes]:
        """topic0 of every known event."""
        return list(self._specs)

    def decode(self, log: Mapping[str, Any]) -> RegistryEvent | None:
        """Decode one log; ``None`` when its topic0 is not one of the registry events."""
        topics = [bytes(t) for t in log["topics"]]
        if not topics:
            return None
        spec = self._specs.get(topics[0])
        if spec is None:
            return None
        if len(topics) - 1 != len(spec.indexed):
            raise ConfigurationError(f"log of {spec.cls.NAME} has {len(topics) - 1} indexed topics")
        values: dict[str, Any] = {}
        for (field, abi_type), topic in zip(spec.indexed, topics[1:], strict=True):
            (values[field],) = abi_decode([abi_type], topic)
            values[field] = _convert(abi_type, values[field])
        decoded = abi_decode([t for _, t in spec.data], bytes(log["data"]))
        for (field, abi_type), value in zip(spec.data, decoded, strict=True):
            values[field] = _convert(abi_type, value)
        meta = LogMeta(
            address=to_checksum_address(log["address"]),
            block_number=int(log["blockNumber"]),
            block_hash=bytes(log["blockHash"]),
            transaction_hash=bytes(log["transactionHash"]),
            log_index=int(log["logIndex"]),
        )
        return spec.cls(meta=meta, **values)
