"""What the department endpoints share (issuance, applications, joint applications): the path and
header parameters, acting for a department (403 for another one's API key, 404 for a department the
service holds no key for), the request conversion, and ``Idempotency-Key`` replay."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header, Path
from fastapi.responses import JSONResponse

from api.errors import ForbiddenIssuerError, UnknownDepartmentError
from api.models import LICENSE_ID, USCC_ANY_CASE, IssueRequestModel
from api.services import Services
from registry._failpoints import failpoint
from registry.document.identifiers import validate_uscc
from registry.issuer.department import Department, IssueRequest

__all__ = [
    "IdempotencyHeader",
    "LicenseIdPath",
    "UsccPath",
    "acting",
    "department_for",
    "idempotent",
    "to_request",
]

UsccPath = Annotated[
    str,
    Path(
        min_length=18,
        max_length=18,
        pattern=USCC_ANY_CASE,
        description="The department's unified social credit code (GB 32100; its check character is checked too)",
    ),
]
LicenseIdPath = Annotated[
    str,
    Path(
        min_length=31,
        max_length=31,
        pattern=LICENSE_ID,
        description="The license id: type code, issuer's credit code, serial, version, check character",
    ),
]
IdempotencyHeader = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Retrying with the same key returns the first result"),
]


def acting(uscc: str, caller: str) -> str:
    """The department ``uscc`` names, when the caller's API key is that department's (403 otherwise)."""
    code = validate_uscc(uscc, field="uscc")
    if code != caller:
        raise ForbiddenIssuerError(f"this API key belongs to {caller}; it cannot act for {code}")
    return code


def department_for(services: Services, uscc: str, caller: str) -> Department:
    """The department ``uscc`` names, acting for itself, with its signing key (404 without one)."""
    code = acting(uscc, caller)
    department = services.departments.get(code)
    if department is None:
        raise UnknownDepartmentError(f"this service holds no signing key for {code}")
    return department


def to_request(model: IssueRequestModel) -> IssueRequest:
    """The issue request of a request body (fields given as null are left out)."""
    return IssueRequest(
        license_type=model.type,
        fields={k: v for k, v in model.fields.items() if v is not None},
        valid_from=model.valid_from,
        valid_to=model.valid_to,
    )


def idempotent(
    services: Services, issuer: str, key: str | None, body: Any, run: Callable[[], Any], *, status_code: int = 201
) -> JSONResponse:
    """Run ``run`` once per (department, ``key``): a retry with the same key and body answers the
    first result (``Idempotent-Replayed: true``); without a key, ``run`` runs every time."""
    if key is None:
        return JSONResponse(run(), status_code=status_code)
    request_hash = services.idempotency.request_hash(body)
    replay = services.idempotency.begin(issuer, key, request_hash)
    if replay is not None:
        return JSONResponse(replay.body, status_code=replay.status_code, headers={"Idempotent-Replayed": "true"})
    try:
        failpoint("idempotent_claimed")  # crash tests only: claimed, nothing stored
        result = run()
    except BaseException:
        services.idempotency.abandon(issuer, key)
        raise
    services.idempotency.finish(issuer, key, status_code, result)
    return JSONResponse(result, status_code=status_code)
