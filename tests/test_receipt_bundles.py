"""Receipts of joint bundles (联办码) checked against the chain later: each member's standing at the
receipt's block is derived from the joint anchor's members on chain (anchor by its own issuer, key,
type permission, status), not only the joint anchor's presence. On the in-process chain with five
departments of 上海市, each test with a bundle of its own: the right receipt; a member revoked
before the block (a receipt saying valid is wrong); a member revoked after (still right); a
co-signing key compromised before the block; a signing key compromised before the member's anchor."""

from __future__ import annotations

import copy
import datetime as dt
import random
from typing import Any

import pytest
from _joint_samples import shanghai_world

from devkit.devchain import increase_time, latest_timestamp
from devkit.joint import JointWorld, cosigned_application, credit_code
from registry import dev_accounts
from registry.issuer.store import IssuerStore
from signer import CoSigningKey
from verifier.pipeline import Verifier
from verifier.receipt_check import check_receipt_against_chain, receipt_for_client_state
from verifier.receipts import VerifierIdentity, parse_receipt, verify_receipt
from verifier.state import ChainClientState

RNG = random.Random(77)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> JointWorld:
    return shanghai_world(IssuerStore.at(tmp_path_factory.mktemp("receipt-bundles") / "store.db"))


@pytest.fixture(scope="module")
def identity() -> VerifierIdentity:
    return VerifierIdentity.generate("310000-shanghai-verify")


def _bundle(world: JointWorld) -> tuple[str, dict[str, str]]:
    """A new applicant's seven licenses, jointly anchored: the bundle's QR text and the member
    license ids by type."""
    applicant = credit_code("91310115MA" + "".join(RNG.choice("0123456789") for _ in range(7)))
    application = cosigned_application(world, applicant, f"上海某某{applicant[-4:]}有限公司", dt.date.today())
    lead = world.departments["sh-samr"]
    world.desk.anchor(application.application_id, lead.account)  # type: ignore[arg-type]
    ids = {lid[:2]: lid for lid in world.desk.get(application.application_id).license_ids}
    return world.desk.presentation(application.application_id), ids


def _answer(world: JointWorld, identity: VerifierIdentity, text: str, **change: Any) -> dict[str, Any]:
    """What a service answers on ``text`` from the chain as it is now, as a signed receipt; with
    ``change`` applied to the answer first (a service that missed something, or lied)."""
    state = ChainClientState(world.client)
    state.sync()
    d = world.client.deployment
    result = Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry).check(text).to_dict()
    assert result["kind"] == "bundle"
    answer = copy.deepcopy(result)
    answer.update(change)
    signed = receipt_for_client_state(answer, identity, world.client, state)
    assert verify_receipt(signed, [identity.public]).ok  # a good signature either way: only the chain tells
    return signed


def _check(world: JointWorld, signed: dict[str, Any]):
    receipt, _ = parse_receipt(signed)
    return check_receipt_against_chain(receipt, world.client)


def _issuer_of(world: JointWorld, license_id: str):
    return next(d for d in world.departments.values() if license_id[2:20] == d.issuer_uscc)


def test_a_right_bundle_receipt_is_right(world: JointWorld, identity: VerifierIdentity):
    text, _ = _bundle(world)
    signed = _answer(world, identity, text)
    assert signed["receipt"]["status"] == "valid"
    check = _check(world, signed)
    assert check.verdict == "right", check.detail
    assert (check.chain_status, check.status_now) == ("valid", "valid")


@pytest.mark.parametrize(("change", "code", "outcome"), [("revoke", "SE", "revoked"), ("suspend", "TR", "suspended")])
def test_a_member_revoked_or_suspended_before_the_block_makes_a_valid_receipt_wrong(
    world: JointWorld, identity: VerifierIdentity, change: str, code: str, outcome: str
):
    text, ids = _bundle(world)
    member = ids[code]
    getattr(_issuer_of(world, member), change)([member], reason=3)
    honest = _answer(world, identity, text)
    assert honest["receipt"]["status"] == "member_not_valid"
    assert _check(world, honest).verdict == "right"
    lying = _answer(world, identity, text, status="valid", reasons=[{"code": "valid", "zh": "", "en": ""}])
    check = _check(world, lying)
    assert (check.verdict, check.chain_status) == ("wrong", "member_not_valid"), check.detail
    assert f"{outcome}" in check.detail  # which member, and why
    assert ids[code][2:20] in check.detail


def test_a_member_revoked_after_the_block_leaves_the_receipt_right(world: JointWorld, identity: VerifierIdentity):
    text, ids = _bundle(world)
    signed = _answer(world, identity, text)
    fb = ids["FB"]
    _issuer_of(world, fb).revoke([fb], reason=2)
    check = _check(world, signed)
    assert check.verdict == "right", check.detail
    assert (check.chain_status, check.status_now) == ("valid", "member_not_valid")


def test_a_co_signing_key_compromised_before_the_block_makes_a_valid_receipt_wrong(
    world: JointWorld, identity: VerifierIdentity
):
    text, _ = _bundle(world)
    police = world.departments["sh-police"]
    key = world.co_signing_keys["sh-police"]
    anchored_at = latest_timestamp(world.client.w3)  # the joint anchor's block is the latest
    authority = dev_accounts(world.client.w3)[1]  # 上海市's authority
    world.client.declare_co_signing_key_compromised(authority, police.issuer_id, key.key_id, compromised_at=anchored_at)
    increase_time(world.client.w3, 2)
    fresh = CoSigningKey.generate()  # the department's next co-signing key, for the bundles of the tests after
    world.client.add_co_signing_key(
        authority,
        police.issuer_id,
        fresh.public_key,
        fresh.proof_of_possession(),
        valid_from=latest_timestamp(world.client.w3),
    )
    world.co_signing_keys["sh-police"] = fresh
    honest = _answer(world, identity, text)
    assert honest["receipt"]["status"] == "co_approval_missing"
    assert _check(world, honest).verdict == "right"
    lying = _answer(world, identity, text, status="valid")
    check = _check(world, lying)
    assert (check.verdict, check.chain_status) == ("wrong", "co_approval_missing")


def test_a_bundle_never_anchored_is_not_anchored_on_chain(world: JointWorld, identity: VerifierIdentity):
    text, _ = _bundle(world)
    forged = _answer(world, identity, text, bundle_digest="0x" + "ab" * 32)
    check = _check(world, forged)
    assert (check.verdict, check.chain_status) == ("wrong", "not_anchored")


def test_member_not_valid_that_the_chain_cannot_explain_is_not_checkable(world: JointWorld, identity: VerifierIdentity):
    """Every member in order on chain: only a member's validity window (in the text, not the
    receipt) could make the bundle not valid, so the chain cannot confirm or deny it."""
    text, _ = _bundle(world)
    claimed = _answer(world, identity, text, status="member_not_valid")
    check = _check(world, claimed)
    assert check.verdict == "not_checkable", check.detail
    assert "validity window" in check.detail
