"""Co-approval (联合审批) of one license: which departments a region's policy requires for its type,
and which of them co-signed a joint anchor holding it (see :mod:`verifier._joint` for the facts)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.document.identifiers import uscc_from_issuer_id
from registry.document.licensetypes import LicenseType
from verifier.results import CoApproval, Department, Reason

if TYPE_CHECKING:
    from verifier.state import ChainState

__all__ = ["co_approval_reason", "department", "evaluate_co_approval"]


def evaluate_co_approval(
    state: ChainState, region: int, license_type: bytes, issuer_id: bytes, digest: bytes, *, at: int
) -> CoApproval | None:
    """The co-approval a license needs and has: None when no policy was in force for its type in its
    issuer's region at ``at`` (its anchoring time); else the policy's departments, each marked
    approved when one joint anchor holding the license counts its co-signature (the anchor that
    covers the most of them is the one reported)."""
    policy = state.co_approval_policy(region, license_type, at)
    if policy is None:
        return None
    required = policy.departments
    best: tuple[frozenset[bytes], bytes | None] = (frozenset(), None)
    for anchor in state.joint_anchors_of(issuer_id, digest):
        member = anchor.member(issuer_id, digest)
        if member is None or member.license_type != license_type:
            continue
        signed = state.co_signers(anchor) & frozenset(required)
        if best[1] is None or len(signed) > len(best[0]):
            best = (signed, anchor.bundle_digest)
    return CoApproval(tuple(department(state, d, d in best[0]) for d in required), best[1])


def department(state: ChainState, issuer_id: bytes, approved: bool) -> Department:
    issuer = state.issuer(issuer_id)
    return Department(uscc_from_issuer_id(issuer_id) or "0x" + issuer_id.hex(), issuer.name if issuer else "", approved)


def co_approval_reason(co_approval: CoApproval, license_type: LicenseType) -> Reason:
    missing = co_approval.missing
    zh = "、".join(d.name or d.uscc for d in missing)
    en = ", ".join(f"{d.name or 'unregistered department'} ({d.uscc})" for d in missing)
    return Reason(
        "co_approval_missing",
        f"{license_type.zh}须经联合审批，链上没有{zh}的会签",
        f"a {license_type.en.lower()} needs joint approval; the chain holds no co-signature by {en}",
    )
