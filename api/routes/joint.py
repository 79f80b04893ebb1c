"""Joint application endpoints (联办件, docs/joint.md), authenticated per department (API key) like
the other issuer endpoints; ``{uscc}`` is the acting department, which must be the key's.

The lead department opens an application for an applicant and anchors it; each department adds
its own licenses; every department of the application reads it and co-signs it, with the
co-signing key the service holds for it or by importing a co-signature made elsewhere. The POSTs
take an ``Idempotency-Key`` as the other issuer POSTs do.
"""

from __future__ import annotations

from typing import Annotated, Any

from eth_account.signers.local import LocalAccount
from fastapi import APIRouter, Body, Path, Query, Response
from fastapi.responses import JSONResponse

from api.deps import IssuerDep, ServicesDep
from api.errors import ForbiddenIssuerError, NoChainClientError, NoCoSigningKeyError, UnknownDepartmentError, responses
from api.joint_models import (
    APPLICATION_ID,
    MAX_DEPARTMENTS,
    MAX_MEMBERS,
    BundleQrText,
    CosignatureRequest,
    JointApplicationRequest,
    JointApplicationView,
    JointMembersRequest,
)
from api.routes._common import IdempotencyHeader, UsccPath, acting, idempotent
from api.services import Services
from registry.document.catalog import get_type
from registry.document.identifiers import issuer_id_from_uscc, validate_uscc
from registry.document.qr import render_png, render_svg
from registry.errors import ConfigurationError
from registry.issuer.joint import JointApplication
from signer import co_signing_key_id

router = APIRouter(prefix="/v1/issuers/{uscc}/joint-applications", tags=["joint applications"])

ApplicationIdPath = Annotated[
    str,
    Path(
        min_length=29,
        max_length=29,
        pattern=APPLICATION_ID,
        description="The joint application id: JA, the lead department's credit code, serial, check character",
    ),
]


def _application(services: Services, application_id: str, department: str) -> JointApplication:
    """The application, when ``department`` is one of its departments (403 otherwise)."""
    application = services.joint.get(application_id)
    if department not in application.departments:
        raise ForbiddenIssuerError(
            f"{department} is not a department of joint application {application.application_id}"
        )
    return application


def _hex(text: str) -> bytes:
    return bytes.fromhex(text[2:] if text[:2].lower() == "0x" else text)


def view(services: Services, application: JointApplication) -> dict[str, Any]:
    """The application as the API shows it."""
    state = services.verifier.state
    current = application.current_cosignatures
    signed = {c.issuer_uscc: c for c in application.cosignatures}
    departments = []
    for code in application.departments:
        issuer = state.issuer(issuer_id_from_uscc(code))
        cosignature = signed.get(code)
        departments.append(
            {
                "uscc": code,
                "name": issuer.name if issuer is not None else "",
                "lead": code == application.lead_uscc,
                "cosigned": code in current,
                "stale": cosignature is not None and code not in current,
                "signed_at": None if cosignature is None else cosignature.signed_at,
                "key_id": None if cosignature is None else "0x" + co_signing_key_id(cosignature.public_key).hex(),
                "service_holds_key": code in services.co_signing_keys,
            }
        )
    members = []
    for license_id in application.license_ids:
        row = services.store.get(license_id)
        if row is None:
            raise ConfigurationError(f"license {license_id} of {application.application_id} left the store")
        ltype = get_type(row.type_code)
        members.append(
            {
                "license_id": row.license_id,
                "license_type": {"code": ltype.code, "zh": ltype.zh, "en": ltype.en},
                "issuer_uscc": row.issuer_uscc,
                "digest": "0x" + row.digest.hex(),
                "status": row.status,
                "anchored": row.batch_root is not None,
            }
        )
    anchored = application.state == "anchored"
    return {
        "application_id": application.application_id,
        "state": application.state,
        "lead": application.lead_uscc,
        "applicant": {"uscc": application.applicant.credit_code, "name": application.applicant.name},
        "co_approvers": list(application.co_approvers),
        "departments": departments,
        "members": members,
        "bundle_digest": None if application.bundle_digest is None else "0x" + application.bundle_digest.hex(),
        "missing_cosignatures": [] if anchored else list(application.missing_cosignatures),
        "anchor": {
            "tx_hash": None if application.tx_hash is None else "0x" + application.tx_hash.hex(),
            "block_number": application.block_number,
        }
        if anchored
        else None,
        "created_at": application.created_at,
    }


def _hashed(operation: str, application_id: str | None, body: Any) -> dict[str, Any]:
    """What an Idempotency-Key is bound to: the operation, the application and the body."""
    return {"operation": operation, "application": application_id, "body": body}


@router.post(
    "",
    status_code=201,
    response_model=JointApplicationView,
    summary="Open a joint application (the acting department leads it)",
    responses=responses(401, 403, 409),
)
def open_application(
    uscc: UsccPath,
    body: JointApplicationRequest,
    caller: IssuerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Open a joint application (联办件) for an applicant enterprise, led by the acting department,
    with any co-approving departments (联合审批) beyond its licenses' issuers."""
    lead = acting(uscc, caller)
    co_approvers = {validate_uscc(c, field="co_approvers") for c in body.co_approvers}
    if len(co_approvers | {lead}) > MAX_DEPARTMENTS:
        raise ConfigurationError(f"an application has at most {MAX_DEPARTMENTS} departments, the lead included")

    def run() -> dict[str, Any]:
        application = services.joint.open(
            lead_uscc=lead,
            applicant_uscc=body.applicant_uscc,
            applicant_name=body.applicant_name,
            co_approvers=sorted(co_approvers),
        )
        return view(services, application)

    return idempotent(services, caller, idempotency_key, _hashed("open", None, body.model_dump(mode="json")), run)


@router.post(
    "/{application_id}/members",
    response_model=JointApplicationView,
    summary="Add the acting department's licenses",
    responses=responses(401, 403, 404, 409, s409="The application is anchored (or being anchored)"),
)
def add_members(
    uscc: UsccPath,
    application_id: ApplicationIdPath,
    body: JointMembersRequest,
    caller: IssuerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Add licenses the acting department issued (all or none); a department joins an application
    by adding its licenses (the lead sees every department before anchoring, and each one
    co-signs). Co-signatures made before no longer count: the departments sign the new bundle
    again."""
    code = acting(uscc, caller)
    application = services.joint.get(application_id)
    wanted = list(dict.fromkeys(i.strip().upper() for i in body.license_ids))
    foreign = [i for i in wanted if i[2:20] != code]
    if foreign:
        raise ForbiddenIssuerError(
            f"a department adds only its own licenses: {', '.join(foreign)} "
            f"{'was' if len(foreign) == 1 else 'were'} not issued by {code}"
        )
    new = set(wanted) - set(application.license_ids)
    if len(application.license_ids) + len(new) > MAX_MEMBERS:
        raise ConfigurationError(
            f"a joint application holds at most {MAX_MEMBERS} licenses; it has {len(application.license_ids)}"
        )
    departments = set(application.departments) | {i[2:20] for i in new}
    if len(departments) > MAX_DEPARTMENTS:
        raise ConfigurationError(f"a joint application has at most {MAX_DEPARTMENTS} departments")

    def run() -> dict[str, Any]:
        return view(services, services.joint.add(application.application_id, wanted))

    hashed = _hashed("members", application.application_id, body.model_dump(mode="json"))
    return idempotent(services, caller, idempotency_key, hashed, run, status_code=200)


@router.post(
    "/{application_id}/cosignatures",
    response_model=JointApplicationView,
    summary="Co-sign the bundle, or import a co-signature made elsewhere",
    responses=responses(
        401, 403, 404, 409, s404="No such application, or the service holds no co-signing key of the department"
    ),
)
def cosign(
    uscc: UsccPath,
    application_id: ApplicationIdPath,
    caller: IssuerDep,
    services: ServicesDep,
    body: Annotated[CosignatureRequest | None, Body()] = None,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Co-sign the application's bundle as it stands for the acting department: with the
    department's co-signing key the service holds (no body), or record a co-signature made
    elsewhere (its public key and signature; checked against the bundle digest and against the
    chain: the key must be the department's co-signing key valid now)."""
    code = acting(uscc, caller)
    application = _application(services, application_id, code)
    key = services.co_signing_keys.get(code)
    if body is None and key is None:
        raise NoCoSigningKeyError(
            f"this service holds no co-signing key of {code}: send the public key and signature of a "
            "co-signature made elsewhere"
        )

    def run() -> dict[str, Any]:
        with services.chain_lock:  # the check reads the chain through the shared client
            if body is None:
                assert key is not None
                services.joint.cosign(application.application_id, code, key)
            else:
                services.joint.add_cosignature(
                    application.application_id, code, _hex(body.public_key), _hex(body.signature)
                )
        return view(services, services.joint.get(application.application_id))

    dumped = None if body is None else body.model_dump(mode="json")
    hashed = _hashed("cosign", application.application_id, dumped)
    return idempotent(services, caller, idempotency_key, hashed, run, status_code=200)


def _sender(services: Services, application: JointApplication) -> LocalAccount:
    """A signing key the service holds of a department of the application, the lead's first."""
    for code in (application.lead_uscc, *application.departments):
        department = services.departments.get(code)
        if department is not None and department.account is not None:
            return department.account
    raise UnknownDepartmentError(
        f"this service holds no signing key of a department of {application.application_id} to anchor with"
    )


@router.post(
    "/{application_id}/anchor",
    response_model=JointApplicationView,
    summary="Anchor the co-signed bundle on chain (the lead department)",
    responses=responses(
        401, 403, 404, 409, 502, 503, s409="A department's co-signature is missing, or the application has no license"
    ),
)
def anchor(
    uscc: UsccPath,
    application_id: ApplicationIdPath,
    caller: IssuerDep,
    services: ServicesDep,
    idempotency_key: IdempotencyHeader = None,
) -> JSONResponse:
    """Aggregate the departments' co-signatures and anchor the bundle in one transaction, sent with
    a signing key the service holds of a department of the application (the lead's first); the
    license registry checks the aggregate on chain. Anchoring twice anchors once."""
    code = acting(uscc, caller)
    application = _application(services, application_id, code)
    if code != application.lead_uscc:
        raise ForbiddenIssuerError(f"only the lead department {application.lead_uscc} anchors the application")
    if services.client is None:
        raise NoChainClientError("this service has no chain client to anchor with")
    sender = _sender(services, application)

    def run() -> dict[str, Any]:
        with services.chain_lock:
            anchored = services.joint.anchor(application.application_id, sender)
        services.sync_once()
        return view(services, anchored)

    hashed = _hashed("anchor", application.application_id, None)
    return idempotent(services, caller, idempotency_key, hashed, run, status_code=200)


@router.get(
    "/{application_id}",
    response_model=JointApplicationView,
    summary="A joint application",
    responses=responses(401, 403, 404),
)
def show(uscc: UsccPath, application_id: ApplicationIdPath, caller: IssuerDep, services: ServicesDep) -> dict[str, Any]:
    """The application: its state, departments (co-signed, or stale: signed an earlier bundle),
    members, bundle digest and anchor."""
    code = acting(uscc, caller)
    return view(services, _application(services, application_id, code))


@router.get(
    "/{application_id}/qr",
    summary="The bundle's QR code (联办码)",
    response_class=Response,
    responses={
        200: {
            "description": "The QR text (JSON), or the QR code as PNG or SVG",
            "content": {
                "application/json": {"schema": BundleQrText.model_json_schema()},
                "image/png": {"schema": {"type": "string", "format": "binary"}},
                "image/svg+xml": {"schema": {"type": "string"}},
            },
        },
        **responses(401, 403, 404, 409, s409="The application has no license yet"),
    },
)
def qr(
    uscc: UsccPath,
    application_id: ApplicationIdPath,
    caller: IssuerDep,
    services: ServicesDep,
    format: Annotated[str, Query(pattern="^(json|png|svg)$")] = "json",
) -> Response:
    """The bundle's QR text (``LB1:``) as JSON, or its QR code as PNG or SVG. A bundle of more
    members than one QR code holds (about 18) has none (422)."""
    code = acting(uscc, caller)
    application = _application(services, application_id, code)
    text = services.joint.presentation(application.application_id)
    if format == "png":
        return Response(render_png(text), media_type="image/png")
    if format == "svg":
        return Response(render_svg(text), media_type="image/svg+xml")
    body = BundleQrText(application_id=application.application_id, qr=text, characters=len(text))
    return JSONResponse(body.model_dump())
