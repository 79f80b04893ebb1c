"""Status subscriptions of relying departments (authenticated by their API key): subscribe to a
license (by id or digest) or to every license of an issuer, and receive signed webhooks when the
chain mirror sees its status change (:mod:`api.outbox`, :mod:`api.deliverer`,
:func:`verifier.webhooks.verify_webhook`). A department sees and changes only its own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from api.deps import IssuerDep, ServicesDep
from api.errors import responses
from api.subscription_models import (
    DELIVERY_ID,
    SUBSCRIPTION_ID,
    DeliveryState,
    DeliveryView,
    NewSubscription,
    SubscriptionRequest,
    SubscriptionView,
)

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])

SubscriptionPath = Annotated[str, Path(pattern=SUBSCRIPTION_ID, description="The subscription's id")]
DeliveryPath = Annotated[str, Path(pattern=DELIVERY_ID, description="The delivery's id")]


@router.post(
    "",
    status_code=201,
    response_model=NewSubscription,
    summary="Subscribe to status changes",
    responses=responses(401, 409, 422),
)
def subscribe(body: SubscriptionRequest, services: ServicesDep, department: IssuerDep) -> dict[str, Any]:
    """Deliveries start with the status changes the mirror confirms after this call. The answer
    holds the subscription's secret, shown only here: deliveries are signed with it
    (``X-Elicense-Signature: sha256=HMAC(secret, timestamp + "." + body)``)."""
    sub, secret = services.subscriptions.create(
        department,
        callback_url=body.callback_url,
        license_id=body.license_id,
        digest=body.digest,
        issuer=body.issuer.upper() if body.issuer else None,
    )
    return {**sub.public(), "secret": secret}


@router.get(
    "", response_model=list[SubscriptionView], summary="This department's subscriptions", responses=responses(401)
)
def list_subscriptions(services: ServicesDep, department: IssuerDep) -> list[dict[str, Any]]:
    return [s.public() for s in services.subscriptions.list_of(department)]


@router.get(
    "/{subscription_id}",
    response_model=SubscriptionView,
    summary="One of this department's subscriptions",
    responses=responses(401, 404),
)
def show_subscription(
    subscription_id: SubscriptionPath, services: ServicesDep, department: IssuerDep
) -> dict[str, Any]:
    """An ended subscription is shown too (``active`` false)."""
    return services.subscriptions.get(department, subscription_id).public()


@router.delete("/{subscription_id}", status_code=204, summary="End a subscription", responses=responses(401, 404))
def unsubscribe(subscription_id: SubscriptionPath, services: ServicesDep, department: IssuerDep) -> Response:
    """Nothing more is produced for it; its pending deliveries are cancelled."""
    services.subscriptions.delete(department, subscription_id)
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/deliveries",
    response_model=list[DeliveryView],
    summary="A subscription's deliveries",
    responses=responses(401, 404),
)
def list_deliveries(
    subscription_id: SubscriptionPath,
    services: ServicesDep,
    department: IssuerDep,
    state: Annotated[DeliveryState | None, Query(description="Only deliveries in this state")] = None,
    after: Annotated[int, Query(ge=0, le=2**62, description="Only deliveries after this sequence number")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return services.subscriptions.deliveries(department, subscription_id, state=state, after=after, limit=limit)


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/replay",
    response_model=DeliveryView,
    summary="Send a delivery again",
    responses=responses(401, 404),
)
def replay(
    subscription_id: SubscriptionPath, delivery_id: DeliveryPath, services: ServicesDep, department: IssuerDep
) -> dict[str, Any]:
    """The delivery is sent again with the same delivery id (receivers deduplicate on it) and a
    fresh set of attempts."""
    view = services.subscriptions.replay(department, subscription_id, delivery_id)
    services.deliverer.wake.set()
    return view
