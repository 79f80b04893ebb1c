"""Every error as RFC 9457 problem details (``application/problem+json``), mapped in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.redaction import redact
from registry.errors import (
    ChainUnavailableError,
    ConfigurationError,
    ConflictError,
    ContractRevertError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
    RegistryError,
    TransactionError,
    UnauthorizedError,
)
from registry.identifiers import FieldValueError
from signer.errors import SignerError
from verifier.qr import QrImageError

PROBLEM = "application/problem+json"


class ProblemError(Exception):
    """An error the API reports as it is."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        kind: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind
        self.headers = headers
        self.extra = extra


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    kind: str = "about:blank",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": kind, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


_DESCRIBED = {
    404: "Not found",
    409: "Conflict: a request with this Idempotency-Key is still in progress, or the state forbids it",
    413: "Request or image too large",
    422: "Invalid request, or an unreadable image",
    503: "Chain mirror stale (policy `refuse`), or the service is busy (`Retry-After` says when to retry)",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of problem responses (``application/problem+json``), by status."""
    return {
        status: {
            "model": Problem,
            "description": _DESCRIBED.get(status, "Problem"),
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _registry_status(exc: RegistryError) -> tuple[int, str]:
    if isinstance(exc, FieldValueError):
        return 422, "Invalid field value"
    if isinstance(exc, QrImageError):
        return 422, "Unreadable image"
    if isinstance(exc, UnauthorizedError):
        return 403, "Refused by the registry contracts"
    if isinstance(exc, NotFoundError):
        return 404, "Not found on chain"
    if isinstance(exc, ConflictError):
        return 409, "Conflict"
    if isinstance(exc, InvalidStateError):
        return 409, "Not allowed in the current state"
    if isinstance(exc, InvalidArgumentError):
        return 422, "Refused by the registry contracts"
    if isinstance(exc, ChainUnavailableError):
        return 503, "Chain node unavailable"
    if isinstance(exc, TransactionError | ContractRevertError):
        return 502, "Transaction failed"
    if isinstance(exc, LookupError):
        return 404, "Not found"
    if isinstance(exc, ConfigurationError):
        return 422, "Invalid request"
    return 500, "Registry error"


def install(app: FastAPI, *, secrets: tuple[str | None, ...] = ()) -> None:
    """Map every error to problem details; ``secrets`` (and any URL) never appear in them."""

    @app.exception_handler(ProblemError)
    async def _api_problem(_request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, kind=exc.kind, headers=exc.headers, **exc.extra)

    @app.exception_handler(RegistryError)
    async def _registry(_request: Request, exc: RegistryError) -> JSONResponse:
        status, title = _registry_status(exc)
        extra: dict[str, Any] = {}
        if isinstance(exc, ContractRevertError):
            extra["error"] = exc.error_name
        if isinstance(exc, FieldValueError):
            extra.update(field=exc.field, problem=exc.problem, expected=exc.expected)
        return problem(status, title, redact(str(exc), secrets), **extra)

    @app.exception_handler(SignerError)
    async def _signer(_request: Request, exc: SignerError) -> JSONResponse:
        return problem(500, "Signing key unavailable", redact(str(exc), secrets))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"location": "", "message": "invalid request"}
        return problem(422, "Invalid request", f"{first['location']}: {first['message']}", errors=errors[:20])

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Request too large", 401: "Unauthorized"}
        return problem(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail))
