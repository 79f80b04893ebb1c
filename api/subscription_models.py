"""Request and response models of the status subscription endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.models import DIGEST, DIGEST_OUT, USCC_ANY_CASE

SUBSCRIPTION_ID = r"^sub_[0-9a-f]{16}$"
DELIVERY_ID = r"^dlv_[0-9a-f]{24}$"
_PORT = "(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
#: http(s), a host (no credentials), an optional port from 1 to 65535, a path and query without a fragment
CALLBACK_URL = rf"^https?://[A-Za-z0-9][A-Za-z0-9.\-]*(:{_PORT})?([/?][!-\"$-~]*)?$"
DeliveryState = Literal["pending", "delivered", "failed", "cancelled"]


class SubscriptionRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"issuer": "11110000MB0195560T", "callback_url": "https://approvals.example.cn/hooks"}]
        },
    )
    license_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        pattern=r"^[0-9A-Za-z]+$",
        description="A license this service's store knows, or any license with its digest given too",
    )
    digest: str | None = Field(default=None, pattern=DIGEST, description="The license's digest (0x + 64 hex)")
    issuer: str | None = Field(
        default=None,
        min_length=18,
        max_length=18,
        pattern=USCC_ANY_CASE,
        description="Every license of this issuer (credit code); not with license_id or digest",
    )
    callback_url: str = Field(
        min_length=1,
        max_length=2048,
        pattern=CALLBACK_URL,
        description="http(s) URL the deliveries are POSTed to (no credentials, no fragment)",
    )


class SubscriptionView(BaseModel):
    id: str = Field(pattern=SUBSCRIPTION_ID)
    callback_url: str
    created_at: int
    active: bool
    digest: str | None = Field(default=None, pattern=DIGEST_OUT)
    license_id: str | None = None
    issuer: str | None = None


class NewSubscription(SubscriptionView):
    secret: str = Field(description="The HMAC key of the deliveries' signatures: shown once, keep it")


class DeliveryView(BaseModel):
    delivery_id: str = Field(pattern=DELIVERY_ID, description="The X-Elicense-Delivery header: dedupe on it")
    sequence: int = Field(description="Production order (deliveries of one license are sent in this order)")
    event: Literal["suspended", "reinstated", "revoked", "superseded", "voided", "key_compromised"]
    digest: str = Field(pattern=DIGEST_OUT)
    license_id: str | None
    block_number: int
    state: DeliveryState
    attempts: int
    next_attempt_at: float | None
    last_error: str | None
    created_at: float
    delivered_at: float | None
