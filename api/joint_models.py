"""Request and response models of the joint application endpoints (联办件, docs/joint.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.models import DIGEST_OUT, LICENSE_ID, USCC_ANY_CASE, Applicant

#: A joint application id in either case: JA, the lead's credit code, 8-digit serial and an ISO 7064
#: MOD 37,36 check character (checked by the service).
_CODE_CHAR = "[0-9A-HJ-NPQRTUWXYa-hj-npqrtuwxy]"
APPLICATION_ID = f"^[Jj][Aa]{_CODE_CHAR}{{2}}[0-9]{{6}}{_CODE_CHAR}{{10}}[0-9]{{8}}[0-9A-Za-z]$"
#: Most departments and members of one application (docs/joint.md).
MAX_DEPARTMENTS = 16
MAX_MEMBERS = 64
UsccItem = Annotated[str, Field(min_length=18, max_length=18, pattern=USCC_ANY_CASE)]
LicenseIdItem = Annotated[str, Field(min_length=31, max_length=31, pattern=LICENSE_ID)]
PUBLIC_KEY_HEX = "^(0x)?[0-9a-fA-F]{96}$"
SIGNATURE_HEX = "^(0x)?[0-9a-fA-F]{192}$"

_APPLICANT_EXAMPLE = {"applicant_uscc": "91310115MA1H8Y2K3X", "applicant_name": "上海某某国际贸易有限公司"}


class JointApplicationRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{**_APPLICANT_EXAMPLE, "co_approvers": []}]}
    )
    applicant_uscc: str = Field(
        min_length=18, max_length=18, pattern=USCC_ANY_CASE, description="The applicant enterprise's credit code"
    )
    applicant_name: str = Field(min_length=1, max_length=100, description="The applicant enterprise's name")
    co_approvers: list[UsccItem] = Field(
        default=[],
        max_length=MAX_DEPARTMENTS - 1,
        description="Departments (credit codes) whose approval (联合审批) the application needs beyond its "
        "licenses' issuers; every department co-signs",
    )


class JointMembersRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    license_ids: list[LicenseIdItem] = Field(
        min_length=1,
        max_length=MAX_MEMBERS,
        description="Licenses of the acting department (issued by this service) to add",
    )


class CosignatureRequest(BaseModel):
    """Import a co-signature made elsewhere: the department's co-signing public key (48 bytes,
    compressed) and its BLS signature of the bundle digest (96 bytes), in hex. Without a body the
    service co-signs with the department's co-signing key it holds."""

    model_config = ConfigDict(extra="forbid")
    public_key: str = Field(pattern=PUBLIC_KEY_HEX, description="48-byte compressed G1 public key, hex")
    signature: str = Field(pattern=SIGNATURE_HEX, description="96-byte compressed G2 signature, hex")


class JointDepartment(BaseModel):
    uscc: str
    name: str = Field(description="Registered name (empty when the mirror does not know the department)")
    lead: bool
    cosigned: bool = Field(description="Its co-signature of the bundle as it stands is recorded")
    stale: bool = Field(description="It co-signed an earlier bundle: members were added since; it signs again")
    signed_at: int | None
    key_id: str | None
    service_holds_key: bool = Field(description="The service can co-sign for it (holds its co-signing key)")


class JointMemberView(BaseModel):
    license_id: str
    license_type: dict[str, str]
    issuer_uscc: str
    digest: str = Field(pattern=DIGEST_OUT)
    status: str
    anchored: bool = Field(description="Anchored on chain by its issuer (batch anchor)")


class JointAnchorView(BaseModel):
    tx_hash: str | None
    block_number: int | None


class JointApplicationView(BaseModel):
    application_id: str
    state: Literal["open", "anchoring", "anchored"]
    lead: str
    applicant: Applicant
    co_approvers: list[str]
    departments: list[JointDepartment]
    members: list[JointMemberView]
    bundle_digest: str | None
    missing_cosignatures: list[str]
    anchor: JointAnchorView | None
    created_at: int


class BundleQrText(BaseModel):
    application_id: str
    qr: str = Field(description="The bundle's QR text (联办码, LB1:)")
    characters: int
