"""What verification answers: the outcome, its reasons and headline in Chinese and English, and
the fields the chain vouches for, with their JSON-ready form."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from registry.chain.records import Anchor, Issuer
from registry.document.suites import SignatureSuite
from verifier.index import Freshness

__all__ = [
    "CHINA_TZ",
    "HEADLINES",
    "CoApproval",
    "Department",
    "DisclosedField",
    "Outcome",
    "Reason",
    "VerificationResult",
]

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")


class Outcome(enum.StrEnum):
    VALID = "valid"
    TAMPERED = "tampered"
    MALFORMED = "malformed"
    UNKNOWN_ISSUER = "unknown_issuer"
    KEY_NOT_VALID = "key_not_valid"
    TYPE_NOT_PERMITTED = "type_not_permitted"
    NOT_ANCHORED = "not_anchored"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    CO_APPROVAL_MISSING = "co_approval_missing"


#: Headline of each outcome, Chinese and English.
HEADLINES: dict[Outcome, tuple[str, str]] = {
    Outcome.VALID: ("有效", "Valid"),
    Outcome.TAMPERED: ("证照内容被篡改或签名无效", "Tampered: the content does not match the issuer's signature"),
    Outcome.MALFORMED: ("无法识别的二维码", "Not a readable e-license QR code"),
    Outcome.UNKNOWN_ISSUER: ("发证机关未登记", "Unknown issuer"),
    Outcome.KEY_NOT_VALID: ("签发密钥无效", "Signing key not valid"),
    Outcome.TYPE_NOT_PERMITTED: ("发证机关无权签发此类证照", "Issuer not permitted to issue this type"),
    Outcome.NOT_ANCHORED: ("已签发，尚未上链", "Issued, not yet anchored on chain"),
    Outcome.REVOKED: ("已吊销", "Revoked"),
    Outcome.SUSPENDED: ("已暂停", "Suspended"),
    Outcome.SUPERSEDED: ("已被新版本替代", "Superseded by a newer version"),
    Outcome.EXPIRED: ("已过期", "Expired"),
    Outcome.NOT_YET_VALID: ("尚未生效", "Not yet valid"),
    Outcome.CO_APPROVAL_MISSING: ("缺少联合审批部门的会签", "A required co-approval is missing"),
}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    zh: str
    en: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True)
class DisclosedField:
    key: str
    label_zh: str
    label_en: str
    value: str | int
    display_zh: str
    display_en: str


@dataclass(frozen=True, slots=True)
class Department:
    """A department named in a joint result: its credit code, its registered name (empty when not
    registered) and whether its approval (co-signature) is on chain."""

    uscc: str
    name: str
    approved: bool

    def to_dict(self) -> dict[str, Any]:
        return {"uscc": self.uscc, "name": self.name, "approved": self.approved}


@dataclass(frozen=True, slots=True)
class CoApproval:
    """The co-approval a license's type needs (联合审批): the departments a region's policy names, and
    the joint anchor whose co-signatures come closest to covering them."""

    departments: tuple[Department, ...]
    bundle_digest: bytes | None

    @property
    def missing(self) -> tuple[Department, ...]:
        return tuple(d for d in self.departments if not d.approved)

    def to_dict(self) -> dict[str, Any]:
        return {
            "required": [d.to_dict() for d in self.departments],
            "complete": not self.missing,
            "bundle_digest": None if self.bundle_digest is None else "0x" + self.bundle_digest.hex(),
        }


@dataclass(frozen=True)
class VerificationResult:
    status: Outcome
    reasons: list[Reason]
    checked_at: float  # UNIX seconds
    chain: Freshness | None
    license_id: str | None = None
    license_type: str | None = None
    license_type_name: tuple[str, str] | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    disclosed: list[DisclosedField] = field(default_factory=list)
    hidden_fields: int = 0
    issuer: Issuer | None = None
    issuer_uscc: str | None = None
    anchor: Anchor | None = None
    digest: bytes | None = None
    signer: str | None = None
    replacement: bytes | None = None
    co_approval: CoApproval | None = None
    suite: SignatureSuite | None = None  # of the presentation's signature
    certificate_subject: str | None = None  # of the SM2 signing key's certificate, when it holds the key

    @property
    def ok(self) -> bool:
        return self.status is Outcome.VALID

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (bytes as 0x-hex, dates ISO, times UNIX seconds)."""
        zh, en = HEADLINES[self.status]
        chain = None
        if self.chain is not None:
            chain = {
                "block_number": self.chain.block_number,
                "block_time": self.chain.block_time,
                "synced_at": round(self.chain.synced_at, 1) if self.chain.synced_at else None,
                "age_seconds": round(self.chain.age(self.checked_at), 1),
            }
        return {
            "status": self.status.value,
            "headline": {"zh": zh, "en": en},
            "reasons": [r.to_dict() for r in self.reasons],
            "license_id": self.license_id,
            "license_type": None
            if self.license_type is None
            else {"code": self.license_type, "zh": self.license_type_name[0], "en": self.license_type_name[1]}
            if self.license_type_name
            else {"code": self.license_type},
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "disclosed": [
                {
                    "key": f.key,
                    "label": {"zh": f.label_zh, "en": f.label_en},
                    "value": f.value,
                    "display": {"zh": f.display_zh, "en": f.display_en},
                }
                for f in self.disclosed
            ],
            "hidden_fields": self.hidden_fields,
            "issuer": None
            if self.issuer is None and self.issuer_uscc is None
            else {
                "uscc": self.issuer_uscc,
                "name": self.issuer.name if self.issuer else None,
                "region": self.issuer.region if self.issuer else None,
                "region_name": self.issuer.region_name if self.issuer else None,
            },
            "anchor": None
            if self.anchor is None
            else {
                "root": "0x" + self.anchor.root.hex(),
                "time": self.anchor.timestamp,
                "time_iso": dt.datetime.fromtimestamp(self.anchor.timestamp, CHINA_TZ).isoformat(),
                "block_number": self.anchor.block_number,
            },
            "digest": None if self.digest is None else "0x" + self.digest.hex(),
            "signer": self.signer,
            "suite": None if self.suite is None else self.suite.value,
            "certificate_subject": self.certificate_subject,
            "replacement": None if self.replacement is None else "0x" + self.replacement.hex(),
            "co_approval": None if self.co_approval is None else self.co_approval.to_dict(),
            "chain": chain,
            "checked_at": int(self.checked_at),
        }
