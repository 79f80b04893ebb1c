"""The joint-issuance facts of the event index: joint anchors (bundles co-signed by several
departments, their aggregate checked on chain) and co-approval policies, with their history.

The co-signing keys' windows are kept by the index beside the signing keys' (filed under
:func:`~registry.chain.records.co_signing_key_ref`), so a compromise declared later, from a time
before a joint anchor, takes that department's co-signature out of it: the index judges every
co-signature by the key's window *now*, failing closed, as it judges signing keys.
"""

from __future__ import annotations

from collections.abc import Callable

from registry.chain.events import (
    CoApprovalPolicySet,
    CoSigningKeyCompromised,
    CoSigningKeyRetired,
    JointAnchored,
    KeyCompromised,
    KeyRetired,
    RegistryEvent,
)
from registry.chain.records import CoApprovalPolicy, JointAnchor, JointMember, KeyWindow, co_signing_key_ref

__all__ = ["MAX_JOINT_ANCHORS_PER_DIGEST", "JointFacts", "key_end"]

#: Joint anchors indexed per (issuer, digest): a license is in one application, rarely a few; more
#: are counted and ignored, so nobody grows every verifier's memory by re-bundling a license.
MAX_JOINT_ANCHORS_PER_DIGEST = 8


def key_end(event: RegistryEvent) -> tuple[str, int] | None:
    """(key reference, new end of its window) when ``event`` ends a signing or co-signing key's
    window (retirement, rotation's retirement, compromise), else None."""
    if isinstance(event, KeyRetired):
        return event.key, event.valid_until
    if isinstance(event, KeyCompromised):
        return event.key, event.compromised_at
    if isinstance(event, CoSigningKeyRetired):
        return co_signing_key_ref(event.key_id), event.valid_until
    if isinstance(event, CoSigningKeyCompromised):
        return co_signing_key_ref(event.key_id), event.compromised_at
    return None


class JointFacts:
    """Joint anchors and co-approval policies, as the chain's events recorded them."""

    def __init__(self) -> None:
        self.anchors: dict[bytes, JointAnchor] = {}
        self.by_member: dict[tuple[bytes, bytes], list[JointAnchor]] = {}
        self.policies: dict[tuple[int, bytes], list[CoApprovalPolicy]] = {}
        self.dropped = 0

    # -- applying events ---------------------------------------------------------------------------

    def apply_joint(self, event: JointAnchored, block_time: int) -> None:
        if event.bundle_digest in self.anchors:
            return  # the contract refuses a second anchor of a bundle; a replayed log changes nothing
        members = tuple(
            JointMember(digest, license_type, issuer_id)
            for digest, license_type, issuer_id in zip(
                event.digests, event.license_types, event.issuer_ids, strict=True
            )
        )
        anchor = JointAnchor(
            bundle_digest=event.bundle_digest,
            application_id=event.application_id,
            submitter=event.submitter,
            applicant=event.applicant,
            members=members,
            departments=tuple(event.departments),
            key_ids=tuple(event.key_ids),
            timestamp=block_time,
            block_number=event.meta.block_number,
        )
        self.anchors[event.bundle_digest] = anchor
        for member in members:
            listed = self.by_member.setdefault((member.issuer_id, member.digest), [])
            if len(listed) >= MAX_JOINT_ANCHORS_PER_DIGEST:
                self.dropped += 1
                continue
            listed.append(anchor)

    def apply_policy(self, event: CoApprovalPolicySet, block_time: int) -> None:
        policy = CoApprovalPolicy(event.region, event.license_type, tuple(event.departments), block_time)
        self.policies.setdefault((event.region, event.license_type), []).append(policy)

    # -- reading -----------------------------------------------------------------------------------

    def joint_anchor(self, bundle_digest: bytes) -> JointAnchor | None:
        return self.anchors.get(bundle_digest)

    def joint_anchors_of(self, issuer_id: bytes, digest: bytes) -> list[JointAnchor]:
        """The joint anchors holding ``digest`` as a license of ``issuer_id``."""
        return list(self.by_member.get((issuer_id, digest), ()))

    def policy(self, region: int, license_type: bytes, at: int) -> CoApprovalPolicy | None:
        """The co-approval policy in force at ``at`` for ``license_type`` in ``region`` (None: none, or
        ended)."""
        in_force = None
        for policy in self.policies.get((region, license_type), ()):  # in chain order
            if policy.since > at:
                break
            in_force = policy
        return in_force if in_force is not None and in_force.departments else None

    @staticmethod
    def co_signers(anchor: JointAnchor, key: Callable[[str], KeyWindow | None]) -> frozenset[bytes]:
        """The departments whose co-signature in ``anchor`` counts: made with a co-signing key of the
        department whose window (as the chain now knows it) contains the anchor's time."""
        counted = set()
        for department, key_id in zip(anchor.departments, anchor.key_ids, strict=True):
            window = key(co_signing_key_ref(key_id))
            if window is not None and window.issuer_id == department and window.contains(anchor.timestamp):
                counted.add(department)
        return frozenset(counted)
