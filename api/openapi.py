"""The OpenAPI document, completed with what every operation can answer besides its own
responses: problem details (``application/problem+json``) for invalid requests (422, instead of
FastAPI's own validation schema), on operations that take a body bodies over the size limit (413)
and bodies that cannot be parsed at all (400: not UTF-8 JSON, broken multipart), and internal
errors (500)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import PROBLEM, responses

__all__ = ["complete_openapi"]

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


def _problem(status: int) -> dict[str, Any]:
    declared = responses(status)[status]
    return {"description": declared["description"], "content": {PROBLEM: {"schema": _PROBLEM_REF}}}


def _complete(operation: dict[str, Any]) -> None:
    answers: dict[str, Any] = operation.setdefault("responses", {})
    body = operation.get("requestBody", {}).get("content", {})
    statuses = [422, 500]
    if body:
        statuses += [400, 413]
    for status in statuses:
        answer = answers.get(str(status))
        if answer is None or PROBLEM not in answer.get("content", {}):
            answers[str(status)] = _problem(status)


def complete_openapi(app: FastAPI) -> None:
    """Build ``app``'s OpenAPI document once, completed (see the module's docstring)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            for path in document.get("paths", {}).values():
                for operation in path.values():
                    _complete(operation)
            schemas = document.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                schemas.pop(unused, None)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
