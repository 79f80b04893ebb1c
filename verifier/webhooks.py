"""Signed webhooks of status subscriptions: how a delivery is signed, and how a receiver checks it.

A delivery is an HTTP POST of a JSON body with three headers:

- ``X-Elicense-Delivery``: the delivery's id (the same on every attempt and replay: receivers
  deduplicate on it, since delivery is at least once);
- ``X-Elicense-Timestamp``: when this attempt was sent, in whole seconds since the epoch;
- ``X-Elicense-Signature``: ``sha256=`` and the hex HMAC-SHA256, keyed with the subscription's
  secret, of ``timestamp + "." + body``.

A receiver calls :func:`verify_webhook` with the secret it was shown when it subscribed; it needs
nothing else from this project (no chain, no network). Every failure is one opaque
:class:`WebhookSignatureError`: a forged, tampered, replayed-too-late or malformed delivery is
refused the same way.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from registry.errors import RegistryError

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "WebhookSignatureError",
    "sign_webhook",
    "verify_webhook",
]

DELIVERY_HEADER = "X-Elicense-Delivery"
TIMESTAMP_HEADER = "X-Elicense-Timestamp"
SIGNATURE_HEADER = "X-Elicense-Signature"
_PREFIX = "sha256="
#: Bodies larger than this are refused before any hashing (a delivery is well under 2 KB).
MAX_BODY = 64 * 1024


class WebhookSignatureError(RegistryError, ValueError):
    """A webhook delivery whose signature, timestamp or headers do not check out."""

    http_status = 401
    title = "Invalid webhook signature"


def _mac(secret: str, timestamp: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def sign_webhook(secret: str, delivery_id: str, body: bytes, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers of one attempt to deliver ``body``."""
    if not isinstance(secret, str) or not 16 <= len(secret) <= 200:
        raise ValueError("a webhook secret is a string of 16 to 200 characters")
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        DELIVERY_HEADER: delivery_id,
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: _PREFIX + _mac(secret, stamp, body),
    }


def _header(headers: Mapping[str, str], name: str) -> str:
    lowered = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == lowered and isinstance(value, str):
            return value
    raise WebhookSignatureError(f"the {name} header is missing")


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> str:
    """Check a received delivery; returns its delivery id. Refuses (:class:`WebhookSignatureError`)
    a missing or malformed header, a timestamp more than ``tolerance`` seconds from ``now``, a body
    over 64 KB, and any signature that is not the HMAC of this timestamp and body with ``secret``."""
    if not isinstance(body, bytes | bytearray) or len(body) > MAX_BODY:
        raise WebhookSignatureError(f"the body must be bytes of at most {MAX_BODY}")
    if not tolerance > 0:
        raise ValueError("tolerance must be positive (seconds)")
    delivery = _header(headers, DELIVERY_HEADER)
    stamp = _header(headers, TIMESTAMP_HEADER)
    signature = _header(headers, SIGNATURE_HEADER)
    if not (1 <= len(delivery) <= 64 and delivery.isascii() and delivery.isprintable()):
        raise WebhookSignatureError("the delivery id is malformed")
    if not (stamp.isdigit() and stamp.isascii() and len(stamp) <= 12):
        raise WebhookSignatureError("the timestamp is not whole seconds since the epoch")
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance:
        raise WebhookSignatureError(f"the timestamp is more than {tolerance:.0f} s away from now")
    given = signature[len(_PREFIX) :]
    if not signature.startswith(_PREFIX) or len(given) != 64 or not all(c in "0123456789abcdef" for c in given):
        raise WebhookSignatureError("the signature is not sha256=<64 lowercase hex digits>")
    if not hmac.compare_digest(given, _mac(secret, stamp, bytes(body))):
        raise WebhookSignatureError("the signature does not match")
    return delivery
