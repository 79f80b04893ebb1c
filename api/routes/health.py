"""Liveness, readiness (ready only when the mirror is fresh enough) and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ServicesDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: the mirror is fresh enough")
def readyz(services: ServicesDep) -> JSONResponse:
    stale, age = services.is_stale()
    fresh = services.mirror.freshness()
    body: dict[str, Any] = {
        "ready": not stale,
        "mirror": {
            "block_number": fresh.block_number,
            "block_time": fresh.block_time,
            "synced_at": fresh.synced_at or None,
            "age_seconds": round(age, 1),
        },
        "stale_after_seconds": services.settings.stale_after,
        "last_sync_error": services.last_sync_error,
    }
    return JSONResponse(body, status_code=200 if not stale else 503)


@router.get("/metrics", summary="Prometheus metrics")
def metrics(services: ServicesDep) -> Response:
    fresh = services.mirror.freshness()
    services.metrics.mirror_block.set(fresh.block_number)
    services.metrics.mirror_age.set(fresh.age())
    return Response(generate_latest(services.metrics.registry), media_type=CONTENT_TYPE_LATEST)
