"""Verification endpoints: one QR text, a photo of a QR code, or a batch."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, File, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.errors import ProblemError
from api.models import VerificationResponse, VerifyBatchRequest, VerifyBatchResponse, VerifyRequest
from verifier.qr import read_qr_image

router = APIRouter(prefix="/v1/verify", tags=["verification"])


def _refuse_if_stale(services: ServicesDep) -> None:
    stale, age = services.is_stale()
    if stale and services.settings.stale_policy == "refuse":
        raise ProblemError(
            503,
            "Chain mirror is stale",
            f"the chain mirror is {age:.0f} s old (limit {services.settings.stale_after:.0f} s); "
            "verification is refused until it catches up",
        )


@router.post("", response_model=VerificationResponse, summary="Verify one QR text")
async def verify(body: VerifyRequest, services: ServicesDep) -> Response:
    """Verify the text of a license's QR code (``LC1:...``) against the chain mirror. The result's
    ``status`` is one of the outcomes of docs/licenses.md, with reasons in Chinese and English."""
    _refuse_if_stale(services)
    # about 0.2 ms of CPU and no I/O: run on the event loop rather than hop to a thread
    return Response(orjson.dumps(services.verify(body.qr).to_dict()), media_type="application/json")


@router.post("/image", response_model=VerificationResponse, summary="Verify a photo of a QR code")
async def verify_image(
    services: ServicesDep, image: UploadFile = File(description="PNG, JPEG, WebP...")
) -> dict[str, Any]:
    """Read the QR code in an uploaded photo or scan (at most 10 MB), then verify it."""
    _refuse_if_stale(services)
    limit = services.settings.max_image_bytes
    data = await image.read(limit + 1)
    if len(data) > limit:
        raise ProblemError(413, "Image too large", f"the image is larger than {limit} bytes")
    text = await run_in_threadpool(read_qr_image, data)
    return services.verify(text).to_dict()


@router.post("/batch", response_model=VerifyBatchResponse, summary="Verify many QR texts")
def verify_batch(body: VerifyBatchRequest, services: ServicesDep) -> Response:
    """Verify up to 10,000 QR texts; one result each, in the order given."""
    _refuse_if_stale(services)
    limit = services.settings.max_batch
    if len(body.qrs) > limit:
        raise ProblemError(413, "Batch too large", f"{len(body.qrs)} QR texts; at most {limit} per request")
    too_long = next((i for i, q in enumerate(body.qrs) if len(q) > 1400), None)
    if too_long is not None:
        raise ProblemError(422, "Invalid request", f"qrs[{too_long}] is longer than 1400 characters")
    results = services.verify_many(body.qrs)
    return Response(b'{"count":%d,"results":' % len(body.qrs) + results + b"}", media_type="application/json")
