"""Public reads: the issuer directory and the status of a license by digest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Path, Query

from api.deps import ServicesDep
from api.errors import NotAnchoredError, SeveralAnchorsError, responses
from api.models import DIGEST, USCC, IssuerEntry, LicenseStatusResponse
from registry.chain.records import OPEN_END
from registry.document.identifiers import uscc_from_issuer_id
from registry.document.licensetypes import CATALOG
from verifier.pipeline import CHINA_TZ

router = APIRouter(prefix="/v1", tags=["public"])


@router.get("/issuers", response_model=list[IssuerEntry], summary="Issuer directory")
def issuers(services: ServicesDep) -> list[dict[str, Any]]:
    """Every registered issuer as the chain mirror knows it: name, region, active flag, permitted
    license types and signing keys with their windows."""
    index = services.mirror.index
    out = []
    for issuer_id, record in sorted(index.issuers.items(), key=lambda kv: (kv[1].region, kv[1].name)):
        types = [
            code
            for code, ltype in CATALOG.items()
            if (p := index.current_permission(issuer_id, ltype.type_id)) is not None and p.valid_until > p.valid_from
        ]
        keys = [
            {
                "address": k.key,
                "valid_from": k.valid_from,
                "valid_until": None if k.valid_until == OPEN_END else k.valid_until,
            }
            for k in index.keys.values()
            if k.issuer_id == issuer_id
        ]
        out.append(
            {
                "issuer_id": "0x" + issuer_id.hex(),
                "uscc": uscc_from_issuer_id(issuer_id),
                "name": record.name,
                "region": record.region,
                "region_name": index.regions.get(record.region, record.region_name),
                "active": record.active,
                "profile_uri": record.profile_uri,
                "permitted_types": types,
                "keys": keys,
            }
        )
    return out


@router.get(
    "/licenses/{digest}/status",
    response_model=LicenseStatusResponse,
    summary="Status of a license",
    responses=responses(404, 409, s409="Several issuers anchored the digest: add ?issuer=CREDIT_CODE"),
)
def license_status(
    services: ServicesDep,
    digest: str = Path(pattern=DIGEST, description="The license digest, 0x + 64 hex digits"),
    issuer_uscc: str | None = Query(
        default=None,
        alias="issuer",
        pattern=USCC,
        description="Credit code of the license's issuer (needed when several issuers anchored the digest)",
    ),
) -> dict[str, Any]:
    """Whether a digest is anchored, by whom and when, and its status (as the mirror knows it).
    Only an issuer's own anchor counts for its licenses; when several issuers anchored the same
    digest, ``issuer`` (the credit code of the license's issuer) says whose license is meant."""
    raw = bytes.fromhex(digest[2:])
    index = services.mirror.index
    anchors = index.anchors_of_digest(raw)
    fresh = services.mirror.freshness()
    chain = {"block_number": fresh.block_number, "block_time": fresh.block_time, "age_seconds": round(fresh.age(), 1)}
    if issuer_uscc is not None:
        anchors = [a for a in anchors if uscc_from_issuer_id(a.issuer_id) == issuer_uscc]
    if not anchors:
        raise NotAnchoredError(f"no anchored license has digest {digest}", chain=chain)
    if len(anchors) > 1:
        raise SeveralAnchorsError(
            f"{len(anchors)} issuers anchored digest {digest}; say whose license it is with ?issuer=CREDIT_CODE",
            chain=chain,
        )
    anchor = anchors[0]
    status = index.status(anchor.issuer_id, raw)
    issuer = index.issuer(anchor.issuer_id)
    return {
        "digest": digest.lower(),
        "anchored": anchor.valid,
        "issuer": None
        if issuer is None
        else {"uscc": uscc_from_issuer_id(issuer.issuer_id), "name": issuer.name, "region": issuer.region},
        "anchor": {
            "root": "0x" + anchor.root.hex(),
            "time": anchor.timestamp,
            "time_iso": dt.datetime.fromtimestamp(anchor.timestamp, CHINA_TZ).isoformat(),
            "block_number": anchor.block_number,
            "key": anchor.key,
        },
        "status": status.status.name.lower(),
        "reason": status.reason,
        "replacement": None if status.replacement is None else "0x" + status.replacement.hex(),
        "chain": chain,
    }
