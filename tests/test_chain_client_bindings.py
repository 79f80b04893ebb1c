"""The chain client's bindings of the two contract functions no other path exercises: an
authority's profile update of its department (and the refusal of anyone else), and the on-chain
license check other contracts rely on, for an anchored license and for a forged one."""

from __future__ import annotations

import pytest
from conftest import Issued

from registry import Status, UnauthorizedError, issuer_id_from_uscc
from signer import MerkleTree


def test_an_authority_updates_its_departments_profile_and_no_one_else_can(issued: Issued):
    client = issued.client
    issuer_id = issuer_id_from_uscc(issued.department.issuer_uscc)
    before = client.get_issuer(issuer_id)
    assert before is not None
    with pytest.raises(UnauthorizedError):
        client.update_issuer_profile(
            issued.department.account, issuer_id, "冒名机关", profile_hash=b"\x00" * 32, profile_uri="https://x.example"
        )
    client.update_issuer_profile(
        issued.authority,
        issuer_id,
        "新名称市场监督管理局",
        profile_hash=b"\x07" * 32,
        profile_uri="https://new.example",
    )
    after = client.get_issuer(issuer_id)
    assert after is not None
    assert (after.name, after.profile_uri, after.region, after.active) == (
        "新名称市场监督管理局",
        "https://new.example",
        before.region,
        before.active,
    )


def test_check_license_on_chain_for_an_anchored_and_a_forged_license(issued: Issued):
    client = issued.client
    issuer_id = issuer_id_from_uscc(issued.department.issuer_uscc)
    rows = [issued.department.get(r.license_id) for r in issued.rows]  # as stored after anchoring
    row = rows[0]
    assert row.batch_root is not None
    batch = [r for r in rows if r.batch_root == row.batch_root]
    tree = MerkleTree.from_digests(r.digest for r in batch)
    assert tree.root == row.batch_root
    answer = client.check_license(issuer_id, row.digest, row.signature, tree.root, tree.proof(row.digest))
    assert answer["anchored"] is True
    assert answer["signer"] == row.signer
    assert answer["issuer_id"] == issuer_id
    assert answer["key_valid_at_anchor"] is True
    assert answer["status"] is Status.ACTIVE
    assert answer["anchored_at"] > 0

    other = rows[1]
    forged = client.check_license(issuer_id, row.digest, other.signature, tree.root, tree.proof(row.digest))
    assert forged["signer"] != row.signer
    assert forged["key_valid_at_anchor"] is False
