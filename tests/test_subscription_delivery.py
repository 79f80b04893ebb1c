"""Delivery across subscriptions in the running service (its delivery loop, a real chain mirror, real
HTTP receivers): a subscriber whose endpoint hangs holds at most half of the senders and none of the
other subscribers' deliveries, which arrive, in order per license, while it hangs; and the outbox's
Prometheus metrics at /metrics move with what happens."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.services import Services
from api.settings import Settings
from devkit.samples import SampleFactory
from devkit.waiting import wait_until
from devkit.webhook_receiver import WebhookReceiver
from devkit.world import DepartmentSetup, deploy_department
from registry import connect
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore, LicenseRow
from verifier.mirror import Mirror

RELYING = "91310000MA1FL8LQ34"


class HangingEndpoint:
    """Takes each POST and answers nothing until :attr:`release` is set (then 204); counts how many
    it holds at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.held = 0
        self.most_held = 0
        self.answered = 0
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with endpoint._lock:
                    endpoint.held += 1
                    endpoint.most_held = max(endpoint.most_held, endpoint.held)
                endpoint.release.wait(120)
                with endpoint._lock:
                    endpoint.held -= 1
                    endpoint.answered += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stuck"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Running:
    setup: DepartmentSetup
    department: Department
    rows: list[LicenseRow]
    mirror: Mirror
    services: Services

    def changes_seen(self) -> None:
        self.mirror.sync(self.setup.client)
        self.services.produce_deliveries()

    def digest(self, i: int) -> str:
        return "0x" + self.rows[i].digest.hex()


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    setup = deploy_department(connect(None))
    store = IssuerStore.at(tmp_path / "store.db")
    department = setup.department(store)
    rows = department.issue_many([SampleFactory(61).business_license() for _ in range(3)])
    department.anchor_pending()
    mirror = Mirror.at(tmp_path / "mirror.db", setup.client.deployment, confirmations=1)
    mirror.sync(setup.client)
    settings = Settings(
        home=tmp_path,
        webhook_allow_private=True,
        webhook_interval=0.1,
        webhook_concurrency=4,
        webhook_timeout=100,  # the hanging endpoint is released by the test, never timed out
        webhook_retry_base=0.1,
        webhook_max_backoff=0.2,
    )
    services = Services(
        settings, deployment=setup.client.deployment, client=setup.client, mirror=mirror, store=store, follow=False
    )
    yield Running(setup, department, rows, mirror, services)
    mirror.close()
    store.close()


def test_a_hanging_subscriber_does_not_hold_up_another(running: Running):
    stuck, receiver = HangingEndpoint(), WebhookReceiver().start()
    try:
        book = running.services.subscriptions
        slow, _ = book.create(RELYING, callback_url=stuck.url, issuer=running.setup.uscc)  # produced first
        fast, secret = book.create(RELYING, callback_url=receiver.url, issuer=running.setup.uscc)
        receiver.secrets[fast.id] = secret
        ids = [r.license_id for r in running.rows]
        with TestClient(create_app(running.services)):
            running.department.suspend(ids, reason=1)
            running.department.revoke(ids, reason=2)
            running.changes_seen()
            got = receiver.wait_for(6, timeout=60)
            assert len(got) == 6
            # every one of them arrived while the slow subscriber's first attempts were still held
            assert stuck.answered == 0
            assert 1 <= stuck.held <= 2  # at most half of the 4 senders: the others stayed free
            assert all(r.verified for r in got)
            for i in range(3):  # in order per license, across the parallel senders
                assert [r.body["event"] for r in got if r.body and r.body["digest"] == running.digest(i)] == [
                    "suspended",
                    "revoked",
                ]
            stuck.release.set()
            wait_until(
                lambda: [d["state"] for d in book.deliveries(RELYING, slow.id)] == ["delivered"] * 6,
                timeout=60,
                what="the slow subscriber's deliveries, once it answers",
            )
        assert stuck.most_held <= 2
    finally:
        stuck.stop()
        receiver.stop()


def _metric(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} is not exposed"
    return float(found.group(1))


def test_the_outbox_metrics_move(running: Running):
    receiver = WebhookReceiver().start()
    try:
        book = running.services.subscriptions
        closed, _ = book.create(RELYING, callback_url="http://127.0.0.1:9/closed", digest=running.digest(0))
        open_, secret = book.create(RELYING, callback_url=receiver.url, digest=running.digest(1))
        receiver.secrets[open_.id] = secret
        receiver.fail_next = 1
        with TestClient(create_app(running.services)) as client:

            def scrape() -> str:
                answer = client.get("/metrics")
                assert answer.status_code == 200
                return answer.text

            before = scrape()
            assert _metric(before, "elicense_webhook_pending") == 0
            assert _metric(before, "elicense_webhook_oldest_pending_age_seconds") == 0
            assert _metric(before, "elicense_webhook_delivered_total") == 0
            assert _metric(before, "elicense_webhook_failed_attempts_total") == 0
            running.department.revoke([running.rows[0].license_id, running.rows[1].license_id], reason=1)
            running.changes_seen()
            receiver.wait_for(1, timeout=60)  # after one refusal, the retry got through
            wait_until(lambda: _metric(scrape(), "elicense_webhook_delivered_total") == 1, timeout=30, what="delivered")
            wait_until(  # the closed port keeps failing, the refused attempt counted too
                lambda: _metric(scrape(), "elicense_webhook_failed_attempts_total") >= 3, timeout=30, what="failures"
            )
            after = scrape()
            assert _metric(after, "elicense_webhook_pending") == 1  # the closed callback's, retrying
            assert _metric(after, "elicense_webhook_oldest_pending_age_seconds") > 0
            book.delete(RELYING, closed.id)
            assert _metric(scrape(), "elicense_webhook_pending") == 0
            assert _metric(scrape(), "elicense_webhook_oldest_pending_age_seconds") == 0
    finally:
        receiver.stop()
