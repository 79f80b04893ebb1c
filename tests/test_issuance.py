"""Issuing departments: validation before anything is written, serials, anchoring that resumes after
a crash without anchoring twice, amendments, status changes recorded in the store."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import Issued, make_issued

from devkit.samples import SampleFactory
from registry import ConfigurationError, LicenseNotFoundError
from registry.chain.records import Status
from registry.document.identifiers import FieldValueError, LicenseIdentifier
from registry.issuer.department import Department, IssueRequest
from registry.issuer.store import IssuerStore
from signer import MerkleTree
from verifier.pipeline import Outcome


@pytest.fixture
def fresh(tmp_path) -> Issued:
    return make_issued(tmp_path, count=4)


def test_serials_and_ids(fresh: Issued):
    ids = [LicenseIdentifier.parse(r.license_id) for r in fresh.rows]
    by_type: dict[str, list[int]] = {}
    for lid in ids:
        by_type.setdefault(lid.type_code, []).append(lid.serial)
    for serials in by_type.values():
        assert serials == list(range(1, len(serials) + 1))
    more = fresh.department.issue(SampleFactory(9).business_license())
    assert LicenseIdentifier.parse(more.license_id).serial == len(by_type["BL"]) + 1


def test_a_bad_request_in_a_batch_writes_nothing(fresh: Issued):
    samples = SampleFactory(10)
    good = samples.business_license()
    bad = IssueRequest("BL", {**good.fields, "uscc": "91110000600037341X"}, good.valid_from)
    before = fresh.department.store.count()
    with pytest.raises(FieldValueError) as info:
        fresh.department.issue_many([good, good, bad])
    assert info.value.field.startswith("license #3 uscc")
    assert fresh.department.store.count() == before
    with pytest.raises(FieldValueError, match="before valid_from"):
        fresh.department.issue(IssueRequest("BL", good.fields, dt.date(2025, 1, 2), dt.date(2025, 1, 1)))


def test_requests_from_json_and_csv_rows():
    row = {"type": "BL", "valid_from": "2025-01-01", "valid_to": "", "name": "x", "uscc": "y"}
    request = IssueRequest.from_dict(row)
    assert request.valid_to is None
    assert request.fields == {"name": "x", "uscc": "y"}
    with pytest.raises(FieldValueError, match="valid_from"):
        IssueRequest.from_dict({"type": "BL", "valid_from": "01/01/2025"})
    with pytest.raises(FieldValueError, match="type"):
        IssueRequest.from_dict({"valid_from": "2025-01-01"})


def test_anchoring_resumes_a_prepared_batch_and_never_anchors_twice(fresh: Issued):
    dept = fresh.department
    rows = dept.issue_many([SampleFactory(11).business_license() for _ in range(5)])
    digests = sorted(r.digest for r in rows)
    tree = MerkleTree(digests)
    # a crash after the batch was recorded, before the transaction was sent
    dept.store.prepare_batch(tree.root, dept.signer.address, tree.digests)
    assert dept.store.count(pending_only=True) == 0
    results = dept.anchor_pending()
    assert [r.root for r in results] == [tree.root]
    assert dept.store.get_batch(tree.root).state == "anchored"
    # a crash after sending, before recording: the next run records it and sends nothing
    rows2 = dept.issue_many([SampleFactory(12).business_license() for _ in range(3)])
    tree2 = MerkleTree(sorted(r.digest for r in rows2))
    dept.store.prepare_batch(tree2.root, dept.signer.address, tree2.digests)
    assert dept.client is not None
    assert dept.account is not None
    dept.client.anchor(dept.account, list(tree2.digests))
    before = dept.client.block_number()
    assert dept.anchor_pending() == []
    assert dept.client.block_number() == before  # nothing sent
    assert dept.store.get_batch(tree2.root).state == "anchored"
    events = [e for e in dept.client.get_events(0) if type(e).__name__ == "BatchAnchored"]
    roots = [e.root for e in events]
    assert len(roots) == len(set(roots))


def test_amend_supersedes_the_old_version(fresh: Issued):
    dept = fresh.department
    old = fresh.rows[1]
    new, tx = dept.amend(old.license_id, {"domicile": "北京市朝阳区建国路1号"})
    assert tx.gas_used > 0
    assert LicenseIdentifier.parse(new.license_id).version == 2
    assert new.fields["domicile"] == "北京市朝阳区建国路1号"
    assert dept.store.get(old.license_id).status == "superseded"
    assert dept.store.get(old.license_id).superseded_by == new.license_id
    assert dept.client.get_status(dept.issuer_id, old.digest).replacement == new.digest
    dept.anchor_pending()
    fresh.state.sync()
    assert fresh.verifier.verify(fresh.text(1)).status is Outcome.SUPERSEDED
    assert fresh.verifier.verify(dept.presentation(new.license_id).to_text()).status is Outcome.VALID
    with pytest.raises(ConfigurationError, match="only a license in force"):
        dept.amend(old.license_id, {"domicile": "x"})


def test_status_changes_reach_chain_and_store(fresh: Issued):
    dept = fresh.department
    a, b = fresh.rows[1].license_id, fresh.rows[2].license_id
    dept.suspend([a, b], reason=4)
    assert dept.store.get(a).status == "suspended"
    dept.reinstate([a])
    dept.revoke([b], reason=5)
    assert dept.client.get_status(dept.issuer_id, fresh.rows[2].digest).status is Status.REVOKED
    fresh.state.sync()
    assert fresh.verifier.verify(fresh.text(1)).status is Outcome.VALID
    assert fresh.verifier.verify(fresh.text(2)).status is Outcome.REVOKED
    missing = str(LicenseIdentifier("BL", dept.issuer_uscc, 999_999, 1))
    with pytest.raises(LicenseNotFoundError, match="no license"):
        dept.revoke([missing], reason=1)
    with pytest.raises(FieldValueError, match="check character"):
        dept.revoke([missing[:-1] + ("0" if missing[-1] != "0" else "1")], reason=1)


def test_the_issuer_store_on_postgresql(fresh: Issued, postgres_url: str):
    store = IssuerStore(postgres_url)
    dept = Department(
        issuer_uscc=fresh.department.issuer_uscc,
        store=store,
        signer=fresh.department.signer,
        client=fresh.client,
        account=fresh.department.account,
    )
    rows = dept.issue_many([SampleFactory(41).business_license() for _ in range(30)])
    assert store.count() == 30
    assert [LicenseIdentifier.parse(r.license_id).serial for r in rows] == list(range(1, 31))
    results = dept.anchor_pending(batch_size=20)
    assert [r.count for r in results] == [20, 10]
    fresh.state.sync()
    assert fresh.verifier.verify(dept.presentation(rows[0].license_id).to_text()).status is Outcome.VALID
    store.close()
