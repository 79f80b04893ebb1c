"""Issuer endpoints: issue, anchor, change status, fetch QR codes. Authenticated per department
(API key); a department acts only for itself. Issuance is idempotent with ``Idempotency-Key``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from api.deps import IssuerDep, ServicesDep
from api.errors import NoChainClientError, responses
from api.models import (
    AnchorResponse,
    IssueBatchRequest,
    IssuedBatch,
    IssuedLicense,
    IssueRequestModel,
    StatusChangeRequest,
    StatusChangeResponse,
)
from api.routes._common import IdempotencyHeader, LicenseIdPath, UsccPath, department_for, idempotent, to_request
from registry.document.qr import render_png, render_svg

router = APIRouter(prefix="/v1/issuers/{uscc}", tags=["issuers"])


@router.post(
    "/licenses",
    status_code=201,
    response_model=IssuedLicense,
    summary="Issue one license",
    responses=responses(401, 403, 404, 409),
)
def issue_one(
    uscc: UsccPath,
    body: IssueRequestModel,
    caller: IssuerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Validate, commit, sign and store one license; it is anchored with the next batch."""
    department = department_for(services, uscc, caller)

    def run() -> dict[str, Any]:
        row = department.issue(to_request(body))
        services.metrics.issued.labels(caller).inc()
        return {"license_id": row.license_id, "digest": "0x" + row.digest.hex(), "status": "issued, not yet anchored"}

    return idempotent(services, caller, idempotency_key, body.model_dump(mode="json"), run)


@router.post(
    "/licenses/batch",
    status_code=201,
    response_model=IssuedBatch,
    summary="Issue many licenses",
    responses=responses(401, 403, 404, 409),
)
def issue_batch(
    uscc: UsccPath,
    body: IssueBatchRequest,
    caller: IssuerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Issue up to 10,000 licenses: all are validated before any is stored."""
    department = department_for(services, uscc, caller)

    def run() -> dict[str, Any]:
        rows = department.issue_many([to_request(m) for m in body.licenses])
        services.metrics.issued.labels(caller).inc(len(rows))
        return {
            "count": len(rows),
            "licenses": [
                {"license_id": r.license_id, "digest": "0x" + r.digest.hex(), "status": "issued, not yet anchored"}
                for r in rows
            ],
        }

    return idempotent(services, caller, idempotency_key, body.model_dump(mode="json"), run)


@router.post(
    "/anchor",
    response_model=AnchorResponse,
    summary="Anchor pending licenses now",
    responses=responses(401, 403, 404, 409, 502, 503),
)
def anchor(uscc: UsccPath, caller: IssuerDep, services: ServicesDep) -> dict[str, Any]:
    """Anchor every pending license of the department in batches (one transaction each)."""
    department = department_for(services, uscc, caller)
    if department.client is None:
        raise NoChainClientError("this service has no chain client to anchor with")
    with services.chain_lock:
        results = department.anchor_pending(batch_size=services.settings.anchor_batch_size)
    services.metrics.anchored.labels(caller).inc(sum(r.count for r in results))
    services.sync_once()
    return {
        "batches": [
            {
                "root": "0x" + r.root.hex(),
                "count": r.count,
                "block_number": r.tx.block_number,
                "gas_per_license": round(r.gas_per_license, 1),
            }
            for r in results
        ],
        "anchored": sum(r.count for r in results),
        "pending": department.store.count(pending_only=True),
    }


@router.post(
    "/licenses/{license_id}/status",
    response_model=StatusChangeResponse,
    summary="Suspend, reinstate or revoke",
    responses=responses(
        401, 403, 404, 409, 502, 503, s409="The status is final, or the change is not allowed from the current one"
    ),
)
def change_status(
    uscc: UsccPath,
    license_id: LicenseIdPath,
    body: StatusChangeRequest,
    caller: IssuerDep,
    services: ServicesDep,
) -> dict[str, Any]:
    """Change a license's status on chain (one transaction)."""
    department = department_for(services, uscc, caller)
    with services.chain_lock:
        action = {"suspend": department.suspend, "reinstate": department.reinstate, "revoke": department.revoke}
        tx = action[body.action]([license_id], reason=body.reason)
    services.sync_once()
    row = department.get(license_id)
    return {
        "license_id": row.license_id,
        "status": row.status,
        "tx_hash": "0x" + tx.tx_hash.hex(),
        "block_number": tx.block_number,
    }


@router.get(
    "/licenses/{license_id}/qr",
    summary="QR code of a license",
    response_class=Response,
    responses={
        200: {
            "description": "The QR code",
            "content": {
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/svg+xml": {"schema": {"type": "string"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        **responses(401, 403, 404),
    },
)
def qr(
    uscc: UsccPath,
    license_id: LicenseIdPath,
    caller: IssuerDep,
    services: ServicesDep,
    format: Annotated[str, Query(pattern="^(png|svg|text)$")] = "png",
    disclose: Annotated[str | None, Query(max_length=500, description="comma-separated fields")] = None,
) -> Response:
    """The license's QR code as PNG, SVG or its text, disclosing the type's default fields or
    ``disclose``."""
    department = department_for(services, uscc, caller)
    fields = None if disclose is None else [f.strip() for f in disclose.split(",") if f.strip()]
    text = department.presentation(license_id, fields).to_text()
    if format == "text":
        return Response(text, media_type="text/plain")
    if format == "svg":
        return Response(render_svg(text), media_type="image/svg+xml")
    return Response(render_png(text), media_type="image/png")
