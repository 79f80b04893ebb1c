"""Liveness, readiness (ready only when the mirror is fresh enough) and Prometheus metrics.

Nothing here shows the chain node's URL or credentials: errors are redacted before they are kept.
"""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ServicesDep
from api.models import Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the mirror is fresh enough",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: the mirror is stale or never synced"}},
)
def readyz(services: ServicesDep) -> JSONResponse:
    """200 when the chain mirror is fresher than the service's limit; 503 otherwise, also before
    the first sync (``mirror.synced`` false, ``age_seconds`` null)."""
    stale, age = services.is_stale()
    fresh = services.mirror.freshness()
    body: dict[str, Any] = {
        "ready": not stale,
        "mirror": {
            "synced": fresh.block_number > 0,
            "block_number": fresh.block_number,
            "block_time": fresh.block_time or None,
            "synced_at": fresh.synced_at or None,
            "age_seconds": None if math.isinf(age) else round(age, 1),
        },
        "stale_after_seconds": services.settings.stale_after,
        "last_sync_error": services.last_sync_error,
    }
    return JSONResponse(body, status_code=200 if not stale else 503)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"description": "Metrics", "content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}}},
)
def metrics(services: ServicesDep) -> Response:
    services.metrics.refresh_mirror(services.mirror)
    services.metrics.absorb_workers()
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
