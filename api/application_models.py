"""Request and response models of applications (秒批): an issue request with the prerequisites'
QR texts, the signed license when accepted, and the decisions listed."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from api.models import DIGEST_OUT, LICENSE_ID, IssueRequestModel
from registry.issuer.prerequisites import MAX_PREREQUISITE_TEXT_LENGTH, MAX_PREREQUISITE_TEXTS

__all__ = ["AcceptedApplication", "ApplicationModel", "DecisionList"]

QrText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PREREQUISITE_TEXT_LENGTH)]


class ApplicationModel(IssueRequestModel):
    """The license applied for and the QR texts of the licenses its type requires."""

    model_config = ConfigDict(extra="forbid")
    prerequisites: list[QrText] = Field(
        default_factory=list,
        max_length=MAX_PREREQUISITE_TEXTS,
        description="QR texts (LC2:... or LC1:...) of the licenses the applicant already holds",
    )


class AcceptedApplication(BaseModel):
    decision_id: str
    outcome: str = "accepted"
    license_id: str = Field(pattern=LICENSE_ID)
    digest: str = Field(pattern=DIGEST_OUT)
    qr_text: str = Field(description="The new license's QR text (the type's default disclosure)")
    status: str = "issued, not yet anchored"
    rules: list[dict[str, Any]]
    chain: dict[str, Any]


class DecisionList(BaseModel):
    count: int
    decisions: list[dict[str, Any]]
