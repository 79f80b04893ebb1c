"""The chain state a verifier reads, and an in-memory index of it built from registry events.

:class:`ChainState` is the one interface the verification pipeline uses. :class:`EventIndex` applies
registry events (in chain order) to plain dictionaries; :class:`ChainClientState` keeps an
:class:`EventIndex` in step with a chain through the chain client. The persistent mirror keeps the
same index in a database.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from registry import Deployment, RegistryClient
from registry.events import (
    BatchAnchored,
    IssuerActiveSet,
    IssuerProfileUpdated,
    IssuerRegistered,
    KeyAdded,
    KeyCompromised,
    KeyRetired,
    LicensesReinstated,
    LicensesRevoked,
    LicensesSuperseded,
    LicensesSuspended,
    LicenseTypePermitted,
    RegionAdded,
    RegistryEvent,
    StatusChangesVoided,
)
from registry.merkle import MerkleTree
from registry.records import KeyWindow, LicenseStatus, Status, TypePermission

__all__ = [
    "AnchorRecord",
    "ChainClientState",
    "ChainState",
    "EventIndex",
    "Freshness",
    "IssuerRecord",
    "StatusChange",
]


@dataclass(frozen=True, slots=True)
class AnchorRecord:
    """The batch a digest was anchored in."""

    root: bytes
    issuer_id: bytes
    key: str
    timestamp: int
    block_number: int
    count: int
    valid: bool = True  # False when the published digests do not rebuild the root


@dataclass(frozen=True, slots=True)
class IssuerRecord:
    issuer_id: bytes
    region: int
    region_name: str
    name: str
    active: bool
    profile_uri: str


@dataclass(frozen=True, slots=True)
class Freshness:
    """How current the state is: the last block applied, its time, and when the chain was last
    read successfully (``synced_at``, wall clock). The age is measured from ``synced_at`` when
    known: a quiet chain makes no blocks, yet a mirror that just read its head is current."""

    block_number: int
    block_time: int
    synced_at: float = 0.0

    def age(self, now: float | None = None) -> float:
        reference = self.synced_at or self.block_time
        return max(0.0, (time.time() if now is None else now) - reference)


class ChainState(Protocol):
    """What verification reads. Implementations must not call the issuer."""

    def anchor_of(self, digest: bytes) -> AnchorRecord | None: ...

    def issuer(self, issuer_id: bytes) -> IssuerRecord | None: ...

    def key(self, address: str) -> KeyWindow | None: ...

    def type_permission(self, issuer_id: bytes, license_type: bytes) -> TypePermission | None: ...

    def status(self, issuer_id: bytes, digest: bytes) -> LicenseStatus: ...

    def freshness(self) -> Freshness: ...


_ACTIVE = LicenseStatus(Status.ACTIVE, 0, None)


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One status change of a license as the chain recorded it."""

    status: Status
    reason: int
    replacement: bytes | None
    actor: str
    time: int
    voiding: bool = False  # a region authority's StatusChangesVoided


class EventIndex:
    """Registry state rebuilt from events, in memory."""

    def __init__(self) -> None:
        self.regions: dict[int, str] = {}
        self.issuers: dict[bytes, IssuerRecord] = {}
        self.keys: dict[str, KeyWindow] = {}
        self.permissions: dict[tuple[bytes, bytes], TypePermission] = {}
        self.batches: dict[bytes, AnchorRecord] = {}
        self.anchors: dict[bytes, AnchorRecord] = {}
        self.status_changes: dict[tuple[bytes, bytes], list[StatusChange]] = {}
        self.block_number = 0
        self.block_time = 0
        self.synced_at = 0.0

    # -- ChainState --------------------------------------------------------------------------------

    def anchor_of(self, digest: bytes) -> AnchorRecord | None:
        return self.anchors.get(digest)

    def issuer(self, issuer_id: bytes) -> IssuerRecord | None:
        return self.issuers.get(issuer_id)

    def key(self, address: str) -> KeyWindow | None:
        return self.keys.get(address)

    def type_permission(self, issuer_id: bytes, license_type: bytes) -> TypePermission | None:
        return self.permissions.get((issuer_id, license_type))

    def status(self, issuer_id: bytes, digest: bytes) -> LicenseStatus:
        """The effective status: the chain's status changes in order, leaving out those made by a
        key of the issuer outside its window (a key declared compromised from an earlier time)."""
        changes = self.status_changes.get((issuer_id, digest))
        if not changes:
            return _ACTIVE
        effective = _ACTIVE
        for change in changes:
            if change.voiding:
                effective = _ACTIVE
                continue
            key = self.keys.get(change.actor)
            if key is not None and key.issuer_id == issuer_id and not key.contains(change.time):
                continue
            effective = LicenseStatus(change.status, change.reason, change.replacement, change.actor, change.time)
        return effective

    def freshness(self) -> Freshness:
        return Freshness(self.block_number, self.block_time, self.synced_at)

    # -- applying events ---------------------------------------------------------------------------

    def apply(self, event: RegistryEvent, block_time: int) -> None:  # noqa: PLR0912 - one branch per event
        """Apply one event (events must come in chain order)."""
        if isinstance(event, RegionAdded):
            self.regions[event.region] = event.name
        elif isinstance(event, IssuerRegistered):
            self.issuers[event.issuer_id] = IssuerRecord(
                issuer_id=event.issuer_id,
                region=event.region,
                region_name=self.regions.get(event.region, ""),
                name=event.name,
                active=True,
                profile_uri=event.profile_uri,
            )
        elif isinstance(event, IssuerProfileUpdated):
            current = self.issuers.get(event.issuer_id)
            if current is not None:
                self.issuers[event.issuer_id] = replace(current, name=event.name, profile_uri=event.profile_uri)
        elif isinstance(event, IssuerActiveSet):
            current = self.issuers.get(event.issuer_id)
            if current is not None:
                self.issuers[event.issuer_id] = replace(current, active=event.active)
        elif isinstance(event, KeyAdded):
            self.keys[event.key] = KeyWindow(event.key, event.issuer_id, event.valid_from, event.valid_until)
        elif isinstance(event, KeyRetired):
            self._end_key(event.key, event.valid_until)
        elif isinstance(event, KeyCompromised):
            self._end_key(event.key, event.compromised_at)
        elif isinstance(event, LicenseTypePermitted):
            self.permissions[(event.issuer_id, event.license_type)] = TypePermission(
                event.issuer_id, event.license_type, event.valid_from, event.valid_until
            )
        elif isinstance(event, BatchAnchored):
            self._anchor(event, block_time)
        elif isinstance(event, LicensesSuspended):
            self._set(
                event.issuer_id, event.digests, Status.SUSPENDED, event.reason, actor=event.actor, time_=block_time
            )
        elif isinstance(event, LicensesReinstated):
            self._set(event.issuer_id, event.digests, Status.ACTIVE, event.reason, actor=event.actor, time_=block_time)
        elif isinstance(event, LicensesRevoked):
            self._set(event.issuer_id, event.digests, Status.REVOKED, event.reason, actor=event.actor, time_=block_time)
        elif isinstance(event, LicensesSuperseded):
            for digest, replacement in zip(event.digests, event.replacements, strict=True):
                change = StatusChange(Status.SUPERSEDED, event.reason, replacement, event.actor, block_time)
                self.status_changes.setdefault((event.issuer_id, digest), []).append(change)
        elif isinstance(event, StatusChangesVoided):
            for digest in event.digests:
                change = StatusChange(Status.ACTIVE, 0, None, event.actor, block_time, voiding=True)
                self.status_changes.setdefault((event.issuer_id, digest), []).append(change)
        if event.meta.block_number >= self.block_number:
            self.block_number = event.meta.block_number
            self.block_time = block_time

    def _end_key(self, key: str, until: int) -> None:
        window = self.keys.get(key)
        if window is not None:
            self.keys[key] = KeyWindow(window.key, window.issuer_id, window.valid_from, until)

    def _anchor(self, event: BatchAnchored, block_time: int) -> None:
        try:
            valid = MerkleTree(list(event.digests)).root == event.root
        except ValueError:
            valid = False
        record = AnchorRecord(
            root=event.root,
            issuer_id=event.issuer_id,
            key=event.key,
            timestamp=block_time,
            block_number=event.meta.block_number,
            count=len(event.digests),
            valid=valid,
        )
        self.batches[event.root] = record
        for digest in event.digests:
            self.anchors.setdefault(digest, record)  # the first anchor of a digest is its issuance

    def _set(
        self, issuer_id: bytes, digests: Iterable[bytes], status: Status, reason: int, *, actor: str, time_: int
    ) -> None:
        for digest in digests:
            change = StatusChange(status, reason, None, actor, time_)
            self.status_changes.setdefault((issuer_id, digest), []).append(change)

    def advance(self, block_number: int, block_time: int) -> None:
        """Record that every event up to ``block_number`` has been applied."""
        if block_number >= self.block_number:
            self.block_number = block_number
            self.block_time = block_time


class ChainClientState(EventIndex):
    """An :class:`EventIndex` kept in step with a chain through the chain client (``sync``)."""

    def __init__(self, client: RegistryClient) -> None:
        super().__init__()
        self.client = client
        self._next_block = client.deployment.block_number
        self._block_times: dict[int, int] = {}

    @property
    def deployment(self) -> Deployment:
        return self.client.deployment

    def _time_of(self, block_number: int) -> int:
        if block_number not in self._block_times:
            block = self.client.w3.eth.get_block(block_number)
            self._block_times[block_number] = int(block["timestamp"])
        return self._block_times[block_number]

    def sync(self) -> int:
        """Apply every event since the last sync; returns how many were applied."""
        head = self.client.block_number()
        if head < self._next_block:
            self.synced_at = time.time()
            return 0
        events = self.client.get_events(self._next_block, head)
        for event in events:
            self.apply(event, self._time_of(event.meta.block_number))
        self.advance(head, self._time_of(head))
        self.synced_at = time.time()
        self._next_block = head + 1
        self._block_times.clear()
        return len(events)
