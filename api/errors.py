"""Every error as RFC 9457 problem details (``application/problem+json``), mapped in one place.

The service's own refusals are classes of the library's error tree (:class:`ServiceError` and its
subclasses, drawn in :mod:`registry.errors`): each carries its status and title, and an instance
its detail, extra members and headers (``Retry-After``), so one handler reports every error with
one lookup and no route builds a status code itself.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.redaction import redact
from registry.document.identifiers import FieldValueError
from registry.errors import ContractRevertError, ElicenseError

PROBLEM = "application/problem+json"

__all__ = [
    "PROBLEM",
    "ApplicationRefusedError",
    "BatchTooLargeError",
    "BatchWorkersFailingError",
    "ForbiddenIssuerError",
    "IdempotencyConflictError",
    "IdempotencyKeyReusedError",
    "ImageTooLargeError",
    "InvalidApiKeyLabelError",
    "IssuerKeyRequiredError",
    "MirrorStaleError",
    "NoChainClientError",
    "NoCoSigningKeyError",
    "NoReceiptKeyError",
    "NoWebhookKeyError",
    "NotAnchoredError",
    "NotInstalledError",
    "PayloadTooLargeError",
    "Problem",
    "SealedSecretError",
    "ServiceBusyError",
    "ServiceError",
    "SeveralAnchorsError",
    "UnknownDepartmentError",
    "install",
    "problem",
    "problem_body",
    "responses",
]


class ServiceError(ElicenseError):
    """A refusal of the HTTP service itself: ``detail`` is shown as it is, ``extra`` members are
    added to the problem details and ``headers`` to the response."""

    http_status = 500
    title = "Service error"
    kind: ClassVar[str] = "about:blank"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers
        self.extra = extra


class IssuerKeyRequiredError(ServiceError):
    """No API key, or one that is unknown or revoked."""

    http_status = 401
    title = "Unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class ForbiddenIssuerError(ServiceError):
    """The API key belongs to another department."""

    http_status = 403
    title = "Forbidden"


class UnknownDepartmentError(ServiceError):
    """This service holds no signing key for the department."""

    http_status = 404
    title = "Unknown department"


class NoCoSigningKeyError(UnknownDepartmentError):
    """This service holds no co-signing key of the department (it imports co-signatures instead)."""

    title = "No co-signing key"


class SubscriptionNotFoundError(ServiceError):
    """No subscription (or delivery) with this id belongs to the calling department."""

    http_status = 404
    title = "Subscription not found"


class InvalidSubscriptionError(ServiceError, ValueError):
    """A subscription request naming no valid target or callback URL."""

    http_status = 422
    title = "Invalid subscription"


class NoWebhookKeyError(ServiceError):
    """A subscription was asked of a service that has no webhook key to seal its secret with."""

    http_status = 503
    title = "Subscriptions not available"


class SealedSecretError(ServiceError):
    """A stored subscription secret that this service's webhook key does not open."""

    http_status = 500
    title = "Subscription secret unreadable"


class TooManySubscriptionsError(ServiceError):
    """The department holds as many active subscriptions as a department may."""

    http_status = 409
    title = "Too many subscriptions"


class NotAnchoredError(ServiceError):
    """No anchored license has the digest (``chain`` says how fresh the mirror is)."""

    http_status = 404
    title = "Not anchored"


class NotInstalledError(ServiceError):
    """A file the counter page needs is not installed."""

    http_status = 404
    title = "Not installed"


class SeveralAnchorsError(ServiceError):
    """Several issuers anchored the digest: the caller must say whose license is meant."""

    http_status = 409
    title = "Anchored by several issuers"


class IdempotencyConflictError(ServiceError):
    """A request with this Idempotency-Key is still running (``Retry-After`` says when to retry)."""

    http_status = 409
    title = "Request in progress"


class IdempotencyKeyReusedError(ServiceError, ValueError):
    """The Idempotency-Key was used for a different request."""

    http_status = 422
    title = "Idempotency-Key reused"


class InvalidApiKeyLabelError(ServiceError, ValueError):
    """An API key's label is too long."""

    http_status = 422
    title = "Invalid request"


class PayloadTooLargeError(ServiceError):
    """The request body is larger than the service takes."""

    http_status = 413
    title = "Request too large"


class ImageTooLargeError(PayloadTooLargeError):
    title = "Image too large"


class BatchTooLargeError(PayloadTooLargeError):
    title = "Batch too large"


class ServiceBusyError(ServiceError):
    """Too many CPU-heavy requests at once (``Retry-After`` says when to retry)."""

    http_status = 503
    title = "Service busy"


class BatchWorkersFailingError(ServiceBusyError):
    """The batch worker processes keep failing on one batch."""

    title = "Batch workers failing"


class MirrorStaleError(ServiceError):
    """The chain mirror is stale and the policy is ``refuse``."""

    http_status = 503
    title = "Chain mirror is stale"


class NoChainClientError(ServiceError):
    """The service has no chain client to send transactions with."""

    http_status = 503
    title = "No chain"


class ApplicationRefusedError(ServiceError):
    """An application (秒批) was refused: its decision, recorded, says why rule by rule."""

    http_status = 422
    title = "Application refused"


class NoReceiptKeyError(ServiceError):
    """A receipt was asked of a service that has no receipt signing identity."""

    http_status = 503
    title = "Receipts not available"


def problem_body(status: int, title: str, detail: str, *, kind: str = "about:blank", **extra: Any) -> dict[str, Any]:
    return {"type": kind, "title": title, "status": status, "detail": detail, **extra}


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    kind: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = problem_body(status, title, detail, kind=kind, **extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


class Problem(BaseModel):
    """RFC 9457 problem details; some problems add members (``errors``, ``field``, ``chain``...)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str


_DESCRIBED = {
    400: "Malformed request",
    401: "No API key, or an unknown or revoked one (send `Authorization: Bearer elk_...`)",
    403: "The API key belongs to another department, or the registry contracts refused the change",
    404: "Not found",
    405: "Method not allowed (`Allow` lists the methods)",
    409: "Conflict: a request with this Idempotency-Key is still in progress, or the state forbids it",
    413: "Request or image too large",
    422: "Invalid request, or an unreadable image",
    500: "Internal error",
    502: "A transaction failed",
    503: "Chain mirror stale (policy `refuse`), chain unavailable, or the service is busy "
    "(`Retry-After` says when to retry)",
}


def responses(*statuses: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of problem responses (``application/problem+json``), by status;
    ``described`` overrides a description (keyed ``s409``)."""
    return {
        status: {
            "model": Problem,
            "description": described.get(f"s{status}", _DESCRIBED.get(status, "Problem")),
            "content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


def _extra(exc: ElicenseError) -> dict[str, Any]:
    if isinstance(exc, ServiceError):
        return exc.extra
    if isinstance(exc, ContractRevertError):
        return {"error": exc.error_name}
    if isinstance(exc, FieldValueError):
        return {"field": exc.field, "problem": exc.problem, "expected": exc.expected}
    return {}


def install(app: FastAPI, *, secrets: tuple[str | None, ...] = ()) -> None:
    """Map every error to problem details; ``secrets`` (and any URL) never appear in them."""

    @app.exception_handler(ElicenseError)
    async def _library(_request: Request, exc: ElicenseError) -> JSONResponse:
        detail = exc.detail if isinstance(exc, ServiceError) else redact(str(exc), secrets)
        kind = exc.kind if isinstance(exc, ServiceError) else "about:blank"
        headers = exc.headers if isinstance(exc, ServiceError) else None
        return problem(exc.http_status, exc.title, detail, kind=kind, headers=headers, **_extra(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"location": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type")}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"location": "", "message": "invalid request"}
        return problem(422, "Invalid request", f"{first['location']}: {first['message']}", errors=errors[:20])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Request too large", 401: "Unauthorized"}
        headers = _allowed(request, exc.headers) if exc.status_code == 405 else exc.headers
        return problem(exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail), headers=headers)


def _allowed(request: Request, fallback: Mapping[str, str] | None) -> dict[str, str]:
    """``Allow`` listing the methods the OpenAPI document gives the request's path (a path may have
    several routes; the router names only the first one's)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {m.upper() for m in operations if m in _HTTP_METHODS}
    if not methods:
        return dict(fallback or {})
    return {**(fallback or {}), "Allow": ", ".join(sorted(methods))}


_HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
