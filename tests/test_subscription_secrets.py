"""The subscriptions' secrets at rest: sealed with AES-256-GCM under the service's webhook key, bound
to their subscription. Attacks first: the store file holds no secret in plain text (also after a
database of revision 0005 is sealed on first start), a wrong key is refused by name, a sealed secret
copied onto another subscription does not open (and nothing is signed with it), no key outside the
development chain refuses subscriptions; and deliveries still sign with the right secret after a
restart that reads the key from its keystore."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, insert, select, update

from api.deliverer import Deliverer, http_post_allowing_private
from api.errors import NoWebhookKeyError, SealedSecretError
from api.main import create_app
from api.outbox import Producer
from api.services import Services
from api.settings import Settings
from api.subscription_secrets import WebhookKey
from api.subscription_tables import subscriptions
from api.subscriptions import SubscriptionBook
from devkit.samples import SampleFactory
from devkit.webhook_receiver import WebhookReceiver
from devkit.world import deploy_department
from registry import connect
from registry.errors import ConfigurationError
from registry.issuer.migrations import current, upgrade
from registry.issuer.store import IssuerStore
from signer import WrongPasswordError
from verifier.mirror import Mirror

RELYING = "91310000MA1FL8LQ34"
URL = "http://127.0.0.1:9/h"
SCRYPT_N = 2**14  # tests only: the shipped default costs about a second per open


def _file_bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


@pytest.fixture
def world(tmp_path: Path):
    setup = deploy_department(connect(None))
    store = IssuerStore.at(tmp_path / "store.db")
    department = setup.department(store)
    rows = department.issue_many([SampleFactory(41).business_license() for _ in range(2)])
    department.anchor_pending()
    mirror = Mirror.at(tmp_path / "mirror.db", setup.client.deployment, confirmations=1)
    mirror.sync(setup.client)
    yield setup, department, rows, store, mirror
    mirror.close()
    store.close()


def test_the_store_never_holds_a_secret_in_plain_text(world, tmp_path: Path, caplog):
    setup, _, rows, store, mirror = world
    caplog.set_level(logging.DEBUG)
    book = SubscriptionBook(store, mirror, key=WebhookKey.generate(), allow_private=True)
    made = [book.create(RELYING, callback_url=URL, issuer=setup.uscc) for _ in range(3)]
    ended, _ = book.create(RELYING, callback_url=URL, digest="0x" + rows[0].digest.hex())
    book.delete(RELYING, ended.id)
    with store.engine.connect() as conn:
        stored = {r.id: r for r in conn.execute(select(subscriptions)).all()}
    assert all(stored[s.id].secret is None and stored[s.id].secret_box for s, _ in made)
    assert stored[ended.id].secret_box is None  # an ended subscription's secret is wiped
    raw = _file_bytes(tmp_path / "store.db")
    for _, secret in made:
        assert secret.encode() not in raw
        assert secret.removeprefix("whsec_").encode()[:20] not in raw
        assert secret not in caplog.text
    assert [book.secret_of(s.id, stored[s.id].secret_box) for s, _ in made] == [secret for _, secret in made]


def test_a_sealed_secret_copied_onto_another_subscription_does_not_open(world):
    setup, department, rows, store, mirror = world
    receiver = WebhookReceiver().start()
    try:
        book = SubscriptionBook(store, mirror, key=WebhookKey.generate(), allow_private=True)
        attacker, attacker_secret = book.create(RELYING, callback_url=receiver.url, issuer=setup.uscc)
        victim, _ = book.create(RELYING, callback_url=receiver.url, issuer=setup.uscc)
        receiver.secrets[attacker.id] = attacker_secret
        receiver.secrets[victim.id] = attacker_secret  # what the attacker would check with
        with store.engine.begin() as conn:
            box = conn.execute(select(subscriptions.c.secret_box).where(subscriptions.c.id == attacker.id)).scalar()
            conn.execute(update(subscriptions).where(subscriptions.c.id == victim.id).values(secret_box=box))
        with pytest.raises(SealedSecretError, match="altered or belongs to another subscription"):
            book.secret_of(victim.id, box)
        with pytest.raises(SealedSecretError, match="not a sealed secret"):
            book.secret_of(victim.id, box[:20])
        producer = Producer(store, mirror, chain_id=setup.client.deployment.chain_id)
        producer.produce()
        department.revoke([rows[0].license_id], reason=1)
        mirror.sync(setup.client)
        assert producer.produce() == 2
        deliverer = Deliverer(store.engine, secret_of=book.secret_of, post=http_post_allowing_private)
        assert deliverer.run_once() == 1  # the attacker's own; the victim's is never signed
        assert [r.body["subscription_id"] for r in receiver.received if r.body] == [attacker.id]
        (view,) = book.deliveries(RELYING, victim.id)
        assert view["state"] == "pending"
        assert "belongs to another subscription" in view["last_error"]
    finally:
        receiver.stop()


def test_a_wrong_webhook_key_is_refused_with_its_id(world):
    setup, _, _, store, mirror = world
    right, wrong = WebhookKey.generate(), WebhookKey.generate()
    sub, _ = SubscriptionBook(store, mirror, key=right, allow_private=True).create(
        RELYING, callback_url=URL, issuer=setup.uscc
    )
    book = SubscriptionBook(store, mirror, key=wrong)
    with pytest.raises(ConfigurationError, match=f"sealed with webhook key {right.key_id.hex()}.*{wrong.key_id.hex()}"):
        book.prepare()
    with store.engine.connect() as conn:
        box = conn.execute(select(subscriptions.c.secret_box)).scalar()
    with pytest.raises(SealedSecretError, match=f"sealed with webhook key {right.key_id.hex()}"):
        book.secret_of(sub.id, box)


def _a_0005_database(path: Path, secret: str) -> None:
    """A store as revision 0005 left it: one subscription with its secret in plain text."""
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine, "0005")
    with engine.begin() as conn:
        conn.execute(
            insert(subscriptions).values(
                id="sub_" + "a" * 16,
                subscriber=RELYING,
                target_kind="issuer",
                target="11110000MB0195560T",
                license_id=None,
                callback_url=URL,
                secret=secret,
                after_event=0,
                created_at=1,
                active=True,
            )
        )
    engine.dispose()


def test_plain_secrets_of_revision_0005_are_sealed_on_first_start(tmp_path: Path, world):
    _, _, _, _, mirror = world
    secret = "whsec_" + "PlainOld0005" * 4
    path = tmp_path / "old.db"
    _a_0005_database(path, secret)
    assert secret.encode() in _file_bytes(path)
    store = IssuerStore.at(path)  # migrated to the head: the sealed column is there, the secret still plain
    assert current(store.engine) == "0007"
    with pytest.raises(ConfigurationError, match="1 subscription secrets are stored in plain text"):
        SubscriptionBook(store, mirror).prepare()  # no key: refused, said why
    key = WebhookKey.generate()
    book = SubscriptionBook(store, mirror, key=key)
    assert book.prepare() == 1
    assert book.prepare() == 0
    with store.engine.connect() as conn:
        row = conn.execute(select(subscriptions)).one()
    assert row.secret is None
    assert book.secret_of(row.id, row.secret_box) == secret
    store.close()
    assert secret.encode() not in _file_bytes(path)
    assert b"PlainOld0005" not in _file_bytes(path)


def test_outside_the_development_chain_no_key_refuses_subscriptions(world, tmp_path: Path):
    setup, _, _, store, mirror = world
    services = Services(
        Settings(home=tmp_path, rpc_url="http://127.0.0.1:9"),
        deployment=setup.client.deployment,
        client=setup.client,
        mirror=mirror,
        store=store,
        follow=False,
    )
    _, key = services.api_keys.create(RELYING, "relying")
    with TestClient(create_app(services)) as client:
        answer = client.post(
            "/v1/subscriptions",
            json={"issuer": setup.uscc, "callback_url": "https://approvals.example.cn/h"},
            headers={"Authorization": f"Bearer {key}"},
        )
    assert answer.status_code == 503
    assert "no webhook key" in answer.json()["detail"]
    assert "ELICENSE_WEBHOOK_KEY" in answer.json()["detail"]
    with pytest.raises(NoWebhookKeyError):
        services.subscriptions.create(RELYING, callback_url="https://approvals.example.cn/h", issuer=setup.uscc)


def test_the_keystore_needs_its_password(tmp_path: Path):
    key = WebhookKey.generate()
    path = key.save(tmp_path / "keys" / "hooks.json", "a long password", scrypt_n=SCRYPT_N)
    assert path.stat().st_mode & 0o777 == 0o600
    assert WebhookKey.load(path, "a long password").key_id == key.key_id
    with pytest.raises(WrongPasswordError):
        WebhookKey.load(path, "another password")
    assert key._key.hex() not in repr(key)


def test_deliveries_sign_with_the_right_secret_after_a_restart(world, tmp_path: Path, monkeypatch):
    setup, department, rows, store, mirror = world
    WebhookKey.generate().save(tmp_path / "keys" / "hooks.json", "a long password", scrypt_n=SCRYPT_N)
    monkeypatch.setenv("HOOKS_PW", "a long password")
    settings = Settings(
        home=tmp_path,
        rpc_url="http://127.0.0.1:9",  # not the development chain: the key must come from the keystore
        webhook_key="hooks",
        webhook_key_password_env="HOOKS_PW",
        webhook_allow_private=True,
        webhook_interval=0.1,
    )

    def services() -> Services:
        return Services(
            settings, deployment=setup.client.deployment, client=setup.client, mirror=mirror, store=store, follow=False
        )

    receiver = WebhookReceiver().start()
    try:
        first = services()
        _, api_key = first.api_keys.create(RELYING, "relying")
        with TestClient(create_app(first)) as client:
            made = client.post(
                "/v1/subscriptions",
                json={"issuer": setup.uscc, "callback_url": receiver.url},
                headers={"Authorization": f"Bearer {api_key}"},
            )
        assert made.status_code == 201, made.text
        receiver.secrets[made.json()["id"]] = made.json()["secret"]
        department.revoke([rows[1].license_id], reason=2)
        mirror.sync(setup.client)
        with TestClient(create_app(services())):  # restarted: the key read again from its keystore
            (got,) = receiver.wait_for(1, timeout=30)
        assert got.verified
        assert got.body is not None
        assert got.body["event"] == "revoked"
    finally:
        receiver.stop()
