"""Request and response models of the HTTP API, split by purpose."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

QR_EXAMPLE = "LC1:NCFA60$A038WW50GR9TJ2B0BW70EDF8I5+:LB60Z*698VG80786 YH9-SQ%LTEN7..."


#: Longest QR text the API takes in one request (longer ones are refused with 422); the decoder
#: itself refuses texts longer than any QR code holds, as ``malformed``.
MAX_QR_TEXT = 4096


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"qr": QR_EXAMPLE}]})
    qr: str = Field(max_length=MAX_QR_TEXT, description="The QR code's text, starting with LC1:")


class VerifyBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"qrs": [QR_EXAMPLE, "LC1:..."]}]})
    qrs: list[str] = Field(
        min_length=1,
        description="QR texts, at most 10,000 (configurable); the request body's size limit bounds them. "
        "A text that is not a readable license (too long included) is answered `malformed` for itself.",
    )


class Reason(BaseModel):
    code: str
    zh: str
    en: str


class VerificationResponse(BaseModel):
    """A verification result (see docs/licenses.md for the outcomes)."""

    status: Literal[
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
    ]
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
    signer: str | None = None
    replacement: str | None = None
    chain: dict[str, Any] | None = None
    checked_at: int
    stale: bool = Field(
        default=False,
        description="The chain mirror is older than the service's limit (chain.age_seconds says how old): "
        "the status may be out of date, so treat it as unconfirmed (the counter page shows it amber)",
    )


class VerifyBatchResponse(BaseModel):
    count: int
    results: list[VerificationResponse]


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
    type: str = Field(min_length=2, max_length=2, description="License type code: BL, FB, CP or RP")
    valid_from: dt.date
    valid_to: dt.date | None = None
    fields: dict[str, str | int | None] = Field(max_length=16)


class IssueBatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    licenses: list[IssueRequestModel] = Field(min_length=1, max_length=10_000)


class IssuedLicense(BaseModel):
    license_id: str
    digest: str
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
