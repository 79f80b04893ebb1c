"""Applications (秒批): a department decides an application on the prerequisites' QR texts with the
service's own verifier and mirror, and signs the license at once when every rule passes.
Authenticated like the other issuer endpoints; every decision is recorded in the issuer store."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.application_models import AcceptedApplication, ApplicationModel, DecisionList
from api.deps import IssuerDep, ServicesDep
from api.errors import ApplicationRefusedError, NoChainClientError, responses
from api.routes._common import IdempotencyHeader, UsccPath, department_for, idempotent, to_request
from registry.issuer.applications import MAX_PAGE, ApplicationBook, apply

router = APIRouter(prefix="/v1/issuers/{uscc}/applications", tags=["applications"])


@router.post(
    "",
    status_code=201,
    response_model=AcceptedApplication,
    summary="Apply for a license on the licenses already held (秒批)",
    responses=responses(
        401,
        403,
        404,
        409,
        413,
        422,
        503,
        s422="Refused: the decision's rules with their reasons, or an invalid request",
    ),
)
def submit(
    uscc: UsccPath,
    body: ApplicationModel,
    caller: IssuerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Check on chain that the department may issue the type now, verify the prerequisites' QR texts
    against the service's mirror, check the license type's rules, and either sign the license now
    (201; it is anchored with the next batch) or refuse (422 with every rule's result in zh and en).
    Both are recorded with their evidence."""
    department = department_for(services, uscc, caller)
    if department.client is None:
        raise NoChainClientError("this service has no chain client to check the department's permission with")
    request = to_request(body)

    def run() -> dict[str, Any]:
        decision = apply(department, services.verifier, request, body.prerequisites)
        record = decision.to_dict(texts=False)
        if not decision.accepted:
            failed = decision.failed
            raise ApplicationRefusedError(
                f"refused: {len(failed)} rule(s) not met: " + "; ".join(r.en for r in failed),
                decision_id=decision.decision_id,
                outcome=record["outcome"],
                rules=record["rules"],
                presented=record["presented"],
                chain=record["chain"],
            )
        assert decision.license_id is not None
        services.metrics.issued.labels(caller).inc()
        return {
            "decision_id": decision.decision_id,
            "outcome": record["outcome"],
            "license_id": decision.license_id,
            "digest": record["digest"],
            "qr_text": department.presentation(decision.license_id).to_text(),
            "status": "issued, not yet anchored",
            "rules": record["rules"],
            "chain": record["chain"],
        }

    return idempotent(services, caller, idempotency_key, body.model_dump(mode="json"), run)


@router.get("", response_model=DecisionList, summary="The department's decisions", responses=responses(401, 403, 404))
def list_decisions(
    uscc: UsccPath,
    caller: IssuerDep,
    services: ServicesDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> dict[str, Any]:
    """Decisions of this department in the order they were made, with their rules and evidence
    (the QR texts presented are in the audit export only)."""
    department = department_for(services, uscc, caller)
    decisions = ApplicationBook(department.store).list_decisions(
        issuer_uscc=department.issuer_uscc, limit=limit, offset=offset
    )
    return {"count": len(decisions), "decisions": decisions}
