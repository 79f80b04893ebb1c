"""Dependency aliases of the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import IssuerKeyRequiredError
from api.services import Services


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


#: The issuer endpoints' security scheme in the OpenAPI document; the dependency below answers 401.
API_KEY = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="The department's API key (`elk_...`, created with `elicense apikey create`)",
)


def authenticated_issuer(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(API_KEY)],
) -> str:
    """The department an API key belongs to (401 without a valid key)."""
    if credentials is None:
        raise IssuerKeyRequiredError("send the department's API key as 'Authorization: Bearer <key>'")
    issuer = services.api_keys.issuer_of(credentials.credentials.strip())
    if issuer is None:
        raise IssuerKeyRequiredError("the API key is unknown or revoked")
    return issuer


IssuerDep = Annotated[str, Depends(authenticated_issuer)]
