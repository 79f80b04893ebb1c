"""Status subscriptions end to end: a real ``elicense serve`` process following a hardhat node, a
real HTTP receiver, status changes sent to the chain. A subscribed department receives each change
signed; the service is killed (SIGKILL) while deliveries are failing and right after a change,
restarted, and every change still arrives, in chain order per license, none lost (duplicates only
ever with the same delivery id). And a reorganisation deeper than the depth withdraws what the chain
dropped."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
import requests
from _service_home import service_home

from api.outbox import Producer
from api.subscription_secrets import WebhookKey
from api.subscriptions import SubscriptionBook
from devkit.devchain import mine, revert, snapshot
from devkit.nodes import HardhatNode
from devkit.samples import SampleFactory
from devkit.waiting import wait_until
from devkit.webhook_receiver import Received, WebhookReceiver
from devkit.world import deploy_department
from registry import connect
from registry.issuer.store import IssuerStore
from verifier.mirror import Mirror

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


RELYING = "91310000MA1FL8LQ34"  # 上海: relies on 北京's licenses


def _first_of_each(received: list[Received]) -> list[Received]:
    seen: set[str | None] = set()
    out = []
    for r in received:
        if r.delivery_id not in seen:
            seen.add(r.delivery_id)
            out.append(r)
    return out


@pytest.mark.timeout(600)
def test_webhooks_survive_a_killed_service(tmp_path: Path, hardhat_node: HardhatNode):
    home = service_home(
        hardhat_node,
        tmp_path,
        seed=31,
        api_keys={RELYING: "shanghai"},
        env={
            "ELICENSE_WEBHOOK_RETRY_BASE": "0.2",
            "ELICENSE_WEBHOOK_MAX_BACKOFF": "1",
            "ELICENSE_WEBHOOK_MAX_ATTEMPTS": "100",  # enough for the restarts below at most 1 s apart
        },
    )
    setup, department, rows, key, serve = home.setup, home.department, home.rows, home.api_keys[RELYING], home.serve

    receiver = WebhookReceiver().start()
    served = serve()
    try:
        auth = {"Authorization": f"Bearer {key}"}
        answer = requests.post(
            served.url + "/v1/subscriptions",
            json={"issuer": setup.uscc, "callback_url": receiver.url},
            headers=auth,
            timeout=10,
        )
        assert answer.status_code == 201, answer.text
        sub = answer.json()
        receiver.secrets[sub["id"]] = sub["secret"]
        ids = [r.license_id for r in rows]
        digests = ["0x" + r.digest.hex() for r in rows]

        department.suspend([ids[0]], reason=4)
        (first,) = receiver.wait_for(1, timeout=60)
        assert first.verified
        assert first.body is not None
        assert (first.body["event"], first.body["digest"], first.body["reason"]) == ("suspended", digests[0], 4)
        assert first.body["license_id"] is None  # this service's store does not hold 北京's licenses

        # the receiver fails everything: deliveries pile up in the outbox, then the service dies
        receiver.fail_next = 10**6
        department.reinstate([ids[0]])
        department.suspend([ids[1]], reason=1)
        department.revoke([ids[0], ids[2]], reason=9)

        def deliveries() -> list[dict]:
            got = requests.get(f"{served.url}/v1/subscriptions/{sub['id']}/deliveries", headers=auth, timeout=10)
            return list(got.json())

        wait_until(
            lambda: len(d := deliveries()) == 5 and d[1]["attempts"] >= 2, timeout=60, what="the deliveries retried"
        )
        waiting = {(d["event"], d["digest"]): d for d in deliveries()}
        # license 0's revocation waits for its reinstatement: never sent before it
        assert waiting["revoked", digests[0]]["attempts"] == 0
        assert waiting["reinstated", digests[0]]["state"] == "pending"
        served.process.send_signal(signal.SIGKILL)
        served.process.wait(20)

        served = serve()  # restarted; the receiver still fails
        department.revoke([ids[1]], reason=9)
        served.process.send_signal(signal.SIGKILL)  # right after the change, produced or not
        served.process.wait(20)

        receiver.fail_next = 0
        served = serve()
        try:
            wait_until(lambda: len(_first_of_each(receiver.accepted())) >= 6, timeout=60, what="every delivery")
        except TimeoutError:
            listed = requests.get(f"{served.url}/v1/subscriptions/{sub['id']}/deliveries", headers=auth, timeout=10)
            raise AssertionError(
                f"{[(r.status, r.body) for r in receiver.received[-8:]]}\n{listed.json()}\n{served.output()[-3000:]}"
            ) from None
        accepted = receiver.accepted()
        unique = _first_of_each(accepted)
        assert len(unique) == 6
        by_id = {}
        for r in accepted:  # a delivery sent twice is the same delivery: same id, same body
            assert r.verified
            assert by_id.setdefault(r.delivery_id, r.body) == r.body
        order = {d: [r.body["event"] for r in unique if r.body and r.body["digest"] == d] for d in digests}
        assert order == {
            digests[0]: ["suspended", "reinstated", "revoked"],
            digests[1]: ["suspended", "revoked"],
            digests[2]: ["revoked"],
        }
        # marked delivered once the answer is in (the receiver records it just before)
        wait_until(
            lambda: [d["state"] for d in deliveries()] == ["delivered"] * 6, timeout=30, what="all marked delivered"
        )
    finally:
        served.stop()
        receiver.stop()


def test_a_reorganisation_withdraws_what_the_chain_dropped(tmp_path: Path, hardhat_node: HardhatNode):
    """A revocation confirmed, produced, then dropped by a reorganisation deeper than the depth is
    withdrawn from the outbox before it is sent; the change made on the winning branch is produced."""
    w3 = connect(hardhat_node.url)
    outer = snapshot(w3)
    try:
        setup = deploy_department(w3)
        department = setup.department(IssuerStore.at(tmp_path / "issuer.db"))
        rows = department.issue_many([SampleFactory(32).business_license() for _ in range(2)])
        department.anchor_pending()
        store = IssuerStore.at(tmp_path / "store.db")
        mirror = Mirror.at(tmp_path / "mirror.db", setup.client.deployment, confirmations=2)
        producer = Producer(store, mirror, chain_id=setup.client.deployment.chain_id)
        book = SubscriptionBook(store, mirror, key=WebhookKey.generate(), allow_private=True)
        mirror.sync(setup.client)
        producer.produce()
        sub, _ = book.create(RELYING, callback_url="http://127.0.0.1:9/h", issuer=setup.uscc)

        fork = snapshot(w3)
        department.revoke([rows[0].license_id], reason=1)
        mine(w3, 3)
        mirror.sync(setup.client)
        assert producer.produce() == 1
        epoch = mirror.epoch()

        revert(w3, fork)  # another branch wins: license 1 is revoked there, license 0 is not
        department.revoke([rows[1].license_id], reason=2)
        mine(w3, 5)
        assert mirror.sync(setup.client).reorg_depth >= 3
        assert mirror.epoch() != epoch
        producer.produce()
        listed = book.deliveries(RELYING, sub.id)
        assert [(d["event"], d["digest"]) for d in listed] == [("revoked", "0x" + rows[1].digest.hex())]
        assert producer.cursor() == (mirror.last_event_id(), mirror.epoch())
    finally:
        revert(w3, outer)
