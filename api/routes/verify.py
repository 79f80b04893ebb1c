"""Verification endpoints: one QR text, a photo of a QR code, or a batch.

A single text is verified on the event loop (a strictly bounded decode and one signature
recovery: a fraction of a millisecond). Photos are decoded in a small thread pool and batches in a
thread (large ones in worker processes), both admitted in bounded numbers: beyond them the answer
is 503 with ``Retry-After``. One hostile text in a batch answers ``malformed`` for itself only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, File, Response, UploadFile
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.deps import ServicesDep
from api.errors import BatchTooLargeError, ImageTooLargeError, MirrorStaleError, responses
from api.models import VerifyBatchRequest, VerifyBatchResponse, VerifyRequest, VerifyResult
from verifier.qr import read_qr_image

router = APIRouter(prefix="/v1/verify", tags=["verification"])


def _refuse_if_stale(services: ServicesDep) -> None:
    stale, age = services.is_stale()
    if stale and services.settings.stale_policy == "refuse":
        since = "has not been synced yet" if age == float("inf") else f"is {age:.0f} s old"
        raise MirrorStaleError(
            f"the chain mirror {since} (limit {services.settings.stale_after:.0f} s); "
            "verification is refused until it catches up",
            headers={"Retry-After": str(max(1, round(services.settings.sync_interval)))},
        )


def _json(data: object) -> Response:
    return Response(orjson.dumps(data), media_type="application/json")


@router.post("", response_model=VerifyResult, summary="Verify one QR text", responses=responses(503))
async def verify(body: VerifyRequest, services: ServicesDep) -> Response:
    """Verify the text of a license's QR code (``LC2:...``, or the earlier ``LC1:...``) or of a
    joint application's bundle (联办码, ``LB1:...``) against the chain mirror; ``kind`` says which was read. A license's
    ``status`` is one of the outcomes of docs/licenses.md, a bundle's one of docs/joint.md (each
    member with its own), with reasons in Chinese and English;
    ``stale`` is true when the chain mirror is older than the service's limit (treat the result
    as unconfirmed: a counter shows it amber, never green).
    With ``"receipt": true`` the result carries ``receipt``: the answer signed by the service, with
    the chain block it was checked against (docs/receipts.md; 503 when the service has no receipt key)."""
    _refuse_if_stale(services)
    if body.receipt:  # one more signature (Ed25519) and a read of the mirror's checkpoint
        return _json(await run_in_threadpool(services.receipts.answer, services.verify, body.qr))
    # a bounded decode and one signature recovery, no I/O: run on the event loop
    return _json(services.verify(body.qr))


@router.post(
    "/image",
    response_model=VerifyResult,
    summary="Verify a photo of a QR code",
    responses=responses(413, 503),
)
async def verify_image(services: ServicesDep, image: UploadFile = File(description="PNG, JPEG, WebP...")) -> Response:
    """Read the QR code in an uploaded photo or scan (at most 10 MB; JPEG photos of up to 80
    megapixels, other images up to 2048 x 2048 pixels), then verify it: a license's QR code or a
    joint application's bundle (``kind`` says which)."""
    _refuse_if_stale(services)
    limit = services.settings.max_image_bytes
    data = await image.read(limit + 1)
    if len(data) > limit:
        raise ImageTooLargeError(f"the image is larger than {limit} bytes")
    async with services.image_gate.enter():
        text = await asyncio.get_running_loop().run_in_executor(services.images, read_qr_image, data)
    return _json(services.verify(text))


@router.post(
    "/batch",
    response_model=VerifyBatchResponse,
    summary="Verify many QR texts",
    responses=responses(413, 503),
)
async def verify_batch(body: VerifyBatchRequest, services: ServicesDep) -> Response:
    """Verify up to 10,000 QR texts, licenses' and bundles' mixed; one result each, in the order
    given, each of its ``kind`` (with ``"receipt": true``, each with its signed receipt). A text
    that cannot be read is that item's ``malformed`` result; it never fails the batch."""
    _refuse_if_stale(services)
    limit = services.settings.max_batch
    if len(body.qrs) > limit:
        raise BatchTooLargeError(f"{len(body.qrs)} QR texts; at most {limit} per request")
    async with services.batch_gate.enter():
        if body.receipt:  # each result signed in this process, against the mirror's checkpoint
            groups = await run_in_threadpool(services.receipts.answer_many, services.verify, body.qrs)
        else:
            groups = await run_in_threadpool(services.verify_many, body.qrs)
    head = b'{"count":%d,"results":[' % len(body.qrs)
    length = len(head) + sum(len(g) for g in groups) + max(0, len(groups) - 1) + 2

    async def stream() -> AsyncIterator[bytes]:
        yield head
        for i, group in enumerate(groups):
            yield b"," + group if i else group
        yield b"]}"

    return StreamingResponse(stream(), media_type="application/json", headers={"Content-Length": str(length)})
