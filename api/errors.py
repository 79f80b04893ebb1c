"""Every error as RFC 9457 problem details (``application/problem+json``), mapped in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.redaction import redact
from registry.document.identifiers import FieldValueError
from registry.errors import ContractRevertError, ElicenseError

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


def install(app: FastAPI, *, secrets: tuple[str | None, ...] = ()) -> None:
    """Map every error to problem details; ``secrets`` (and any URL) never appear in them."""

    @app.exception_handler(ProblemError)
    async def _api_problem(_request: Request, exc: ProblemError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, kind=exc.kind, headers=exc.headers, **exc.extra)

    @app.exception_handler(ElicenseError)
    async def _library(_request: Request, exc: ElicenseError) -> JSONResponse:
        extra: dict[str, Any] = {}
        if isinstance(exc, ContractRevertError):
            extra["error"] = exc.error_name
        if isinstance(exc, FieldValueError):
            extra.update(field=exc.field, problem=exc.problem, expected=exc.expected)
        return problem(exc.http_status, exc.title, redact(str(exc), secrets), **extra)

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
