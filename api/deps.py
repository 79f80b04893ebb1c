"""Dependency aliases of the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from api.errors import IssuerKeyRequiredError
from api.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def authenticated_issuer(
    services: ServicesDep,
    authorization: Annotated[str | None, Header(description="Bearer <API key of the department>")] = None,
) -> str:
    """The department an API key belongs to (401 without a valid key)."""
    if not authorization or not authorization.startswith("Bearer "):
        raise IssuerKeyRequiredError("send the department's API key as 'Authorization: Bearer <key>'")
    issuer = services.api_keys.issuer_of(authorization.removeprefix("Bearer ").strip())
    if issuer is None:
        raise IssuerKeyRequiredError("the API key is unknown or revoked")
    return issuer


IssuerDep = Annotated[str, Depends(authenticated_issuer)]
