"""The chain mirror: sync with a confirmation depth, persistence, reorganisations deeper than the
depth (on a hardhat node), snapshots checked against the chain, a stopped node."""

from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

import pytest
from conftest import HardhatNode, Issued, deploy_with_issuer, make_issued, start_hardhat_node, verifier_of

from devkit.devchain import increase_time, mine, revert, snapshot
from devkit.samples import SampleFactory
from registry import ChainUnavailableError, connect
from verifier.mirror import Mirror, MirrorError
from verifier.pipeline import Outcome


@pytest.fixture
def issued_world(tmp_path) -> Issued:
    return make_issued(tmp_path, count=20)


def test_sync_verify_and_reload_from_disk(issued_world: Issued, tmp_path):
    w = issued_world
    mirror = Mirror.at(tmp_path / "mirror.db", w.client.deployment, confirmations=1)
    report = mirror.sync(w.client)
    assert report.events > 0
    assert report.to_block == report.head
    assert verifier_of(mirror).verify(w.text(1)).status is Outcome.VALID
    assert mirror.freshness().block_number == report.head
    # a second sync with nothing new applies nothing
    assert mirror.sync(w.client).events == 0
    # a new process reads the same state from disk, without the chain
    again = Mirror.at(tmp_path / "mirror.db", w.client.deployment, confirmations=1)
    assert verifier_of(again).verify(w.text(2)).status is Outcome.VALID
    assert again.freshness() == mirror.freshness()  # including when the chain was last read
    # changes synced by one process reach another through refresh()
    w.department.revoke([w.rows[3].license_id], reason=2)
    mirror.sync(w.client)
    assert again.refresh() == 1
    assert verifier_of(again).verify(w.text(3)).status is Outcome.REVOKED


def test_finding7_negative_facts_apply_from_the_head_block_positive_ones_after_the_depth(
    issued_world: Issued, tmp_path
):
    w = issued_world
    mirror = Mirror.at(tmp_path / "mirror.db", w.client.deployment, confirmations=3)
    follower = Mirror.at(tmp_path / "mirror.db", w.client.deployment, confirmations=3)  # a batch worker
    mine(w.client.w3, 2)  # the anchors are now 3 blocks deep
    head = w.client.block_number()
    report = mirror.sync(w.client)
    assert report.to_block == head - 2
    # a revocation in the newest block applies at once, in this process and in a follower
    w.department.revoke([w.rows[1].license_id], reason=2)
    mirror.sync(w.client)
    assert verifier_of(mirror).verify(w.text(1)).status is Outcome.REVOKED
    follower.refresh()
    assert verifier_of(follower).verify(w.text(1)).status is Outcome.REVOKED
    # so does a suspension; its reinstatement (a positive fact) waits for the depth
    w.department.suspend([w.rows[2].license_id], reason=3)
    mirror.sync(w.client)
    assert verifier_of(mirror).verify(w.text(2)).status is Outcome.SUSPENDED
    mine(w.client.w3, 3)
    w.department.reinstate([w.rows[2].license_id])
    mirror.sync(w.client)
    assert verifier_of(mirror).verify(w.text(2)).status is Outcome.SUSPENDED
    # a new anchor (positive) waits for the depth too
    fresh = w.department.issue(SampleFactory(77).business_license())
    w.department.anchor_pending()
    mirror.sync(w.client)
    new_text = w.department.presentation(fresh.license_id).to_text()
    assert verifier_of(mirror).verify(new_text).status is Outcome.NOT_ANCHORED
    mine(w.client.w3, 2)
    mirror.sync(w.client)
    assert verifier_of(mirror).verify(w.text(2)).status is Outcome.VALID
    assert verifier_of(mirror).verify(new_text).status is Outcome.VALID
    assert verifier_of(mirror).verify(w.text(1)).status is Outcome.REVOKED  # confirmed now
    # a key compromise in the newest block applies at once: everything anchored after it fails
    anchor = verifier_of(mirror).verify(new_text).anchor
    assert anchor is not None
    increase_time(w.client.w3, 10)
    w.client.declare_key_compromised(
        w.authority, w.department.issuer_id, w.department.signer.address, compromised_at=anchor.timestamp
    )
    mirror.sync(w.client)
    assert verifier_of(mirror).verify(new_text).status is Outcome.KEY_NOT_VALID
    follower.refresh()
    assert verifier_of(follower).verify(new_text).status is Outcome.KEY_NOT_VALID


def test_a_mirror_belongs_to_one_deployment(issued_world: Issued, tmp_path):
    Mirror.at(tmp_path / "mirror.db", issued_world.client.deployment)
    other = make_issued(tmp_path / "other", count=1).client.deployment
    other = type(other)(
        chain_id=other.chain_id,
        trust_registry=other.license_registry,
        license_registry=other.trust_registry,
        block_number=other.block_number,
        deployer=other.deployer,
    )
    with pytest.raises(MirrorError, match="another deployment"):
        Mirror.at(tmp_path / "mirror.db", other)


def test_snapshot_round_trip_and_forgeries(issued_world: Issued, tmp_path):
    w = issued_world
    mirror = Mirror.at(tmp_path / "mirror.db", w.client.deployment, confirmations=1)
    mirror.sync(w.client)
    count = mirror.export_snapshot(tmp_path / "snap.gz")
    assert count > 0
    target = f"sqlite:///{tmp_path / 'b.db'}"
    imported = Mirror.import_snapshot(tmp_path / "snap.gz", target, w.client, confirmations=1)
    assert imported.freshness().block_number == mirror.freshness().block_number
    assert imported.freshness().block_time == mirror.freshness().block_time
    assert verifier_of(imported).verify(w.text(4)).status is Outcome.VALID
    imported.sync(w.client)  # continues from the snapshot's checkpoint

    with gzip.open(tmp_path / "snap.gz", "rt") as fh:
        header, *records = (json.loads(line) for line in fh)

    def write(name: str, head: dict, rows: list) -> Path:
        path = tmp_path / name
        with gzip.open(path, "wt") as fh:
            for item in (head, *rows):
                fh.write(json.dumps(item) + "\n")
        return path

    forged_block = [dict(r, h="11" * 32) if r["b"] == records[0]["b"] else dict(r) for r in records]
    with pytest.raises(MirrorError, match="differs from the chain"):
        Mirror.import_snapshot(write("f1.gz", header, forged_block), f"sqlite:///{tmp_path / 'f1.db'}", w.client)
    anchored = next(i for i, r in enumerate(records) if len(r["d"]) > 1000)  # a BatchAnchored event
    forged_batch = [dict(r) for r in records]
    topics = forged_batch[anchored]["topics"]
    forged_batch[anchored]["topics"] = [topics[0], "0x" + "22" * 32, *topics[2:]]
    with pytest.raises(MirrorError, match="differs from the chain"):
        Mirror.import_snapshot(write("f2.gz", header, forged_batch), f"sqlite:///{tmp_path / 'f2.db'}", w.client)
    forged_checkpoint = dict(header, checkpoint=[header["checkpoint"][0], "33" * 32, header["checkpoint"][2]])
    with pytest.raises(MirrorError, match="not on this chain"):
        Mirror.import_snapshot(write("f4.gz", forged_checkpoint, records), f"sqlite:///{tmp_path / 'f4.db'}", w.client)
    (tmp_path / "junk.gz").write_bytes(b"not gzip")
    with pytest.raises(MirrorError, match="not a readable mirror snapshot"):
        Mirror.import_snapshot(tmp_path / "junk.gz", f"sqlite:///{tmp_path / 'f3.db'}", w.client)


def test_a_reorganisation_deeper_than_the_depth_is_repaired(tmp_path, hardhat_node: HardhatNode):
    w3 = connect(hardhat_node.url)
    outer = snapshot(w3)
    try:
        client, _, key = deploy_with_issuer(w3, license_types=["BL"])
        mirror = Mirror.at(tmp_path / "mirror.db", client.deployment, confirmations=2)
        mirror.sync(client)

        fork = snapshot(w3)
        lost = [bytes([i]) * 32 for i in range(1, 4)]
        client.anchor(key, lost)
        mine(w3, 3)
        mirror.sync(client)
        issuer = client.get_key(key.address).issuer_id
        assert all(mirror.index.anchor_of(issuer, d) is not None for d in lost)
        depth_before = mirror.checkpoint()

        revert(w3, fork)  # the chain forgets the batch: another branch wins
        kept = [bytes([i]) * 32 for i in range(10, 12)]
        client.anchor(key, kept)
        mine(w3, 5)
        report = mirror.sync(client)
        assert depth_before is not None
        assert report.reorg_depth >= 3  # deeper than the confirmation depth of 2
        assert all(mirror.index.anchor_of(issuer, d) is None for d in lost)
        assert all(mirror.index.anchor_of(issuer, d) is not None for d in kept)
        checkpoint = mirror.checkpoint()
        assert checkpoint is not None
        assert checkpoint[1] == bytes(w3.eth.get_block(checkpoint[0])["hash"])
        # the repaired state is what a fresh mirror of the chain finds
        fresh = Mirror.at(tmp_path / "fresh.db", client.deployment, confirmations=2)
        fresh.sync(client)
        assert {(i, d) for i, m in fresh.index.anchors.items() for d in m} == {
            (i, d) for i, m in mirror.index.anchors.items() for d in m
        }
    finally:
        revert(w3, outer)


def test_a_stopped_node_leaves_verification_answering(tmp_path):
    node = start_hardhat_node(tmp_path)
    try:
        w3 = connect(node.url)
        client, _, key = deploy_with_issuer(w3, license_types=[])
        client.anchor(key, [b"\x07" * 32])
        mirror = Mirror.at(tmp_path / "mirror.db", client.deployment, confirmations=1)
        mirror.sync(client)
    finally:
        node.stop()
    before = mirror.freshness()
    with pytest.raises(ChainUnavailableError):
        mirror.sync(client)
    assert mirror.index.anchored_count == 1
    time.sleep(1.1)
    assert mirror.freshness() == before
    assert mirror.freshness().age() >= before.age() - 0.01


def test_mirror_and_issuer_store_on_postgresql(issued_world: Issued, postgres_url: str):
    """The same mirror on the real PostgreSQL: sync, reload in a new instance, snapshot import."""
    w = issued_world
    mirror = Mirror(postgres_url, w.client.deployment, confirmations=1)
    mirror.sync(w.client)
    assert verifier_of(mirror).verify(w.text(1)).status is Outcome.VALID
    again = Mirror(postgres_url, w.client.deployment, confirmations=1)
    assert verifier_of(again).verify(w.text(2)).status is Outcome.VALID
    w.department.revoke([w.rows[2].license_id], reason=1)
    mirror.sync(w.client)
    again.refresh()
    assert verifier_of(again).verify(w.text(2)).status is Outcome.REVOKED
    mirror.close()
    again.close()
