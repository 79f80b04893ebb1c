"""Checking a joint bundle's QR code (联办码, ``LB1:``): one scan shows the applicant, every member
license with its type, issuer and standing now, and whether every department co-signed.

Steps::

    decode (strict, bounded)                                  -> malformed
    recompute every member's digest and the bundle digest (the license registry's EIP-712 domain)
    a joint anchor of that digest is in the mirror            -> not_anchored
    every department's co-signature still counts (its key's
      window, as the chain now knows it, holds the anchor)    -> co_approval_missing
    every member stands valid (below)                         -> member_not_valid
                                                              -> valid

Each member is judged as its own QR code would be, except for the signature, which a bundle does
not carry: its anchor by its own issuer stands for it (the anchoring transaction was signed by a
key of the issuer, valid at the anchor's time). A member revoked after the joint anchor shows as
revoked here too. The applicant is shown only when the joint anchor vouches for it (the digest
covers its commitment): on ``not_anchored`` nothing of the bundle's own content is shown.

Verifiers do no pairing: the contract checked the aggregate co-signature when it accepted the
joint anchor, and the mirror only holds what the chain accepted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from registry.chain.records import Anchor, Issuer, JointAnchor
from registry.chain.records import JointMember as AnchoredMember
from registry.document.catalog import CATALOG
from registry.document.identifiers import uscc_from_issuer_id
from registry.document.joint import JointBundle, JointMember
from registry.document.licensetypes import from_day_number
from verifier._coapproval import department
from verifier._standing import Standing, chain_standing, standing
from verifier.index import Freshness
from verifier.results import CHINA_TZ, CoApproval, Department, Outcome, Reason
from verifier.state import ChainState

__all__ = [
    "BUNDLE_HEADLINES",
    "BundleOutcome",
    "BundleResult",
    "MemberResult",
    "anchored_member_standing",
    "check_bundle",
    "joint_status_on_chain",
    "malformed_bundle",
]

_TYPES = {t.type_id: t for t in CATALOG.values()}


class BundleOutcome:
    """What a bundle's check answers (strings, as in JSON)."""

    VALID = "valid"
    MEMBER_NOT_VALID = "member_not_valid"
    CO_APPROVAL_MISSING = "co_approval_missing"
    NOT_ANCHORED = "not_anchored"
    MALFORMED = "malformed"


BUNDLE_HEADLINES: dict[str, tuple[str, str]] = {
    BundleOutcome.VALID: ("联办证照齐全有效", "Joint licenses: all valid"),
    BundleOutcome.MEMBER_NOT_VALID: ("联办证照中有证照状态异常", "Joint licenses: not all valid"),
    BundleOutcome.CO_APPROVAL_MISSING: ("缺少部门会签", "Joint licenses: a department's co-signature is missing"),
    BundleOutcome.NOT_ANCHORED: ("联办码未经链上联合存证", "Joint licenses: not anchored on chain"),
    BundleOutcome.MALFORMED: ("无法识别的联办码", "Not a readable joint-license QR code"),
}


@dataclass(frozen=True)
class MemberResult:
    """One member license's standing."""

    license_id: str
    license_type: str
    license_type_name: tuple[str, str]
    issuer_uscc: str
    issuer: Issuer | None
    valid_from: dt.date
    valid_to: dt.date | None
    digest: bytes
    status: Outcome
    reason: Reason
    anchor: Anchor | None = None
    co_approval: CoApproval | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "license_id": self.license_id,
            "license_type": {
                "code": self.license_type,
                "zh": self.license_type_name[0],
                "en": self.license_type_name[1],
            },
            "issuer": {
                "uscc": self.issuer_uscc,
                "name": self.issuer.name if self.issuer else None,
                "region": self.issuer.region if self.issuer else None,
            },
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "digest": "0x" + self.digest.hex(),
            "status": self.status.value,
            "reason": self.reason.to_dict(),
            "anchored_at": None if self.anchor is None else self.anchor.timestamp,
            "co_approval": None if self.co_approval is None else self.co_approval.to_dict(),
        }


@dataclass(frozen=True)
class BundleResult:
    status: str  # a BundleOutcome
    reasons: list[Reason]
    checked_at: float
    chain: Freshness | None
    application_id: str | None = None
    applicant: tuple[str, str] | None = None  # (credit code, name): only when the chain vouches for it
    bundle_digest: bytes | None = None
    joint_anchor: JointAnchor | None = None
    departments: tuple[Department, ...] = ()
    members: tuple[MemberResult, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status == BundleOutcome.VALID

    def to_dict(self) -> dict[str, Any]:
        zh, en = BUNDLE_HEADLINES[self.status]
        anchor = self.joint_anchor
        chain = None
        if self.chain is not None:
            chain = {
                "block_number": self.chain.block_number,
                "block_time": self.chain.block_time,
                "age_seconds": round(self.chain.age(self.checked_at), 1),
            }
        return {
            "kind": "bundle",
            "status": self.status,
            "headline": {"zh": zh, "en": en},
            "reasons": [r.to_dict() for r in self.reasons],
            "application_id": self.application_id,
            "applicant": None if self.applicant is None else {"uscc": self.applicant[0], "name": self.applicant[1]},
            "bundle_digest": None if self.bundle_digest is None else "0x" + self.bundle_digest.hex(),
            "joint_anchor": None
            if anchor is None
            else {
                "time": anchor.timestamp,
                "time_iso": dt.datetime.fromtimestamp(anchor.timestamp, CHINA_TZ).isoformat(),
                "block_number": anchor.block_number,
                "submitter": anchor.submitter,
            },
            "departments": [d.to_dict() for d in self.departments],
            "all_cosigned": bool(self.departments) and all(d.approved for d in self.departments),
            "members": [m.to_dict() for m in self.members],
            "chain": chain,
            "checked_at": int(self.checked_at),
        }


def malformed_bundle(detail: str, checked_at: float, chain: Freshness | None) -> BundleResult:
    return BundleResult(
        BundleOutcome.MALFORMED, [Reason("malformed", "二维码内容不是有效的联办码", detail)], checked_at, chain
    )


def check_member(state: ChainState, member: JointMember, checked_at: float) -> MemberResult:
    """A member's standing: anchored by its own issuer with a key valid then, then as a license."""
    header, digest = member.header, member.digest
    ltype = member.license_type
    base: dict[str, Any] = {
        "license_id": member.license_id.text,
        "license_type": ltype.code,
        "license_type_name": (ltype.zh, ltype.en),
        "issuer_uscc": member.license_id.issuer_uscc,
        "valid_from": from_day_number(header.valid_from),
        "valid_to": None if header.valid_to is None else from_day_number(header.valid_to),
        "digest": digest,
    }
    found = _anchored(state, member.issuer_id, digest)
    if isinstance(found, Standing):
        issuer = state.issuer(member.issuer_id)
        return MemberResult(**base, issuer=issuer, status=found.outcome, reason=found.reason, anchor=found.anchor)
    issuer, anchor = found
    judged = standing(state, issuer, header, digest, anchor=anchor, checked_at=checked_at)
    return MemberResult(
        **base,
        issuer=issuer,
        status=judged.outcome,
        reason=judged.reason,
        anchor=anchor,
        co_approval=judged.co_approval,
    )


def _anchored(state: ChainState, issuer_id: bytes, digest: bytes) -> tuple[Issuer, Anchor] | Standing:
    """The member's issuer and its anchor by that issuer with a key valid then, or the failing
    step's standing."""
    issuer = state.issuer(issuer_id)
    if issuer is None:
        reason = Reason("unknown_issuer", "发证机关未在信任登记簿中登记", "the issuer is not registered")
        return Standing(Outcome.UNKNOWN_ISSUER, reason)
    anchor = state.anchor_of(issuer_id, digest)
    if anchor is None or not anchor.valid:
        reason = Reason(
            "not_anchored",
            "该证照尚未由发证机关上链存证",
            "this license has not been anchored on chain by its issuer",
        )
        return Standing(Outcome.NOT_ANCHORED, reason)
    key = state.key(anchor.key)
    if key is None or key.issuer_id != issuer_id or not key.contains(anchor.timestamp):
        reason = Reason(
            "key_window",
            "存证所用密钥在上链时无效（可能已声明泄露或已轮换）",
            "the key that anchored it was not valid when it did (declared compromised or rotated)",
        )
        return Standing(Outcome.KEY_NOT_VALID, reason, anchor=anchor)
    return issuer, anchor


def anchored_member_standing(state: ChainState, member: AnchoredMember) -> Standing:
    """A member of a joint anchor judged on what the chain alone decides (its anchor by its own
    issuer, the key's window then, the type permitted then, co-approval, status): the bundle
    check's steps for a member, without its validity window, which only the bundle's text holds."""
    found = _anchored(state, member.issuer_id, member.digest)
    if isinstance(found, Standing):
        return found
    issuer, anchor = found
    ltype = _TYPES.get(member.license_type)
    if ltype is None:
        reason = Reason("type_not_permitted", "未知的证照类型", "a license type this verifier does not know")
        return Standing(Outcome.TYPE_NOT_PERMITTED, reason)
    return chain_standing(state, issuer, ltype, member.digest, anchor=anchor)


def joint_status_on_chain(state: ChainState, bundle_digest: bytes) -> tuple[str, list[str]]:
    """The bundle outcome the chain alone gives for ``bundle_digest`` (``valid`` meaning: valid as
    far as the chain decides; the members' validity windows are not on chain), and what failed:
    the departments whose co-signature no longer counts, or the members not in order with why."""
    joint = state.joint_anchor(bundle_digest)
    if joint is None:
        return BundleOutcome.NOT_ANCHORED, []
    counted = state.co_signers(joint)
    missing = [issuer_label(d) for d in joint.departments if d not in counted]
    if missing:
        return BundleOutcome.CO_APPROVAL_MISSING, missing
    bad = []
    for member in joint.members:
        found = anchored_member_standing(state, member)
        if found.outcome is not Outcome.VALID:
            bad.append(f"0x{member.digest.hex()} of {issuer_label(member.issuer_id)}: {found.outcome.value}")
    return (BundleOutcome.MEMBER_NOT_VALID, bad) if bad else (BundleOutcome.VALID, [])


def check_bundle(state: ChainState, bundle: JointBundle, domain: bytes, checked_at: float) -> BundleResult:
    """The bundle's result against ``state`` (``domain``: the license registry's EIP-712 domain)."""
    chain = state.freshness()
    digest = bundle.digest(domain)
    members = tuple(check_member(state, m, checked_at) for m in bundle.members)
    base: dict[str, Any] = {
        "checked_at": checked_at,
        "chain": chain,
        "application_id": bundle.application_id.text,
        "bundle_digest": digest,
        "members": members,
    }
    joint = state.joint_anchor(digest)
    if joint is None:
        departments = tuple(department(state, d, approved=False) for d in bundle.departments)
        reason = Reason(
            "not_anchored",
            "链上没有这张联办码的联合存证：各部门未共同签署此联办件，或尚未存证",
            "the chain holds no joint anchor of this bundle: its departments did not co-sign it, or not yet",
        )
        return BundleResult(BundleOutcome.NOT_ANCHORED, [reason], departments=departments, **base)
    counted = state.co_signers(joint)
    departments = tuple(department(state, d, approved=d in counted) for d in bundle.departments)
    applicant = (bundle.applicant.credit_code, bundle.applicant.name)
    vouched: dict[str, Any] = {**base, "applicant": applicant, "joint_anchor": joint, "departments": departments}
    missing = [d for d in departments if not d.approved]
    if missing:
        zh = "、".join(d.name or d.uscc for d in missing)
        en = ", ".join(f"{d.name or 'unregistered department'} ({d.uscc})" for d in missing)
        reason = Reason(
            "co_signature_void",
            f"{zh}的会签已不再有效（其会签密钥被声明泄露或已失效）",
            f"the co-signature of {en} no longer counts (its co-signing key was declared compromised)",
        )
        return BundleResult(BundleOutcome.CO_APPROVAL_MISSING, [reason], **vouched)
    bad = [m for m in members if m.status is not Outcome.VALID]
    if bad:
        zh = "；".join(f"{m.license_type_name[0]} {m.license_id}：{m.reason.zh}" for m in bad)
        en = "; ".join(f"{m.license_type_name[1]} {m.license_id}: {m.reason.en}" for m in bad)
        reason = Reason("member_not_valid", f"{len(bad)} 张证照状态异常：{zh}", f"{len(bad)} not valid: {en}")
        return BundleResult(BundleOutcome.MEMBER_NOT_VALID, [reason], **vouched)
    reason = Reason(
        "valid",
        f"{len(members)} 张证照均有效，{len(departments)} 个部门均已会签并经链上联合存证",
        f"all {len(members)} licenses valid; all {len(departments)} departments co-signed, anchored on chain",
    )
    return BundleResult(BundleOutcome.VALID, [reason], **vouched)


def issuer_label(issuer_id: bytes) -> str:
    return uscc_from_issuer_id(issuer_id) or "0x" + issuer_id.hex()
