"""The anchoring worker: batches by size and age, resumes after a crash without anchoring twice,
waits out a stopped node, and several workers on one PostgreSQL database anchor every license
exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from conftest import Issued, make_issued

import registry.chain.transport as chain_module
from devkit.devchain import mine, revert, snapshot
from devkit.proxy import TcpProxy
from devkit.samples import SampleFactory
from devkit.world import deploy_department
from registry import ChainUnavailableError, RegistryClient, connect
from registry.chain.events import BatchAnchored
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore
from registry.issuer.worker import AnchorWorker
from signer import MerkleTree
from verifier.pipeline import Outcome


@pytest.fixture
def world(tmp_path) -> Issued:
    return make_issued(tmp_path, count=2)


class Steps:
    """Stands in for the worker loop's wait: records each delay it is asked to wait, calls
    ``after_step`` (the count of steps done so far) instead of sleeping, and stops the loop once
    ``after_step`` returns True or after ``limit`` steps."""

    def __init__(self, stop: threading.Event, after_step: Callable[[int], bool], limit: int = 20) -> None:
        self.stop = stop
        self.after_step = after_step
        self.limit = limit
        self.delays: list[float] = []

    def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        if self.after_step(len(self.delays)) or len(self.delays) >= self.limit:
            self.stop.set()


def _anchored_digests(world: Issued) -> Counter[bytes]:
    counts: Counter[bytes] = Counter()
    for event in world.client.get_events(world.client.deployment.block_number):
        if isinstance(event, BatchAnchored):
            counts.update(event.digests)
    return counts


def test_batches_by_size_and_age(world: Issued):
    dept = world.department
    assert dept.account is not None
    now = [time.time()]
    worker = AnchorWorker(dept.store, world.client, [dept.account], batch_size=10, max_age=3600, clock=lambda: now[0])
    rows = dept.issue_many([SampleFactory(51).business_license() for _ in range(25)])
    results = worker.run_once()
    assert [r.count for r in results] == [10, 10]  # full batches only; 5 wait for more or for age
    assert worker.lag()[0] == 5
    assert worker.run_once() == []
    assert [r.count for r in worker.run_once(force=True)] == [5]
    assert worker.lag() == (0, 0.0)
    young = dept.issue_many([SampleFactory(57).business_license() for _ in range(3)])
    assert worker.run_once() == []  # three licenses, and younger than an hour
    now[0] = time.time() + 3600  # an hour later
    assert worker.lag()[0] == 3
    assert worker.lag()[1] >= 3600
    assert [r.count for r in worker.run_once()] == [3]  # old enough: anchored without force
    assert worker.lag() == (0, 0.0)
    world.state.sync()
    assert world.verifier.verify(dept.presentation(rows[-1].license_id).to_text()).status is Outcome.VALID
    assert world.verifier.verify(dept.presentation(young[-1].license_id).to_text()).status is Outcome.VALID
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
    seen: dict[str, object] = {}

    def after_step(step: int) -> bool:
        if step == 3:  # three failed passes
            seen["errors"] = worker.stats.errors
            world.state.sync()
            seen["while_down"] = world.verifier.verify(dept.presentation(rows[0].license_id).to_text()).status
            monkeypatch.undo()  # the node is back
            return False
        return worker.lag()[0] == 0

    stop = threading.Event()
    steps = Steps(stop, after_step)
    worker.run(stop, interval=0.05, max_backoff=0.2, wait=steps)
    assert seen["errors"] == 3
    assert seen["while_down"] is Outcome.NOT_ANCHORED
    assert steps.delays == pytest.approx([0.1, 0.2, 0.2, 0.05])  # backing off, then back to the interval
    assert worker.stats.errors == 3
    assert worker.lag() == (0, 0.0)
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


def test_a_batch_lost_to_a_reorganisation_is_anchored_again(tmp_path, hardhat_node):
    w3 = connect(hardhat_node.url)
    outer = snapshot(w3)
    try:
        setup = deploy_department(w3, license_types=["BL"])
        client, key = setup.client, setup.key
        store = IssuerStore.at(tmp_path / "store.db")
        dept = setup.department(store)
        worker = AnchorWorker(store, client, [key], batch_size=10, max_age=0)
        fork = snapshot(w3)
        rows = dept.issue_many([SampleFactory(55).business_license() for _ in range(5)])
        (first,) = worker.run_once()
        mine(w3, 2)
        revert(w3, fork)  # the batch's block is gone
        mine(w3, 4)
        assert client.get_anchor(first.issuer_id, first.root) is None
        (again,) = worker.run_once()
        assert again.root == first.root
        assert worker.stats.reanchored == 1
        assert client.get_anchor(first.issuer_id, first.root) is not None
        assert store.count(pending_only=True) == 0
        assert len(rows) == 5
        store.close()
    finally:
        revert(w3, outer)


def test_a_node_outage_in_the_middle_of_a_batch(tmp_path, hardhat_node, monkeypatch):
    """The connection to the node drops after the anchor transaction was sent and before its
    receipt; when the node is back, the worker finds the batch on chain and sends nothing again."""
    w3 = connect(hardhat_node.url)
    outer = snapshot(w3)
    proxy = TcpProxy(hardhat_node.port)
    proxy.start()
    try:
        setup = deploy_department(w3, license_types=[])
        client, key, d = setup.client, setup.key, setup.client.deployment
        via_proxy = RegistryClient(connect(proxy.url), d)
        store = IssuerStore.at(tmp_path / "store.db")
        dept = setup.department(store, client=via_proxy)
        rows = dept.issue_many([SampleFactory(56).business_license() for _ in range(8)])
        worker = AnchorWorker(store, via_proxy, [key], batch_size=8, max_age=0)

        original_wait = chain_module._wait
        outage = threading.Event()

        def cut_then_wait(*args, **kwargs):
            if not outage.is_set():
                outage.set()
                proxy.stop()  # sent, and now the node is unreachable
            return original_wait(*args, **kwargs)

        monkeypatch.setattr(chain_module, "_wait", cut_then_wait)
        errors_in_outage: list[int] = []

        def after_step(_step: int) -> bool:
            if outage.is_set() and not errors_in_outage:
                errors_in_outage.append(worker.stats.errors)
                proxy.start()  # the node is back after the pass that felt the outage
                return False
            return worker.lag()[0] == 0

        stop = threading.Event()
        steps = Steps(stop, after_step)
        worker.run(stop, interval=0.1, max_backoff=0.5, wait=steps)
        assert outage.is_set()
        assert errors_in_outage == [1]  # the outage was felt, in the pass that sent the batch
        assert worker.stats.errors == 1
        assert len(steps.delays) == 2  # the failed pass, then the one that found the batch on chain
        assert worker.lag() == (0, 0.0)
        anchors = [e for e in client.get_events(d.block_number) if isinstance(e, BatchAnchored)]
        assert len(anchors) == 1  # one transaction: the resumed worker found it on chain
        assert set(anchors[0].digests) == {r.digest for r in rows}
        assert worker.stats.batches == 0  # the resumed pass recorded the batch, it sent nothing
        store.close()
    finally:
        proxy.stop()
        revert(w3, outer)
