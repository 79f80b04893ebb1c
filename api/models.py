"""Request and response models of the HTTP API, split by purpose."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from api.receipt_models import SignedReceipt
from registry.document.licensetypes import CATALOG

#: A unified social credit code (GB 32100; the check character is checked by the service).
USCC = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"
#: The same in either case (the service reads a code in upper case).
USCC_ANY_CASE = "^[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]{10}$"
#: A license id in either case: type code, issuer's credit code, 8-digit serial, 2-digit version and
#: an ISO 7064 MOD 37,36 check character (checked by the service).
_CODE_CHAR = "[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]"
LICENSE_ID = f"^[A-Za-z]{{2}}{_CODE_CHAR}{{2}}[0-9]{{6}}{_CODE_CHAR}{{10}}[0-9]{{10}}[0-9A-Za-z]$"
#: A license digest or Merkle root: 0x and 64 hex digits.
DIGEST = r"^0x[0-9a-fA-F]{64}$"
DIGEST_OUT = r"^0x[0-9a-f]{64}$"

QR_EXAMPLE = "LC1:NCFA60$A038WW50GR9TJ2B0BW70EDF8I5+:LB60Z*698VG80786 YH9-SQ%LTEN7..."


#: Longest QR text the API takes in one request (longer ones are refused with 422); the decoder
#: itself refuses texts longer than any QR code holds, as ``malformed``.
MAX_QR_TEXT = 4096


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"qr": QR_EXAMPLE}]})
    qr: str = Field(
        max_length=MAX_QR_TEXT,
        description="The QR code's text: a license's (LC2:, or the earlier LC1:) or a joint application's bundle "
        "(联办码, LB1:)",
    )
    receipt: StrictBool = Field(default=False, description="Also return a receipt of the answer signed by the service")


class VerifyBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"qrs": [QR_EXAMPLE, "LC2:..."]}]})
    qrs: list[str] = Field(
        min_length=1,
        description="QR texts, at most 10,000 (configurable); the request body's size limit bounds them. "
        "A text that is not a readable license (too long included) is answered `malformed` for itself.",
    )
    receipt: StrictBool = Field(default=False, description="Also return a signed receipt with each result")


class Reason(BaseModel):
    code: str
    zh: str
    en: str


#: What a license's check answers (docs/licenses.md); a bundle's members answer the same.
LicenseStatus = Literal[
    "valid",
    "tampered",
    "malformed",
    "unknown_issuer",
    "key_not_valid",
    "type_not_permitted",
    "not_anchored",
    "revoked",
    "suspended",
    "superseded",
    "expired",
    "not_yet_valid",
    "co_approval_missing",
]


class VerificationResponse(BaseModel):
    """A license's verification result (see docs/licenses.md for the outcomes)."""

    kind: Literal["license"] = Field(description="What the QR text was: a license (LC2: or LC1:)")
    status: LicenseStatus
    headline: dict[str, str]
    reasons: list[Reason]
    license_id: str | None = None
    license_type: dict[str, str] | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    disclosed: list[dict[str, Any]] = []
    hidden_fields: int = 0
    issuer: dict[str, Any] | None = None
    anchor: dict[str, Any] | None = None
    digest: str | None = None
    signer: str | None = Field(
        default=None, description="The anchoring account of the signing key (an SM2 key is bound to one)"
    )
    suite: Literal["secp256k1", "sm2"] | None = Field(
        default=None,
        description="The signature suite of the presentation: secp256k1 (EIP-712) or sm2 (国密 SM2 with SM3, "
        "GB/T 32918); absent when the QR text could not be read",
    )
    certificate_subject: str | None = Field(
        default=None,
        description="The subject (RFC 4514) of the SM2 signing key's X.509 certificate registered with the key, "
        "shown only when that certificate holds the very key bound on chain. Control and format characters "
        "(line breaks, escape sequences, direction overrides) and line separators are written as RFC 4514 hex "
        "pairs of their UTF-8 bytes (U+202E as \\E2\\80\\AE): an RFC 4514 parser reads back the exact name",
    )
    replacement: str | None = None
    co_approval: dict[str, Any] | None = Field(
        default=None,
        description="Present when a co-approval policy (联合审批) covers the license: the departments it "
        "requires, whether each approved (co-signed a joint anchor holding the license), and that anchor",
    )
    chain: dict[str, Any] | None = None
    checked_at: int
    stale: bool = Field(
        default=False,
        description="The chain mirror is older than the service's limit (chain.age_seconds says how old): "
        "the status may be out of date, so treat it as unconfirmed (the counter page shows it amber)",
    )
    receipt: SignedReceipt | None = Field(
        default=None, description='The signed receipt of this answer, when asked for (`"receipt": true`)'
    )


class Department(BaseModel):
    """A department of a joint result: its credit code, registered name (empty when not registered)
    and whether its approval (co-signature) is on chain."""

    uscc: str
    name: str
    approved: bool


class CoApprovalResult(BaseModel):
    required: list[Department]
    complete: bool
    bundle_digest: str | None


class MemberIssuer(BaseModel):
    uscc: str
    name: str | None
    region: int | None


class BundleMember(BaseModel):
    """One member license of a bundle, judged as its own QR code would be (its anchor by its issuer
    stands for the signature a bundle does not carry)."""

    license_id: str
    license_type: dict[str, str]
    issuer: MemberIssuer
    valid_from: str
    valid_to: str | None
    digest: str = Field(pattern=DIGEST_OUT)
    status: LicenseStatus
    reason: Reason
    anchored_at: int | None
    co_approval: CoApprovalResult | None


class JointAnchorInfo(BaseModel):
    time: int
    time_iso: str
    block_number: int
    submitter: str


class Applicant(BaseModel):
    uscc: str
    name: str


class BundleVerificationResponse(BaseModel):
    """A joint bundle's verification result (联办码, docs/joint.md): the applicant, every member with
    its standing, and whether every department co-signed. The applicant is shown only when a joint
    anchor on chain vouches for it."""

    kind: Literal["bundle"] = Field(description="What the QR text was: a joint application's bundle (LB1:)")
    status: Literal["valid", "member_not_valid", "co_approval_missing", "not_anchored", "malformed"]
    headline: dict[str, str]
    reasons: list[Reason]
    application_id: str | None
    applicant: Applicant | None
    bundle_digest: str | None
    joint_anchor: JointAnchorInfo | None
    departments: list[Department]
    all_cosigned: bool
    members: list[BundleMember]
    chain: dict[str, Any] | None
    checked_at: int
    stale: bool = Field(
        default=False,
        description="The chain mirror is older than the service's limit: treat the result as unconfirmed",
    )
    receipt: SignedReceipt | None = Field(
        default=None, description='The signed receipt of this answer, when asked for (`"receipt": true`)'
    )


#: One QR text's result: a license's or a bundle's, told apart by ``kind``.
VerifyResult = Annotated[VerificationResponse | BundleVerificationResponse, Field(discriminator="kind")]


class VerifyBatchResponse(BaseModel):
    count: int
    results: list[VerifyResult]


class IssueRequestModel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "type": "BL",
                    "valid_from": "2026-01-01",
                    "valid_to": None,
                    "fields": {
                        "name": "北京星辰科技有限公司",
                        "uscc": "91110000600037341L",
                        "entity_type": 1,
                        "legal_representative": "张伟",
                        "established": "2020-01-01",
                        "domicile": "北京市海淀区中关村大街1号",
                        "business_scope": "技术开发",
                    },
                }
            ]
        },
    )
    type: str = Field(
        min_length=2,
        max_length=2,
        json_schema_extra={"enum": list(CATALOG)},
        description="License type code: " + ", ".join(f"{code} ({t.en})" for code, t in CATALOG.items()),
    )
    valid_from: dt.date
    valid_to: dt.date | None = None
    fields: dict[str, str | int | None] = Field(max_length=16)


class IssueBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    licenses: list[IssueRequestModel] = Field(min_length=1, max_length=10_000)


class IssuedLicense(BaseModel):
    license_id: str = Field(pattern=LICENSE_ID)
    digest: str = Field(pattern=DIGEST_OUT)
    status: str = "issued, not yet anchored"


class IssuedBatch(BaseModel):
    count: int
    licenses: list[IssuedLicense]


class AnchorResponse(BaseModel):
    batches: list[dict[str, Any]]
    anchored: int
    pending: int


class StatusChangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"action": "revoke", "reason": 3}]})
    action: Literal["suspend", "reinstate", "revoke"]
    reason: int = Field(default=0, ge=0, le=65535)


class StatusChangeResponse(BaseModel):
    license_id: str
    status: str
    tx_hash: str
    block_number: int


class LicenseStatusResponse(BaseModel):
    digest: str
    anchored: bool
    issuer: dict[str, Any] | None
    anchor: dict[str, Any] | None
    status: str
    reason: int
    replacement: str | None
    chain: dict[str, Any]


class IssuerEntry(BaseModel):
    issuer_id: str
    uscc: str | None
    name: str
    region: int
    region_name: str
    active: bool
    profile_uri: str
    permitted_types: list[str]
    keys: list[dict[str, Any]]


class MirrorReadiness(BaseModel):
    synced: bool
    block_number: int
    block_time: int | None
    synced_at: float | None
    age_seconds: float | None


class Readiness(BaseModel):
    ready: bool
    mirror: MirrorReadiness
    stale_after_seconds: float
    last_sync_error: str | None
