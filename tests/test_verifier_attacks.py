"""Attacks on the verifier's answer through the chain data it mirrors: a department anchoring
another's digests, a forged snapshot, a thief signing without anchoring, a follower process after a
reorganisation, re-granted permissions, junk anchors, and the issuer store's files on disk.

Each test is named after the finding of the security review it closes."""

from __future__ import annotations

import gzip
import json
import logging
import os
import stat
import sys
from pathlib import Path

import pytest
from conftest import (
    DEPARTMENT_USCC,
    Issued,
    deploy_with_issuer,
    make_issued,
    verifier_of,
)
from prometheus_client import generate_latest

from api.services import Metrics
from devkit.devchain import bootstrap_issuer, increase_time, latest_timestamp, revert, snapshot
from devkit.samples import SampleFactory
from registry import connect, dev_accounts, license_type_id
from registry.document.identifiers import issuer_id_from_uscc
from registry.issuer.store import IssuerStore
from verifier._logbudget import LogBudget
from verifier.mirror import Mirror, MirrorError
from verifier.pipeline import Outcome, Verifier
from verifier.state import EventIndex

ELICENSE = Path(sys.executable).parent / "elicense"
ROGUE_USCC = "11110000000021135M"  # another Beijing department, with a valid key of its own


@pytest.fixture
def world(tmp_path) -> Issued:
    return make_issued(tmp_path, count=6)


def _rogue(w: Issued):
    """A second registered department of the same region, and its key (an account)."""
    admin, authority, _, rogue_key = dev_accounts(w.client.w3)[:4]
    assert authority.address == w.authority.address
    bootstrap_issuer(
        w.client,
        admin=admin,
        authority=authority,
        key=rogue_key,
        uscc=ROGUE_USCC,
        name="北京市某局",
        license_types=["BL"],
    )
    return rogue_key


def test_finding2_another_departments_earlier_anchor_of_a_digest_does_not_count(world: Issued):
    w = world
    rogue_key = _rogue(w)
    victim = w.department.issue(SampleFactory(31).business_license())
    # the rogue department anchors the victim's digest first, inside a batch of its own
    w.client.anchor(rogue_key, [victim.digest, b"\x42" * 32])
    w.state.sync()
    text = w.department.presentation(victim.license_id).to_text()
    assert w.verifier.verify(text).status is Outcome.NOT_ANCHORED
    # the victim's own anchor is the one that counts: the license verifies
    w.department.anchor_pending()
    w.state.sync()
    result = w.verifier.verify(text)
    assert result.status is Outcome.VALID
    assert result.anchor is not None
    assert result.anchor.issuer_id == issuer_id_from_uscc(DEPARTMENT_USCC)
    # the result names the issuer's region
    issuer = result.to_dict()["issuer"]
    assert (issuer["uscc"], issuer["region"], issuer["region_name"]) == (DEPARTMENT_USCC, 110000, "北京市")
    # the index keeps both anchors apart: the rogue's counts only for the rogue's own licenses
    assert {a.issuer_id for a in w.state.anchors_of_digest(victim.digest)} == {
        issuer_id_from_uscc(DEPARTMENT_USCC),
        issuer_id_from_uscc(ROGUE_USCC),
    }


def _snapshot_lines(path: Path) -> tuple[dict, list[dict]]:
    with gzip.open(path, "rt") as fh:
        header, *records = (json.loads(line) for line in fh)
    return header, records


def _write_snapshot(path: Path, header: dict, records: list[dict]) -> Path:
    with gzip.open(path, "wt") as fh:
        for item in (header, *records):
            fh.write(json.dumps(item) + "\n")
    return path


def test_finding4_a_snapshot_missing_the_revocation_is_refused(world: Issued, tmp_path):
    w = world
    w.department.revoke([w.rows[1].license_id], reason=2)
    mirror = Mirror.at(tmp_path / "mirror.db", w.client.deployment, confirmations=1)
    mirror.sync(w.client)
    assert verifier_of(mirror).verify(w.text(1)).status is Outcome.REVOKED
    mirror.export_snapshot(tmp_path / "snap.gz")
    header, records = _snapshot_lines(tmp_path / "snap.gz")
    trimmed = records[:-1]  # the LicensesRevoked line is the last event of the file
    with pytest.raises(MirrorError, match="leaves out"):
        Mirror.import_snapshot(
            _write_snapshot(tmp_path / "trimmed.gz", header, trimmed), f"sqlite:///{tmp_path / 't.db'}", w.client
        )
    # an event the chain never had is refused too, and so is one moved to another block time
    extra = [*records, {**records[-1], "i": records[-1]["i"] + 7}]
    with pytest.raises(MirrorError, match="does not have"):
        Mirror.import_snapshot(
            _write_snapshot(tmp_path / "extra.gz", header, extra), f"sqlite:///{tmp_path / 'x.db'}", w.client
        )
    retimed = [*records[:-1], {**records[-1], "t": records[-1]["t"] + 1}]
    with pytest.raises(MirrorError, match="another time"):
        Mirror.import_snapshot(
            _write_snapshot(tmp_path / "retimed.gz", header, retimed), f"sqlite:///{tmp_path / 'r.db'}", w.client
        )
    # the complete snapshot imports, and the license is revoked in it
    imported = Mirror.import_snapshot(tmp_path / "snap.gz", f"sqlite:///{tmp_path / 'ok.db'}", w.client)
    assert verifier_of(imported).verify(w.text(1)).status is Outcome.REVOKED


def test_finding6_a_license_signed_with_a_retired_key_and_never_anchored_is_not_shown(world: Issued):
    w = world
    key = w.department.account
    assert key is not None
    # signed with the key while valid, never anchored: "check again later", but no fields as the issuer's
    pending = w.department.issue(SampleFactory(32).business_license())
    text = w.department.presentation(pending.license_id).to_text()
    result = w.verifier.verify(text)
    assert result.status is Outcome.NOT_ANCHORED
    assert result.disclosed == []
    # the key is retired (or declared compromised): what it signed and never anchored is not valid
    w.client.retire_key(key, w.department.issuer_id, key.address)
    increase_time(w.client.w3, 5)
    stolen = w.department.issue(SampleFactory(33).business_license())  # the thief's signature
    w.state.sync()
    for license_id in (pending.license_id, stolen.license_id):
        result = w.verifier.verify(w.department.presentation(license_id).to_text())
        assert result.status is Outcome.KEY_NOT_VALID
        assert [r.code for r in result.reasons] == ["key_not_valid_now"]
        assert result.disclosed == []
        assert result.to_dict()["disclosed"] == []
    # licenses the key anchored inside its window keep verifying, with their fields
    anchored = w.verifier.verify(w.text(1))
    assert anchored.status is Outcome.VALID
    assert anchored.disclosed


def test_finding8_a_follower_rebuilds_its_index_after_a_reorganisation_repair(world: Issued, tmp_path):
    w = world
    w3 = w.client.w3
    syncer = Mirror.at(tmp_path / "mirror.db", w.client.deployment, confirmations=1)
    follower = Mirror.at(tmp_path / "mirror.db", w.client.deployment, confirmations=1)  # a batch worker
    syncer.sync(w.client)
    fork = snapshot(w3)
    w.department.revoke([w.rows[1].license_id], reason=2)
    syncer.sync(w.client)
    follower.refresh()
    assert verifier_of(follower).verify(w.text(1)).status is Outcome.REVOKED
    revert(w3, fork)  # another branch wins: the revocation never happened, a suspension did
    w.department.suspend([w.rows[2].license_id], reason=3)
    report = syncer.sync(w.client)
    assert report.reorg_depth >= 1
    follower.refresh()
    for mirror in (syncer, follower):
        assert verifier_of(mirror).verify(w.text(1)).status is Outcome.VALID
        assert verifier_of(mirror).verify(w.text(2)).status is Outcome.SUSPENDED


def test_finding9_the_issuer_store_and_its_home_are_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        home = tmp_path / "home" / ".elicense"
        store = IssuerStore.at(home / "store.db")
        department = make_issued(tmp_path / "chain", count=1)
        department.client.deployment.save(home / "deployment.json")
        store.allocate_serials(DEPARTMENT_USCC, "BL", 1)  # a write: SQLite makes its -wal file
        files = [home / "store.db", home / "store.db-wal"]  # deployment.json holds public addresses only
        assert all(p.exists() for p in files)
        for path in files:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        for folder in (home, home.parent):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        # a store file left world-readable by an older version is narrowed when opened
        store.close()
        os.chmod(home / "store.db", 0o644)
        IssuerStore.at(home / "store.db").close()
        assert stat.S_IMODE((home / "store.db").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_finding10_re_granting_a_type_does_not_change_earlier_results(world: Issued):
    w = world
    bl = license_type_id("BL")
    assert w.verifier.verify(w.text(1)).status is Outcome.VALID  # anchored while BL was permitted
    # the authority grants BL again, from a later time: earlier licenses were permitted when anchored
    later = latest_timestamp(w.client.w3) + 3600
    w.client.permit_license_type(w.authority, w.department.issuer_id, bl, valid_from=later)
    w.state.sync()
    assert w.verifier.verify(w.text(1)).status is Outcome.VALID
    # the other way: a residence permit anchored without permission is not made valid by a later,
    # backdated grant
    sample = SampleFactory(34)
    rp = w.department.issue(sample.residence_permit())
    w.department.anchor_pending()
    w.state.sync()
    rp_text = w.department.presentation(rp.license_id).to_text()
    assert w.verifier.verify(rp_text).status is Outcome.TYPE_NOT_PERMITTED
    w.client.permit_license_type(w.authority, w.department.issuer_id, license_type_id("RP"), valid_from=0)
    w.state.sync()
    assert w.verifier.verify(rp_text).status is Outcome.TYPE_NOT_PERMITTED
    fresh = w.department.issue(sample.residence_permit())  # anchored after the grant: permitted
    w.department.anchor_pending()
    w.state.sync()
    assert w.verifier.verify(w.department.presentation(fresh.license_id).to_text()).status is Outcome.VALID


def test_finding10_junk_anchors_are_bounded_per_issuer_and_counted(world: Issued, tmp_path):
    w = world
    rogue_key = _rogue(w)
    for batch in range(3):
        w.client.anchor(rogue_key, [bytes([batch + 1]) + i.to_bytes(31, "big") for i in range(1, 601)])
    mirror = Mirror.at(tmp_path / "mirror.db", w.client.deployment, confirmations=1, max_anchors_per_issuer=1000)
    mirror.sync(w.client)
    rogue = issuer_id_from_uscc(ROGUE_USCC)
    assert len(mirror.index.anchors[rogue]) == 1000
    assert mirror.index.dropped_anchors == {rogue: 800}
    # the department's own licenses are indexed and verify; the bound only hurts the rogue issuer
    assert verifier_of(mirror).verify(w.text(2)).status is Outcome.VALID
    # the service's metrics count what was left out, per issuer
    metrics = Metrics()
    metrics.refresh_mirror(mirror)
    exposed = generate_latest(metrics.registry).decode()
    assert f'elicense_mirror_anchors_dropped{{issuer="{ROGUE_USCC}"}} 800.0' in exposed
    assert f"elicense_mirror_anchors_indexed {mirror.index.anchored_count}.0" in exposed
    # a restart rebuilds the same bound from the database
    again = Mirror.at(tmp_path / "mirror.db", w.client.deployment, confirmations=1, max_anchors_per_issuer=1000)
    assert again.index.dropped_anchors == {rogue: 800}
    with pytest.raises(ValueError, match="max_anchors_per_issuer"):
        EventIndex(max_anchors_per_issuer=0)


def test_unexpected_errors_inside_the_pipeline_answer_malformed(world: Issued):
    """Whatever the chain state holds, the verifier answers; a fault becomes ``malformed``."""
    w = world

    class Broken(EventIndex):
        def status(self, issuer_id: bytes, digest: bytes):  # a fault deep in the pipeline
            raise OverflowError("a value out of range")

    broken = Broken()
    broken.__dict__.update(w.state.__dict__)
    d = w.client.deployment
    result = Verifier(broken, chain_id=d.chain_id, license_registry=d.license_registry).verify(w.text(1))
    assert result.status is Outcome.MALFORMED
    assert result.to_dict()["status"] == "malformed"


def test_a_flood_of_failing_inputs_is_logged_within_a_budget(world: Issued, caplog):
    w = world

    class Broken(EventIndex):
        def status(self, issuer_id: bytes, digest: bytes):
            raise OverflowError("a value out of range")

    broken = Broken()
    broken.__dict__.update(w.state.__dict__)
    d = w.client.deployment
    verifier = Verifier(broken, chain_id=d.chain_id, license_registry=d.license_registry)
    text = w.text(1)
    with caplog.at_level(logging.WARNING, logger="elicense.verifier"):
        results = [verifier.verify(text).status for _ in range(200)]
    assert set(results) == {Outcome.MALFORMED}
    assert len([r for r in caplog.records if "answered malformed" in r.getMessage()]) <= 20
    budget = LogBudget(logging.getLogger("test.budget"), per_window=3, window=3600)
    assert [budget.allow() for _ in range(10)] == [True] * 3 + [False] * 7
    assert budget.suppressed == 7


def test_permission_history_on_a_hardhat_node_matches(hardhat_node):
    """The same history rule on a chain over JSON-RPC (block times from a real node)."""
    w3 = connect(hardhat_node.url)
    outer = snapshot(w3)
    try:
        client, authority, key = deploy_with_issuer(w3, license_types=["BL"])
        issuer = issuer_id_from_uscc(DEPARTMENT_USCC)
        root_result = client.anchor(key, [b"\x05" * 32])
        index = EventIndex()
        for event in client.get_events(client.deployment.block_number, client.block_number()):
            index.apply(event, int(w3.eth.get_block(event.meta.block_number)["timestamp"]))
        at = root_result.tx.timestamp
        assert index.type_permission(issuer, license_type_id("BL"), at) is not None
        client.permit_license_type(authority, issuer, license_type_id("BL"), valid_from=at + 10_000)
        for event in client.get_events(client.block_number(), client.block_number()):
            index.apply(event, int(w3.eth.get_block(event.meta.block_number)["timestamp"]))
        permission = index.type_permission(issuer, license_type_id("BL"), at)
        assert permission is not None
        assert permission.contains(at)
        current = index.current_permission(issuer, license_type_id("BL"))
        assert current is not None
        assert not current.contains(at)
    finally:
        revert(w3, outer)


def test_a_negative_fact_already_confirmed_is_not_counted_again_from_the_younger_blocks(world: Issued):
    """A follower may read newly confirmed events before the syncer replaced the younger blocks'
    facts: a suspension seen in both, then reinstated, must not count twice."""
    w = world
    w.department.suspend([w.rows[1].license_id], reason=3)
    suspended_at = w.client.block_number()
    w.department.reinstate([w.rows[1].license_id])
    w3 = w.client.w3
    events = w.client.get_events(w.client.deployment.block_number, w.client.block_number())
    index = EventIndex()
    for event in events:
        index.apply(event, int(w3.eth.get_block(event.meta.block_number)["timestamp"]))
    index.advance(w.client.block_number(), latest_timestamp(w3))
    stale = [
        (e, int(w3.eth.get_block(e.meta.block_number)["timestamp"]))
        for e in events
        if e.meta.block_number == suspended_at
    ]
    assert stale
    index.set_pending(stale, suspended_at)
    digest = w.rows[1].digest
    assert index.status(w.department.issuer_id, digest).status.name == "ACTIVE"
    # while the suspension's block is younger than what was confirmed, it counts
    index.block_number = suspended_at - 1
    assert index.status(w.department.issuer_id, digest).status.name == "SUSPENDED"
