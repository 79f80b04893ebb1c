"""The anchoring worker: batches by size and age, resumes after a crash without anchoring twice,
waits out a stopped node, and several workers on one PostgreSQL database anchor every license
exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
from conftest import Issued, make_issued

from registry import ChainUnavailableError
from registry.events import BatchAnchored
from registry.issuance import Department
from registry.merkle import MerkleTree
from registry.samples import SampleFactory
from registry.store import IssuerStore
from registry.worker import AnchorWorker
from verifier.pipeline import Outcome


@pytest.fixture
def world(tmp_path) -> Issued:
    return make_issued(tmp_path, count=2)


def _anchored_digests(world: Issued) -> Counter[bytes]:
    counts: Counter[bytes] = Counter()
    for event in world.client.get_events(world.client.deployment.block_number):
        if isinstance(event, BatchAnchored):
            counts.update(event.digests)
    return counts


def test_batches_by_size_and_age(world: Issued):
    dept = world.department
    assert dept.account is not None
    worker = AnchorWorker(dept.store, world.client, [dept.account], batch_size=10, max_age=3600)
    rows = dept.issue_many([SampleFactory(51).business_license() for _ in range(25)])
    results = worker.run_once()
    assert [r.count for r in results] == [10, 10]  # full batches only; 5 wait for more or for age
    assert worker.lag()[0] == 5
    assert worker.run_once() == []
    assert [r.count for r in worker.run_once(force=True)] == [5]
    assert worker.lag() == (0, 0.0)
    world.state.sync()
    assert world.verifier.verify(dept.presentation(rows[-1].license_id).to_text()).status is Outcome.VALID
    assert max(_anchored_digests(world).values()) == 1


def test_a_crash_between_recording_and_sending_is_resumed_once(world: Issued):
    dept = world.department
    assert dept.account is not None
    rows = dept.issue_many([SampleFactory(52).business_license() for _ in range(4)])
    tree = MerkleTree.from_digests(r.digest for r in rows)
    dept.store.prepare_batch(tree.root, dept.account.address, tree.digests)  # then the process died
    worker = AnchorWorker(dept.store, world.client, [dept.account], batch_size=10, max_age=0)
    results = worker.run_once()
    assert [r.root for r in results] == [tree.root]
    assert worker.stats.resumed == 1
    counts = _anchored_digests(world)
    assert all(counts[r.digest] == 1 for r in rows)


def test_issuance_goes_on_while_the_node_is_down(world: Issued, monkeypatch):
    dept = world.department
    assert dept.account is not None
    worker = AnchorWorker(dept.store, world.client, [dept.account], batch_size=5, max_age=0)

    def down(*_args, **_kwargs):
        raise ChainUnavailableError("the chain node at http://127.0.0.1:1 is not reachable")

    monkeypatch.setattr(world.client, "get_anchor", down)
    rows = dept.issue_many([SampleFactory(53).business_license() for _ in range(5)])  # issued while down
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), kwargs={"interval": 0.05, "max_backoff": 0.2})
    thread.start()
    time.sleep(0.5)
    assert worker.stats.errors >= 2
    world.state.sync()
    assert world.verifier.verify(dept.presentation(rows[0].license_id).to_text()).status is Outcome.NOT_ANCHORED
    monkeypatch.undo()  # the node is back
    deadline = time.monotonic() + 10
    while worker.lag()[0] and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    thread.join(timeout=10)
    world.state.sync()
    assert world.verifier.verify(dept.presentation(rows[0].license_id).to_text()).status is Outcome.VALID
    assert all(_anchored_digests(world)[r.digest] == 1 for r in rows)


def test_several_workers_on_postgresql_anchor_each_license_once(world: Issued, postgres_url: str):
    dept = world.department
    assert dept.account is not None
    store = IssuerStore(postgres_url)
    shared = Department(
        issuer_uscc=dept.issuer_uscc, store=store, signer=dept.signer, client=world.client, account=dept.account
    )
    rows = shared.issue_many([SampleFactory(54).business_license() for _ in range(300)])
    workers = [
        AnchorWorker(IssuerStore(postgres_url), world.client, [dept.account], batch_size=40, max_age=0, name=f"w{i}")
        for i in range(3)
    ]
    errors: list[BaseException] = []

    def run(worker: AnchorWorker) -> None:
        try:
            for _ in range(20):
                worker.run_once(force=True)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    counts = _anchored_digests(world)
    assert all(counts[r.digest] == 1 for r in rows)
    assert sum(w.stats.anchored for w in workers) == len(rows)
    assert store.count(pending_only=True) == 0
    for w in workers:
        w.store.close()
    store.close()
