"""Models of verification receipts (docs/receipts.md): the signed receipt a verify endpoint returns
on request, and the service's published key."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

DIGEST_OUT = r"^0x[0-9a-f]{64}$"


class ReceiptBody(BaseModel):
    """What the service answered and against which chain state; the signed bytes are this object
    as compact JSON with sorted keys (docs/receipts.md)."""

    format: Literal["elicense-receipt/1"]
    receipt_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    kind: Literal["license", "bundle"]
    subject: str | None = Field(description="The license id, or the joint application id")
    digest: str | None = Field(pattern=DIGEST_OUT, description="The license digest, or the bundle digest")
    status: str
    reasons: list[str] = Field(description="The reasons' codes")
    issuer: str | None = Field(description="The issuer's credit code (a bundle: the lead department's)")
    signer: str | None = Field(description="The key address that signed the license")
    valid_from: str | None
    valid_to: str | None
    chain_id: int
    registry: str = Field(description="The license registry contract's address")
    block_number: int = Field(description="The block the state was at (positive facts up to it)")
    block_hash: str = Field(pattern=DIGEST_OUT)
    head_block: int = Field(description="Negative facts (revocations, suspensions, ...) applied up to this block")
    checked_at: int
    verifier_id: str
    verifier_key: str = Field(description="Fingerprint of the service's public key (GET /v1/receipts/key)")


class SignedReceipt(BaseModel):
    receipt: ReceiptBody
    signature: str = Field(pattern=r"^[0-9a-f]{128}$", description="Ed25519 over the receipt's canonical bytes")


class ReceiptKey(BaseModel):
    """The service's receipt signing key: what a relying department trusts (`--trust`)."""

    service_id: str
    algorithm: Literal["Ed25519"]
    public_key: str = Field(pattern=r"^[0-9a-f]{64}$")
    fingerprint: str = Field(pattern=r"^[0-9a-f]{32}$")
