"""The in-memory index of a registry's state, built from its events: :class:`EventIndex` applies
registry events (in chain order) to plain dictionaries of the records of
:mod:`registry.chain.records`, and answers what verification reads (:class:`~verifier.state.ChainState`).

Every fact comes from a chain event and is checked at its source:

- an anchor counts for a license only when made by a key of the license's own issuer (anchors are
  indexed per issuer: another department anchoring the same digest first changes nothing);
- each issuer's indexed digests are bounded (``max_anchors_per_issuer``); what a key anchors beyond
  the bound is counted (``dropped_anchors``) and not indexed, so junk anchors cannot grow every
  verifier's memory without limit, and only hurt the issuer whose key made them;
- status changes fail closed: a suspension, revocation or supersession stays in force even when the
  key that made it is later declared compromised from an earlier time (only a region authority's
  ``StatusChangesVoided`` undoes it), while a reinstatement by a key outside its window is ignored;
- type permissions keep their history: a license is permitted when its anchor time lies in the
  window that was in force at that time, so re-granting a type never changes earlier results;
- negative facts seen in blocks younger than the confirmation depth (:meth:`EventIndex.set_pending`:
  suspensions, revocations, supersessions, key compromises and retirements, signing and
  co-signing keys alike) apply at once, while positive facts (anchors, joint anchors,
  registrations, permissions, policies, reinstatements) wait for the depth;
- joint anchors and co-approval policies (:mod:`verifier._joint`): a co-signature counts only
  while its key's window, as the chain now knows it, contains the joint anchor's time;
- SM2 key bindings (:mod:`verifier._sm2keys`): kept only when the SM2 proof of possession verifies
  under the TrustRegistry's domain (``trust_domain``: chain id and TrustRegistry address).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from registry.chain.events import (
    BatchAnchored,
    CoApprovalPolicySet,
    CoSigningKeyAdded,
    CoSigningKeyCompromised,
    CoSigningKeyRetired,
    IssuerActiveSet,
    IssuerProfileUpdated,
    IssuerRegistered,
    JointAnchored,
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
    Sm2KeyBound,
    StatusChangesVoided,
)
from registry.chain.records import (
    Anchor,
    CoApprovalPolicy,
    Issuer,
    JointAnchor,
    KeyWindow,
    LicenseStatus,
    Status,
    TypePermission,
    co_signing_key_ref,
)
from registry.document._accel import frozen
from registry.errors import ConfigurationError
from signer import MerkleTree
from verifier._history import PermissionGrant, StatusChange, record_status_changes
from verifier._joint import JointFacts, key_end
from verifier._sm2keys import Sm2Binding, Sm2Keys

__all__ = [
    "DEFAULT_MAX_ANCHORS_PER_ISSUER",
    "NEGATIVE_EVENTS",
    "EventIndex",
    "Freshness",
    "PermissionGrant",
    "StatusChange",
]


@dataclass(frozen=True, slots=True)
class Freshness:
    """How current the state is: the last block applied, its time, and when the chain was last
    read successfully (``synced_at``, wall clock). The age is measured from ``synced_at`` when
    known: a quiet chain makes no blocks, yet a mirror that just read its head is current."""

    block_number: int
    block_time: int
    synced_at: float = 0.0
    block_hash: bytes = b""  # of block ``block_number`` (empty when not known)

    def age(self, now: float | None = None) -> float:
        reference = self.synced_at or self.block_time
        return max(0.0, (time.time() if now is None else now) - reference)


_ACTIVE = LicenseStatus(Status.ACTIVE, 0, None)
#: Default bound on the digests indexed per issuer (about 110 bytes of memory each).
DEFAULT_MAX_ANCHORS_PER_ISSUER = 5_000_000
#: Events whose facts only ever take something away: applied from the head block on.
NEGATIVE_EVENTS: tuple[type[RegistryEvent], ...] = (
    LicensesSuspended,
    LicensesRevoked,
    LicensesSuperseded,
    KeyCompromised,
    KeyRetired,
    CoSigningKeyCompromised,
    CoSigningKeyRetired,
)


class EventIndex:
    """Registry state rebuilt from events, in memory (see the module documentation)."""

    def __init__(
        self,
        *,
        max_anchors_per_issuer: int = DEFAULT_MAX_ANCHORS_PER_ISSUER,
        trust_domain: tuple[int, str] | None = None,
    ) -> None:
        if not 1 <= max_anchors_per_issuer <= 10**9:
            raise ConfigurationError("max_anchors_per_issuer must be from 1 to 10^9")
        self.max_anchors_per_issuer = max_anchors_per_issuer
        self.regions: dict[int, str] = {}
        self.issuers: dict[bytes, Issuer] = {}
        self.keys: dict[str, KeyWindow] = {}
        self.permissions: dict[tuple[bytes, bytes], list[PermissionGrant]] = {}
        self.batches: dict[tuple[bytes, bytes], Anchor] = {}
        # issuer id -> digest -> the issuer's first anchor of it (a tuple when several keys of the
        # issuer anchored the digest: rare, and the one by the signing key is then chosen)
        self.anchors: dict[bytes, dict[bytes, Anchor | tuple[Anchor, ...]]] = {}
        self.dropped_anchors: dict[bytes, int] = {}
        self.status_changes: dict[tuple[bytes, bytes], list[StatusChange]] = {}
        # negative facts of blocks younger than the confirmation depth, with their block numbers (a
        # fact whose block has since been applied as confirmed is not counted twice)
        self.pending_status: dict[tuple[bytes, bytes], list[tuple[int, StatusChange]]] = {}
        self.pending_key_ends: dict[str, tuple[int, int]] = {}
        self.pending_block = 0
        self.joint = JointFacts()
        self.sm2 = Sm2Keys(*(trust_domain or (None, None)))
        self.block_number = 0
        self.block_time = 0
        self.block_hash = b""
        self.synced_at = 0.0

    # -- ChainState --------------------------------------------------------------------------------

    def anchor_of(self, issuer_id: bytes, digest: bytes, signer: str | None = None) -> Anchor | None:
        by_issuer = self.anchors.get(issuer_id)
        if by_issuer is None:
            return None
        found = by_issuer.get(digest)
        if found is None or isinstance(found, Anchor):
            return found
        return next((r for r in found if r.key == signer), found[0])

    def issuer_anchors(self, issuer_id: bytes, digest: bytes) -> tuple[Anchor, ...]:
        """Every anchor of ``digest`` by a key of ``issuer_id`` (one per key, first first)."""
        found = self.anchors.get(issuer_id, {}).get(digest)
        return () if found is None else (found,) if isinstance(found, Anchor) else found

    def anchors_of_digest(self, digest: bytes) -> list[Anchor]:
        """Every issuer's first anchor of ``digest`` (a digest alone does not say whose it is)."""
        out = []
        for issuer_id in self.anchors:
            record = self.anchor_of(issuer_id, digest)
            if record is not None:
                out.append(record)
        return out

    @property
    def anchored_count(self) -> int:
        """Digests indexed, over all issuers."""
        return sum(len(d) for d in self.anchors.values())

    def issuer(self, issuer_id: bytes) -> Issuer | None:
        return self.issuers.get(issuer_id)

    def key(self, address: str) -> KeyWindow | None:
        window = self.keys.get(address)
        if window is None or not self.pending_key_ends:
            return window
        pending = self.pending_key_ends.get(address)
        if pending is None or pending[0] <= self.block_number or pending[1] >= window.valid_until:
            return window
        end = pending[1]
        return KeyWindow(window.key, window.issuer_id, window.valid_from, max(end, window.valid_from))

    def type_permission(self, issuer_id: bytes, license_type: bytes, at: int) -> TypePermission | None:
        grants = self.permissions.get((issuer_id, license_type))
        if not grants:
            return None
        in_force = None
        for grant in grants:  # in chain order; few per issuer and type
            if grant.granted_at > at:
                break
            in_force = grant.permission
        return in_force

    def current_permission(self, issuer_id: bytes, license_type: bytes) -> TypePermission | None:
        """The latest window granted (what the chain's ``getTypePermission`` returns)."""
        grants = self.permissions.get((issuer_id, license_type))
        return grants[-1].permission if grants else None

    def status(self, issuer_id: bytes, digest: bytes) -> LicenseStatus:
        """The effective status, failing closed: the chain's status changes in order, then the
        negative ones of blocks younger than the confirmation depth. A suspension, revocation or
        supersession stays in force whoever made it (a region authority voids those made by a
        compromised key); a reinstatement by a key of the issuer outside its window is ignored."""
        changes = self.status_changes.get((issuer_id, digest))
        pending = self.pending_status.get((issuer_id, digest)) if self.pending_status else None
        if not changes and not pending:
            return _ACTIVE
        effective = _ACTIVE
        younger = [c for block, c in pending if block > self.block_number] if pending else []
        for change in (*(changes or ()), *younger):
            if change.voiding:
                effective = _ACTIVE
                continue
            if effective.status.is_final:
                continue  # the chain refuses to leave a final status except by voiding
            if change.status is Status.ACTIVE:
                key = self.key(change.actor)
                if key is not None and key.issuer_id == issuer_id and not key.contains(change.time):
                    continue
            effective = LicenseStatus(change.status, change.reason, change.replacement, change.actor, change.time)
        return effective

    def freshness(self) -> Freshness:
        return frozen(Freshness, self.block_number, self.block_time, self.synced_at, self.block_hash)

    def co_signing_key(self, key_id: bytes) -> KeyWindow | None:
        return self.key(co_signing_key_ref(key_id))

    def joint_anchor(self, bundle_digest: bytes) -> JointAnchor | None:
        return self.joint.joint_anchor(bundle_digest)

    def joint_anchors_of(self, issuer_id: bytes, digest: bytes) -> list[JointAnchor]:
        return self.joint.joint_anchors_of(issuer_id, digest)

    def co_approval_policy(self, region: int, license_type: bytes, at: int) -> CoApprovalPolicy | None:
        return self.joint.policy(region, license_type, at)

    def co_signers(self, anchor: JointAnchor) -> frozenset[bytes]:
        return self.joint.co_signers(anchor, self.key)

    def sm2_candidates(self, issuer_id: bytes, anchoring: list[str]) -> list[Sm2Binding]:
        return self.sm2.candidates(issuer_id, anchoring)

    def is_sm2_account(self, address: str) -> bool:
        return address in self.sm2.sm2_accounts

    # -- applying events ---------------------------------------------------------------------------

    def apply(self, event: RegistryEvent, block_time: int) -> None:  # noqa: PLR0912 - one branch per event
        """Apply one event (events must come in chain order)."""
        if isinstance(event, RegionAdded):
            self.regions[event.region] = event.name
        elif isinstance(event, IssuerRegistered):
            self.issuers[event.issuer_id] = Issuer(
                issuer_id=event.issuer_id,
                region=event.region,
                active=True,
                name=event.name,
                profile_hash=event.profile_hash,
                profile_uri=event.profile_uri,
                region_name=self.regions.get(event.region, ""),
            )
        elif isinstance(event, IssuerProfileUpdated):
            current = self.issuers.get(event.issuer_id)
            if current is not None:
                self.issuers[event.issuer_id] = replace(
                    current, name=event.name, profile_hash=event.profile_hash, profile_uri=event.profile_uri
                )
        elif isinstance(event, IssuerActiveSet):
            current = self.issuers.get(event.issuer_id)
            if current is not None:
                self.issuers[event.issuer_id] = replace(current, active=event.active)
        elif isinstance(event, KeyAdded):
            self.keys[event.key] = KeyWindow(event.key, event.issuer_id, event.valid_from, event.valid_until)
        elif (end := key_end(event)) is not None:
            self._end_key(*end)
        elif isinstance(event, CoSigningKeyAdded):
            ref = co_signing_key_ref(event.key_id)
            self.keys[ref] = KeyWindow(ref, event.issuer_id, event.valid_from, event.valid_until)
        elif isinstance(event, CoApprovalPolicySet):
            self.joint.apply_policy(event, block_time)
        elif isinstance(event, JointAnchored):
            self.joint.apply_joint(event, block_time)
        elif isinstance(event, LicenseTypePermitted):
            permission = TypePermission(event.issuer_id, event.license_type, event.valid_from, event.valid_until)
            grants = self.permissions.setdefault((event.issuer_id, event.license_type), [])
            grants.append(PermissionGrant(block_time, permission))
        elif isinstance(event, BatchAnchored):
            self._anchor(event, block_time)
        elif isinstance(event, Sm2KeyBound):
            self.sm2.apply(event)
        elif isinstance(event, LicensesSuperseded | LicensesSuspended | LicensesReinstated | LicensesRevoked):
            record_status_changes(event, block_time, self.status_changes)
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
        record = Anchor(
            root=event.root,
            issuer_id=event.issuer_id,
            key=event.key,
            timestamp=block_time,
            block_number=event.meta.block_number,
            count=len(event.digests),
            valid=valid,
        )
        self.batches.setdefault((event.issuer_id, event.root), record)
        by_issuer = self.anchors.setdefault(event.issuer_id, {})
        room = self.max_anchors_per_issuer - len(by_issuer)
        dropped = 0
        for digest in event.digests:
            found = by_issuer.get(digest)
            if found is None:
                if room <= 0:
                    dropped += 1
                    continue
                by_issuer[digest] = record  # the issuer's first anchor of a digest is its issuance
                room -= 1
            elif isinstance(found, Anchor):
                if found.key != record.key:
                    by_issuer[digest] = (found, record)
            elif all(r.key != record.key for r in found) and len(found) < 8:
                by_issuer[digest] = (*found, record)
        if dropped:
            self.dropped_anchors[event.issuer_id] = self.dropped_anchors.get(event.issuer_id, 0) + dropped

    def set_pending(self, events: Iterable[tuple[RegistryEvent, int]], up_to_block: int) -> None:
        """Replace the facts taken from blocks younger than the confirmation depth (up to
        ``up_to_block``): only the negative ones of ``events`` (see :data:`NEGATIVE_EVENTS`) count."""
        status: dict[tuple[bytes, bytes], list[tuple[int, StatusChange]]] = {}
        key_ends: dict[str, tuple[int, int]] = {}
        for event, block_time in events:
            block = event.meta.block_number
            if isinstance(event, LicensesSuspended | LicensesRevoked | LicensesSuperseded):
                changes: dict[tuple[bytes, bytes], list[StatusChange]] = {}
                record_status_changes(event, block_time, changes)
                for key, listed in changes.items():
                    status.setdefault(key, []).extend((block, c) for c in listed)
            elif (ended := key_end(event)) is not None:
                ref, end = ended
                earlier = key_ends.get(ref)
                key_ends[ref] = (block, end) if earlier is None or end < earlier[1] else earlier
        self.pending_status = status
        self.pending_key_ends = key_ends
        self.pending_block = up_to_block

    def advance(self, block_number: int, block_time: int, block_hash: bytes = b"") -> None:
        """Record that every event up to ``block_number`` (of hash ``block_hash``) has been applied."""
        if block_number >= self.block_number:
            self.block_number = block_number
            self.block_time = block_time
            self.block_hash = block_hash
