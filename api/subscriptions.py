"""Status subscriptions: who subscribed to what (a department, by its API key, to a license by id
or digest, or to every license of an issuer), where deliveries go, and the deliveries' list and
replay. A department sees and changes only its own subscriptions."""

from __future__ import annotations

import ipaddress
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection, Engine

from api.errors import (
    InvalidSubscriptionError,
    NoWebhookKeyError,
    SealedSecretError,
    SubscriptionNotFoundError,
    TooManySubscriptionsError,
)
from api.subscription_secrets import WebhookKey
from api.subscription_tables import deliveries, subscriptions
from registry.document.identifiers import validate_uscc
from registry.errors import ConfigurationError
from registry.issuer.store import IssuerStore
from verifier.mirror import Mirror

__all__ = [
    "MAX_SUBSCRIPTIONS",
    "Subscription",
    "SubscriptionBook",
    "delivery_view",
    "is_private_address",
    "validate_callback_url",
]

MAX_SUBSCRIPTIONS = 1000  # active subscriptions per department
MAX_URL = 2048


def is_private_address(host: str) -> bool:
    """Whether ``host`` (an IP literal or a name) is a loopback, private, link-local, reserved,
    multicast or unspecified address, or ``localhost``: a callback there would let a subscriber
    make the service reach its own network."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return not address.is_global or address.is_multicast


def validate_callback_url(url: object, *, allow_private: bool = False) -> str:
    """An http(s) URL with a host, at most 2048 characters, without credentials or a fragment, and
    (unless ``allow_private``: the ``ELICENSE_WEBHOOK_ALLOW_PRIVATE`` setting) not naming a private
    or loopback address. The URL is never echoed in the refusal (it may carry a token in its path
    or query)."""
    if not isinstance(url, str) or not 1 <= len(url) <= MAX_URL or not url.isascii() or not url.isprintable():
        raise InvalidSubscriptionError(f"callback_url must be printable ASCII of 1 to {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidSubscriptionError(
            "callback_url is not a valid URL (expected http(s)://host[:port]/path)"
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSubscriptionError("callback_url must be an http:// or https:// URL with a host")
    if parts.username is not None or parts.password is not None:
        raise InvalidSubscriptionError("callback_url must not carry credentials (user:password@); use the secret")
    if parts.fragment or " " in url:
        raise InvalidSubscriptionError("callback_url must not have a fragment (#...) or spaces")
    if port == 0:
        raise InvalidSubscriptionError("callback_url's port must be from 1 to 65535")
    if not allow_private and is_private_address(parts.hostname):
        raise InvalidSubscriptionError(
            "callback_url names a loopback or private address; callbacks go to public hosts "
            "(ELICENSE_WEBHOOK_ALLOW_PRIVATE=1 allows them, for a closed network)"
        )
    return url


def _digest(value: object) -> str:
    if not isinstance(value, str) or len(value) != 66 or not value.startswith("0x"):
        raise InvalidSubscriptionError("digest must be 0x and 64 hex digits")
    try:
        bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidSubscriptionError("digest must be 0x and 64 hex digits") from None
    return value.lower()


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    subscriber: str
    target_kind: str
    target: str
    license_id: str | None
    callback_url: str
    created_at: int
    active: bool

    def public(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "callback_url": self.callback_url,
            "created_at": self.created_at,
            "active": self.active,
        }
        if self.target_kind == "issuer":
            out["issuer"] = self.target
        else:
            out["digest"] = self.target
            out["license_id"] = self.license_id
        return out


def _subscription(row: Any) -> Subscription:
    return Subscription(
        row.id,
        row.subscriber,
        row.target_kind,
        row.target,
        row.license_id,
        row.callback_url,
        row.created_at,
        row.active,
    )


class SubscriptionBook:
    """The departments' subscriptions and their deliveries, each department seeing only its own."""

    def __init__(
        self, store: IssuerStore, mirror: Mirror, *, key: WebhookKey | None = None, allow_private: bool = False
    ) -> None:
        self.store = store
        self.engine: Engine = store.engine
        self.mirror = mirror
        self.key = key  # seals the secrets at rest; without one, no subscription can be made
        self.allow_private = allow_private

    # -- the secrets at rest -----------------------------------------------------------------------

    def _key(self) -> WebhookKey:
        if self.key is None:
            raise NoWebhookKeyError(
                "this service has no webhook key to seal subscription secrets with: create one with "
                "`elicense webhook key create NAME` and start the service with ELICENSE_WEBHOOK_KEY=NAME (and its "
                "password in ELICENSE_WEBHOOK_KEY_PASSWORD or ELICENSE_WEBHOOK_KEY_PASSWORD_FILE)"
            )
        return self.key

    def secret_of(self, subscription_id: str, box: bytes | None) -> str:
        """A subscription's secret, opened with the webhook key (:class:`SealedSecretError` when it
        does not open: another key, another subscription's box, an altered row)."""
        if box is None:
            raise SealedSecretError(f"subscription {subscription_id} has no sealed secret (start with the webhook key)")
        return self._key().open(subscription_id, bytes(box))

    def prepare(self) -> int:
        """At start: seal the plain secrets a database of revision 0005 holds (with the webhook key,
        wiping the plain text) and check that the key is the one the sealed ones were sealed with;
        returns how many were sealed. A wrong key, or plain secrets and no key, refuse the start."""
        with self.engine.connect() as conn:
            plain = conn.execute(select(subscriptions.c.id).where(subscriptions.c.secret.is_not(None))).scalars().all()
            key_ids = set(
                conn.execute(select(subscriptions.c.secret_box).where(subscriptions.c.secret_box.is_not(None)))
                .scalars()
                .all()
            )
        if self.key is not None:
            wrong = {bytes(b)[1:9].hex() for b in key_ids} - {self.key.key_id.hex()}
            if wrong:
                raise ConfigurationError(
                    f"the subscription secrets were sealed with webhook key {', '.join(sorted(wrong))}, but "
                    f"ELICENSE_WEBHOOK_KEY holds key {self.key.key_id.hex()}: start with the key they were sealed with"
                )
        if not plain:
            return 0
        if self.key is None:
            raise ConfigurationError(
                f"{len(plain)} subscription secrets are stored in plain text (a database of an earlier version): "
                "start the service with its webhook key (ELICENSE_WEBHOOK_KEY, made with `elicense webhook key "
                "create`) to seal them"
            )
        with self.engine.begin() as conn:
            _wipe_freed_pages(conn)
            for row in conn.execute(
                select(subscriptions.c.id, subscriptions.c.secret).where(subscriptions.c.secret.is_not(None))
            ):
                conn.execute(
                    update(subscriptions)
                    .where(subscriptions.c.id == row.id)
                    .values(secret=None, secret_box=self.key.seal(row.id, str(row.secret)))
                )
        if self.engine.dialect.name == "sqlite":
            with self.engine.connect() as conn:  # the plain text's old pages leave the write-ahead log
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(plain)

    def create(
        self,
        subscriber: str,
        *,
        callback_url: str,
        license_id: str | None = None,
        digest: str | None = None,
        issuer: str | None = None,
    ) -> tuple[Subscription, str]:
        """A new subscription; returns it and its secret (shown once)."""
        url = validate_callback_url(callback_url, allow_private=self.allow_private)
        key = self._key()
        if (issuer is not None) + (digest is not None or license_id is not None) != 1:
            raise InvalidSubscriptionError("name exactly one target: license_id and/or digest, or issuer")
        if issuer is not None:
            try:
                kind, target, lid = "issuer", validate_uscc(issuer, field="issuer"), None
            except ValueError as exc:  # the credit code's own check (GB 32100)
                raise InvalidSubscriptionError(str(exc)) from None
        else:
            kind, target, lid = self._license_target(license_id, digest)
        with self.engine.begin() as conn:
            count = conn.execute(
                select(subscriptions.c.id).where(
                    (subscriptions.c.subscriber == subscriber) & subscriptions.c.active.is_(True)
                )
            ).all()
            if len(count) >= MAX_SUBSCRIPTIONS:
                raise TooManySubscriptionsError(f"a department holds at most {MAX_SUBSCRIPTIONS} active subscriptions")
            sub_id = "sub_" + secrets.token_hex(8)
            secret = "whsec_" + secrets.token_urlsafe(32)
            now = int(time.time())
            conn.execute(
                insert(subscriptions).values(
                    id=sub_id,
                    subscriber=subscriber,
                    target_kind=kind,
                    target=target,
                    license_id=lid,
                    callback_url=url,
                    secret=None,  # never stored in plain text
                    secret_box=key.seal(sub_id, secret),
                    after_event=self.mirror.last_event_id(),
                    created_at=now,
                    active=True,
                )
            )
        return Subscription(sub_id, subscriber, kind, target, lid, url, now, True), secret

    def _license_target(self, license_id: str | None, digest: str | None) -> tuple[str, str, str | None]:
        if license_id is not None and (
            not isinstance(license_id, str)
            or not 1 <= len(license_id) <= 40
            or not license_id.isascii()
            or not license_id.isalnum()
        ):
            raise InvalidSubscriptionError("license_id must be 1 to 40 ASCII letters and digits")
        wanted = None if digest is None else _digest(digest)
        if license_id is None:
            return "digest", str(wanted), None
        row = self.store.get(license_id)
        if row is None:
            if wanted is None:
                raise InvalidSubscriptionError(
                    f"this service does not know license {license_id}: subscribe with its digest too "
                    "(the verification result's 'digest')"
                )
            return "license", wanted, license_id
        known = "0x" + bytes(row.digest).hex()
        if wanted is not None and wanted != known:
            raise InvalidSubscriptionError(f"license {license_id} has another digest than the one given")
        return "license", known, license_id

    def get(self, subscriber: str, sub_id: str) -> Subscription:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(subscriptions).where((subscriptions.c.id == sub_id) & (subscriptions.c.subscriber == subscriber))
            ).first()
        if row is None or not isinstance(sub_id, str):
            raise SubscriptionNotFoundError(f"no subscription {sub_id[:30]!r} of this department")
        return _subscription(row)

    def list_of(self, subscriber: str) -> list[Subscription]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(subscriptions)
                .where((subscriptions.c.subscriber == subscriber) & subscriptions.c.active.is_(True))
                .order_by(subscriptions.c.created_at, subscriptions.c.id)
            ).all()
        return [_subscription(r) for r in rows]

    def delete(self, subscriber: str, sub_id: str) -> None:
        """End a subscription: nothing more is produced for it and its pending deliveries are cancelled."""
        self.get(subscriber, sub_id)
        with self.engine.begin() as conn:
            _wipe_freed_pages(conn)
            conn.execute(
                update(subscriptions)
                .where(subscriptions.c.id == sub_id)
                .values(active=False, secret=None, secret_box=None)  # its secret is no longer needed
            )
            conn.execute(
                update(deliveries)
                .where((deliveries.c.subscription_id == sub_id) & (deliveries.c.state == "pending"))
                .values(state="cancelled")
            )

    def deliveries(
        self, subscriber: str, sub_id: str, *, state: str | None = None, after: int = 0, limit: int = 100
    ) -> list[dict[str, Any]]:
        self.get(subscriber, sub_id)
        query = select(deliveries).where((deliveries.c.subscription_id == sub_id) & (deliveries.c.id > after))
        if state is not None:
            query = query.where(deliveries.c.state == state)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(deliveries.c.id).limit(limit)).all()
        return [delivery_view(r) for r in rows]

    def replay(self, subscriber: str, sub_id: str, delivery_uid: str) -> dict[str, Any]:
        """Send a delivery again (same delivery id), whatever its state, with its retries renewed."""
        if not self.get(subscriber, sub_id).active:
            raise SubscriptionNotFoundError(f"subscription {sub_id} has ended")
        where = (deliveries.c.subscription_id == sub_id) & (deliveries.c.uid == delivery_uid)
        with self.engine.begin() as conn:
            done = conn.execute(
                update(deliveries).where(where).values(state="pending", attempts=0, next_attempt_at=time.time())
            )
            row = conn.execute(select(deliveries).where(where)).first()
        if not done.rowcount or row is None:
            raise SubscriptionNotFoundError(f"no delivery {delivery_uid[:40]!r} in subscription {sub_id}")
        return delivery_view(row)


def _wipe_freed_pages(conn: Connection) -> None:
    """On SQLite, zero the space a rewritten secret leaves (else the old bytes stay in the file)."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("PRAGMA secure_delete=ON"))


def delivery_view(row: Any) -> dict[str, Any]:
    return {
        "delivery_id": row.uid,
        "sequence": row.id,
        "event": row.event,
        "digest": "0x" + bytes(row.digest).hex(),
        "license_id": row.license_id,
        "block_number": row.block_number,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt_at": row.next_attempt_at if row.state == "pending" else None,
        "last_error": row.last_error,
        "created_at": row.created_at,
        "delivered_at": row.delivered_at,
    }
