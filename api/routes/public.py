"""Public reads: the issuer directory and the status of a license by digest."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Path

from api.deps import ServicesDep
from api.errors import ProblemError
from api.models import IssuerEntry, LicenseStatusResponse
from registry.identifiers import uscc_from_issuer_id
from registry.licensetypes import CATALOG
from registry.records import OPEN_END
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
            if (p := index.permissions.get((issuer_id, ltype.type_id))) is not None and p.valid_until > p.valid_from
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


@router.get("/licenses/{digest}/status", response_model=LicenseStatusResponse, summary="Status of a license")
def license_status(
    services: ServicesDep,
    digest: str = Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="The license digest, 0x + 64 hex digits"),
) -> dict[str, Any]:
    """Whether a digest is anchored, by whom and when, and its status (as the mirror knows it)."""
    raw = bytes.fromhex(digest[2:])
    index = services.mirror.index
    anchor = index.anchor_of(raw)
    fresh = services.mirror.freshness()
    chain = {"block_number": fresh.block_number, "block_time": fresh.block_time, "age_seconds": round(fresh.age(), 1)}
    if anchor is None:
        raise ProblemError(404, "Not anchored", f"no anchored license has digest {digest}", chain=chain)
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
