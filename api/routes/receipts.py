"""The service's receipt key: what a relying department trusts to check receipts offline."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.errors import NoReceiptKeyError, responses
from api.receipt_models import ReceiptKey

router = APIRouter(prefix="/v1/receipts", tags=["verification"])


@router.get("/key", response_model=ReceiptKey, summary="The service's receipt signing key", responses=responses(503))
async def receipt_key(services: ServicesDep) -> dict[str, str]:
    """The id and Ed25519 public key receipts of this service are signed with (docs/receipts.md):
    save it and give it to ``elicense receipt verify FILE --trust KEYFILE``. 503 when the service
    signs no receipts."""
    identity = services.receipts.identity
    if identity is None:
        raise NoReceiptKeyError("this service signs no receipts (no ELICENSE_RECEIPT_KEY)")
    return identity.public.to_dict()
