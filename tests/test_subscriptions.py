"""Status subscriptions: the webhook signature (attacks first), the callback URL's checks, the
outbox's producer over a real mirror of an in-process chain (each change once, in chain order,
nothing for what came before a subscription, key compromises), the deliverer against a real HTTP
receiver (signed, in order per license, retries with backoff, give-up and replay), and the API (a
department sees only its own)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.deliverer import (
    Deliverer,
    DeliveryPolicy,
    PrivateAddressError,
    http_post,
    http_post_allowing_private,
    resolves_privately,
)
from api.errors import InvalidSubscriptionError, SubscriptionNotFoundError
from api.main import create_app
from api.outbox import Producer
from api.services import Services
from api.settings import Settings
from api.subscription_secrets import WebhookKey
from api.subscription_tables import deliveries, webhook_cursor
from api.subscriptions import SubscriptionBook, validate_callback_url
from devkit.samples import SampleFactory
from devkit.webhook_receiver import WebhookReceiver
from devkit.world import DepartmentSetup, deploy_department
from registry import connect
from registry.document.identifiers import issuer_id_from_uscc
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore, LicenseRow
from verifier.mirror import Mirror
from verifier.webhooks import WebhookSignatureError, sign_webhook, verify_webhook

SECRET = "whsec_" + "k" * 40
RELYING = "91310000MA1FL8LQ34"  # a Shanghai department relying on Beijing's licenses
KEY = WebhookKey.generate()


# -- the signature: attacks first -------------------------------------------------------------------


def _signed(body: bytes = b'{"event":"revoked"}', at: int = 1_800_000_000) -> dict[str, str]:
    return sign_webhook(SECRET, "dlv_" + "0" * 24, body, timestamp=at)


def test_a_tampered_body_is_refused():
    headers = _signed()
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_webhook(SECRET, headers, b'{"event":"reinstated"}', now=1_800_000_000)


def test_another_secret_is_refused():
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_webhook("whsec_" + "x" * 40, _signed(), b'{"event":"revoked"}', now=1_800_000_000)


def test_a_changed_timestamp_is_refused():
    headers = {**_signed(), "X-Elicense-Timestamp": "1800000001"}
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_webhook(SECRET, headers, b'{"event":"revoked"}', now=1_800_000_000)


def test_an_old_delivery_replayed_is_refused():
    with pytest.raises(WebhookSignatureError, match="away from now"):
        verify_webhook(SECRET, _signed(at=1_800_000_000), b'{"event":"revoked"}', now=1_800_000_301)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("X-Elicense-Signature", "sha1=" + "0" * 64, "sha256="),
        ("X-Elicense-Signature", "sha256=" + "0" * 63, "sha256="),
        ("X-Elicense-Signature", "sha256=" + "é" * 64, "sha256="),
        ("X-Elicense-Timestamp", "-1", "whole seconds"),
        ("X-Elicense-Timestamp", "1e9", "whole seconds"),
        ("X-Elicense-Timestamp", "9" * 40, "whole seconds"),
        ("X-Elicense-Delivery", "", "malformed"),
        ("X-Elicense-Delivery", "x" * 65, "malformed"),
        ("X-Elicense-Delivery", "a\nb", "malformed"),
    ],
)
def test_malformed_headers_are_refused(name, value, message):
    headers = {**_signed(), name: value}
    with pytest.raises(WebhookSignatureError, match=message):
        verify_webhook(SECRET, headers, b'{"event":"revoked"}', now=1_800_000_000)


@pytest.mark.parametrize("missing", ["X-Elicense-Signature", "X-Elicense-Timestamp", "X-Elicense-Delivery"])
def test_a_missing_header_is_refused(missing):
    headers = {k: v for k, v in _signed().items() if k != missing}
    with pytest.raises(WebhookSignatureError, match=f"{missing} header is missing"):
        verify_webhook(SECRET, headers, b'{"event":"revoked"}', now=1_800_000_000)


def test_an_oversized_body_is_refused_before_hashing():
    body = b"x" * (64 * 1024 + 1)
    with pytest.raises(WebhookSignatureError, match="at most"):
        verify_webhook(SECRET, sign_webhook(SECRET, "dlv_1", body, timestamp=1), body, now=1)


def test_a_good_delivery_passes_with_headers_in_any_case():
    headers = {k.lower(): v for k, v in _signed().items()}
    assert verify_webhook(SECRET, headers, b'{"event":"revoked"}', now=1_800_000_100) == "dlv_" + "0" * 24


# -- the callback URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://user:pw-SECRETTOKEN@hooks.example.cn/x", "credentials"),
        ("https://token-SECRETTOKEN@hooks.example.cn/x", "credentials"),
        ("ftp://hooks.example.cn/x", "http:// or https://"),
        ("file:///etc/passwd", "http:// or https://"),
        ("https:///no-host", "http:// or https://"),
        ("https://hooks.example.cn/x#frag-SECRETTOKEN", "fragment"),
        ("https://hooks.example.cn:99999-SECRETTOKEN/x", "not a valid URL"),
        ("https://hooks.example.cn/" + "a" * 2048, "2048"),
        ("https://例子.cn/hooks", "ASCII"),
        ("", "1 to 2048"),
        (None, "1 to 2048"),
    ],
)
def test_bad_callback_urls_are_refused_without_echoing_them(url, message):
    with pytest.raises(InvalidSubscriptionError, match=message) as caught:
        validate_callback_url(url)
    assert "SECRETTOKEN" not in str(caught.value)


def test_http_and_https_callbacks_are_accepted():
    for url in ("http://approvals.example.cn:8080/hooks", "https://approvals.example.cn/hooks?region=310000"):
        assert validate_callback_url(url) == url
    assert validate_callback_url("http://127.0.0.1:8080/hooks", allow_private=True) == "http://127.0.0.1:8080/hooks"


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "10.0.0.8", "192.168.1.20", "172.16.5.4", "169.254.169.254", "[::1]", "[fd00::1]", "localhost",
     "api.localhost", "0.0.0.0", "100.64.0.1"],
)  # fmt: skip
def test_callbacks_to_the_services_own_network_are_refused_by_default(host):
    """A subscriber must not make the service reach loopback, private or cloud-metadata addresses."""
    with pytest.raises(InvalidSubscriptionError, match="loopback or private"):
        validate_callback_url(f"http://{host}:8080/hooks")


def test_a_public_name_resolving_to_loopback_is_refused_at_delivery():
    with pytest.raises(PrivateAddressError):
        http_post("http://localhost:9/hooks", b"{}", {}, 1.0)  # `localhost`: named, resolves to 127.0.0.1
    assert resolves_privately("http://127.0.0.1:9/h")


# -- the producer over a real mirror ----------------------------------------------------------------


@dataclass
class Outbox:
    setup: DepartmentSetup
    department: Department
    rows: list[LicenseRow]
    store: IssuerStore
    mirror: Mirror
    book: SubscriptionBook
    producer: Producer

    def sync(self) -> int:
        self.mirror.sync(self.setup.client)
        return self.producer.produce()

    def digest(self, i: int) -> str:
        return "0x" + self.rows[i].digest.hex()

    def produced(self, sub_id: str) -> list[tuple[str, str]]:
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(deliveries.c.event, deliveries.c.digest)
                .where(deliveries.c.subscription_id == sub_id)
                .order_by(deliveries.c.id)
            ).all()
        return [(e, "0x" + bytes(d).hex()) for e, d in rows]


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    setup = deploy_department(connect(None))
    store = IssuerStore.at(tmp_path / "store.db")
    department = setup.department(store)
    samples = SampleFactory(11)
    rows = department.issue_many([samples.business_license() for _ in range(4)])
    department.anchor_pending()
    mirror = Mirror.at(tmp_path / "mirror.db", setup.client.deployment, confirmations=1)
    producer = Producer(store, mirror, chain_id=setup.client.deployment.chain_id)
    box = Outbox(
        setup, department, rows, store, mirror, SubscriptionBook(store, mirror, key=KEY, allow_private=True), producer
    )
    box.sync()
    yield box
    mirror.close()
    store.close()


def test_each_status_change_is_produced_once_in_chain_order(outbox: Outbox):
    by_digest, _ = outbox.book.create(RELYING, callback_url="http://127.0.0.1:9/h", digest=outbox.digest(0))
    by_id, _ = outbox.book.create(RELYING, callback_url="http://127.0.0.1:9/h", license_id=outbox.rows[1].license_id)
    by_issuer, _ = outbox.book.create(RELYING, callback_url="http://127.0.0.1:9/h", issuer=outbox.setup.uscc)
    d = outbox.department
    d.suspend([outbox.rows[0].license_id], reason=3)
    d.reinstate([outbox.rows[0].license_id])
    d.revoke([outbox.rows[0].license_id, outbox.rows[1].license_id], reason=7)
    assert outbox.sync() == 3 + 1 + 4
    assert outbox.sync() == 0  # nothing twice
    zero, one = outbox.digest(0), outbox.digest(1)
    assert outbox.produced(by_digest.id) == [("suspended", zero), ("reinstated", zero), ("revoked", zero)]
    assert outbox.produced(by_id.id) == [("revoked", one)]
    assert outbox.produced(by_issuer.id) == [
        ("suspended", zero),
        ("reinstated", zero),
        ("revoked", zero),
        ("revoked", one),
    ]
    with outbox.store.engine.connect() as conn:
        payload = json.loads(
            conn.execute(select(deliveries.c.payload).where(deliveries.c.subscription_id == by_id.id)).scalar_one()
        )
    assert payload["license_id"] == outbox.rows[1].license_id
    assert payload["reason"] == 7
    assert payload["issuer"] == outbox.setup.uscc
    # no holder data: only chain facts and the license id
    assert set(payload) == {
        "delivery_id",
        "subscription_id",
        "event",
        "license_id",
        "digest",
        "issuer",
        "issuer_id",
        "reason",
        "chain",
        "produced_at",
    }
    text = json.dumps(payload, ensure_ascii=False)
    assert outbox.rows[1].fields
    for value in outbox.rows[1].fields.values():
        assert len(str(value)) < 3 or str(value) not in text


def test_changes_before_a_subscription_are_not_delivered_to_it(outbox: Outbox):
    outbox.department.suspend([outbox.rows[2].license_id], reason=1)
    outbox.sync()
    sub, _ = outbox.book.create(RELYING, callback_url="http://127.0.0.1:9/h", digest=outbox.digest(2))
    outbox.department.reinstate([outbox.rows[2].license_id])
    outbox.sync()
    assert outbox.produced(sub.id) == [("reinstated", outbox.digest(2))]


def test_events_read_again_produce_nothing_twice(outbox: Outbox):
    """As after a reorganisation repair that stored the same transactions again, or a cursor put
    back: the unique key per subscription and chain fact keeps one delivery."""
    sub, _ = outbox.book.create(RELYING, callback_url="http://127.0.0.1:9/h", issuer=outbox.setup.uscc)
    outbox.department.revoke([r.license_id for r in outbox.rows], reason=2)
    assert outbox.sync() == 4
    with outbox.store.engine.begin() as conn:
        conn.execute(update(webhook_cursor).values(event_id=0, epoch="7"))
    assert outbox.producer.produce() == 0
    assert len(outbox.produced(sub.id)) == 4
    assert outbox.producer.cursor() == (outbox.mirror.last_event_id(), outbox.mirror.epoch())


def test_a_key_compromise_names_the_licenses_anchored_after_it(outbox: Outbox):
    sub, _ = outbox.book.create(RELYING, callback_url="http://127.0.0.1:9/h", issuer=outbox.setup.uscc)
    client = outbox.setup.client
    compromised_at = client.w3.eth.get_block("latest")["timestamp"] + 1
    later = outbox.department.issue_many([SampleFactory(12).business_license() for _ in range(2)])
    outbox.department.anchor_pending()
    issuer_id = issuer_id_from_uscc(outbox.setup.uscc)
    client.declare_key_compromised(
        outbox.setup.authority, issuer_id, outbox.setup.key.address, compromised_at=compromised_at
    )
    outbox.sync()
    produced = outbox.produced(sub.id)
    assert sorted(produced) == sorted(("key_compromised", "0x" + r.digest.hex()) for r in later)


def test_a_subscription_needs_one_valid_target(outbox: Outbox):
    url = "http://127.0.0.1:9/h"
    with pytest.raises(InvalidSubscriptionError, match="exactly one target"):
        outbox.book.create(RELYING, callback_url=url)
    with pytest.raises(InvalidSubscriptionError, match="exactly one target"):
        outbox.book.create(RELYING, callback_url=url, digest=outbox.digest(0), issuer=outbox.setup.uscc)
    with pytest.raises(InvalidSubscriptionError, match="does not know license"):
        outbox.book.create(RELYING, callback_url=url, license_id="BL11" + "0" * 27)
    with pytest.raises(InvalidSubscriptionError, match="another digest"):
        outbox.book.create(RELYING, callback_url=url, license_id=outbox.rows[0].license_id, digest=outbox.digest(1))
    with pytest.raises(InvalidSubscriptionError, match="64 hex"):
        outbox.book.create(RELYING, callback_url=url, digest="0x" + "g" * 64)
    with pytest.raises(InvalidSubscriptionError, match="issuer"):
        outbox.book.create(RELYING, callback_url=url, issuer="91310000MA1FL8LQ3X")


# -- the deliverer against a real receiver ----------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = time.time()  # receivers check the signed timestamp against their own clock

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver().start()
    yield r
    r.stop()


def test_deliveries_arrive_signed_and_in_order_per_license_through_failures(outbox: Outbox, receiver):
    sub, secret = outbox.book.create(RELYING, callback_url=receiver.url, issuer=outbox.setup.uscc)
    receiver.secrets[sub.id] = secret
    d = outbox.department
    d.suspend([outbox.rows[0].license_id], reason=1)
    d.revoke([outbox.rows[1].license_id], reason=1)
    d.reinstate([outbox.rows[0].license_id])
    d.revoke([outbox.rows[0].license_id], reason=2)
    assert outbox.sync() == 4
    clock = Clock()
    deliverer = Deliverer(
        outbox.store.engine,
        DeliveryPolicy(base_delay=10.0),
        secret_of=outbox.book.secret_of,
        concurrency=1,  # one at a time: which attempt the receiver fails is then known
        clock=clock,
        rng=random.Random(1),
        post=http_post_allowing_private,
    )
    receiver.fail_next = 1  # the first (license 0's suspension) fails
    assert deliverer.run_once() == 1  # only license 1's revocation: license 0 waits for its first
    assert [r.body["event"] for r in receiver.accepted()] == ["revoked"]
    assert receiver.accepted()[0].body["digest"] == outbox.digest(1)
    assert deliverer.run_once() == 0  # not due yet (backoff)
    clock.now += 10.0
    assert deliverer.run_once() == 3
    zero = [r.body["event"] for r in receiver.accepted() if r.body["digest"] == outbox.digest(0)]
    assert zero == ["suspended", "reinstated", "revoked"]
    assert all(r.verified for r in receiver.received if r.status != 401)
    first = [r for r in receiver.received if r.body["event"] == "suspended"]
    assert len(first) == 2
    assert first[0].delivery_id == first[1].delivery_id


def test_retries_back_off_exponentially_with_jitter_then_give_up_and_replay(outbox: Outbox, receiver):
    sub, secret = outbox.book.create(RELYING, callback_url=receiver.url, digest=outbox.digest(3))
    receiver.secrets[sub.id] = secret
    outbox.department.revoke([outbox.rows[3].license_id], reason=1)
    outbox.sync()
    clock = Clock()
    policy = DeliveryPolicy(max_attempts=5, base_delay=2.0, max_delay=10.0)
    deliverer = Deliverer(
        outbox.store.engine,
        policy,
        secret_of=outbox.book.secret_of,
        clock=clock,
        rng=random.Random(2),
        post=http_post_allowing_private,
    )
    with outbox.store.engine.begin() as conn:
        conn.execute(update(deliveries).values(next_attempt_at=clock.now))
    receiver.fail_next = 100
    waits = []
    for _ in range(5):
        assert deliverer.run_once() == 0
        (view,) = outbox.book.deliveries(RELYING, sub.id)
        if view["state"] == "failed":
            break
        waits.append(view["next_attempt_at"] - clock.now)
        clock.now = view["next_attempt_at"]
    ceilings = [2.0, 4.0, 8.0, 10.0]
    assert len(waits) == 4
    assert all(c / 2 <= w <= c for w, c in zip(waits, ceilings, strict=True)), waits
    (view,) = outbox.book.deliveries(RELYING, sub.id)
    assert (view["state"], view["attempts"], view["last_error"]) == ("failed", 5, "HTTP 500")
    receiver.fail_next = 0
    replayed = outbox.book.replay(RELYING, sub.id, view["delivery_id"])
    assert replayed["state"] == "pending"
    assert deliverer.run_once() == 1
    (got,) = receiver.accepted()
    assert got.delivery_id == view["delivery_id"]
    with pytest.raises(SubscriptionNotFoundError):
        outbox.book.replay("11110000MB0195560T", sub.id, view["delivery_id"])


def test_an_unreachable_callback_is_retried_not_lost(outbox: Outbox):
    sub, _ = outbox.book.create(RELYING, callback_url="http://127.0.0.1:9/closed", digest=outbox.digest(3))
    outbox.department.suspend([outbox.rows[3].license_id], reason=1)
    outbox.sync()
    deliverer = Deliverer(
        outbox.store.engine,
        DeliveryPolicy(timeout=2.0),
        secret_of=outbox.book.secret_of,
        post=http_post_allowing_private,
    )
    assert deliverer.run_once() == 0
    (view,) = outbox.book.deliveries(RELYING, sub.id)
    assert view["state"] == "pending"
    assert view["attempts"] == 1
    assert view["last_error"] == "ConnectionError"


# -- the API ----------------------------------------------------------------------------------------


def test_the_api_shows_each_department_only_its_own(outbox: Outbox, tmp_path: Path):
    services = Services(
        Settings(home=tmp_path),
        deployment=outbox.setup.client.deployment,
        client=outbox.setup.client,
        mirror=outbox.mirror,
        store=outbox.store,
        follow=False,
    )
    _, relying_key = services.api_keys.create(RELYING, "relying")
    _, other_key = services.api_keys.create(outbox.setup.uscc, "issuer")
    mine = {"Authorization": f"Bearer {relying_key}"}
    theirs = {"Authorization": f"Bearer {other_key}"}
    with TestClient(create_app(services)) as client:
        private = {"digest": outbox.digest(0), "callback_url": "http://127.0.0.1:9/h"}
        assert client.post("/v1/subscriptions", json=private, headers=mine).status_code == 422  # own network
        body = {"digest": outbox.digest(0), "callback_url": "https://approvals.example.cn/h"}
        assert client.post("/v1/subscriptions", json=body).status_code == 401
        created = client.post("/v1/subscriptions", json=body, headers=mine)
        assert created.status_code == 201, created.text
        sub = created.json()
        assert sub["secret"].startswith("whsec_")
        assert sub["digest"] == outbox.digest(0)
        listed = client.get("/v1/subscriptions", headers=mine).json()
        assert [s["id"] for s in listed] == [sub["id"]]
        assert "secret" not in listed[0]
        assert client.get("/v1/subscriptions", headers=theirs).json() == []
        assert client.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=theirs).status_code == 404
        assert client.delete(f"/v1/subscriptions/{sub['id']}", headers=theirs).status_code == 404
        bad = client.post("/v1/subscriptions", json={**body, "callback_url": "ftp://x/y"}, headers=mine)
        assert bad.status_code == 422
        assert bad.json()["detail"].startswith("body.callback_url:")
        outbox.department.revoke([outbox.rows[0].license_id], reason=1)
        outbox.mirror.sync(outbox.setup.client)
        services.produce_deliveries()
        (delivery,) = client.get(f"/v1/subscriptions/{sub['id']}/deliveries", headers=mine).json()
        assert delivery["event"] == "revoked"
        assert delivery["digest"] == outbox.digest(0)
        replay = f"/v1/subscriptions/{sub['id']}/deliveries/{delivery['delivery_id']}/replay"
        assert client.post(replay, headers=theirs).status_code == 404
        assert client.post(replay, headers=mine).status_code == 200
        assert client.delete(f"/v1/subscriptions/{sub['id']}", headers=mine).status_code == 204
        assert client.get("/v1/subscriptions", headers=mine).json() == []
        (cancelled,) = outbox.book.deliveries(RELYING, sub["id"])
        assert cancelled["state"] == "cancelled"


def test_the_outbox_on_postgresql(outbox: Outbox, postgres_url: str, receiver):
    """The same producer and deliverer over an issuer store on the real PostgreSQL: each change once
    (the unique key's conflict handling there), delivered in order."""
    store = IssuerStore(postgres_url)
    try:
        producer = Producer(store, outbox.mirror, chain_id=outbox.setup.client.deployment.chain_id)
        book = SubscriptionBook(store, outbox.mirror, key=KEY, allow_private=True)
        producer.produce()
        sub, secret = book.create(RELYING, callback_url=receiver.url, digest=outbox.digest(0))
        receiver.secrets[sub.id] = secret
        outbox.department.suspend([outbox.rows[0].license_id], reason=1)
        outbox.department.revoke([outbox.rows[0].license_id], reason=1)
        outbox.mirror.sync(outbox.setup.client)
        assert producer.produce() == 2
        with store.engine.begin() as conn:
            conn.execute(update(webhook_cursor).values(event_id=0))
        assert producer.produce() == 0
        assert Deliverer(store.engine, secret_of=book.secret_of, post=http_post_allowing_private).run_once() == 2
        assert [r.body["event"] for r in receiver.accepted()] == ["suspended", "revoked"]
    finally:
        store.close()
