"""Licenses signed with SM2 (SM3), verified against a real in-process chain whose departments'
anchoring accounts are bound to SM2 keys: the candidate rule, one suite per key, bindings whose
proof of possession fails, certificates, key windows, status, and a mirror rebuilt from its
database. Attacks first: a crafted QR, a rogue department, a thief with a stolen key."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pytest
from _sm2_world import OTHER_USCC, Sm2World, make_world, registration
from eth_account import Account

from devkit.certificates import self_signed_certificate
from registry import SignatureSuite
from registry.document.presentation import decode_presentation
from registry.document.qr import qr_info
from registry.errors import ConfigurationError
from registry.issuer.department import Department
from signer import Sm2SigningKey
from verifier._sm2keys import MAX_SM2_CANDIDATES
from verifier.mirror import Mirror
from verifier.pipeline import Outcome, Verifier


@pytest.fixture
def world(tmp_path: Path) -> Sm2World:
    return make_world(tmp_path)


def _forged(text: str, **changes: object) -> str:
    p = decode_presentation(text)
    return dataclasses.replace(p, **changes).to_text()  # type: ignore[arg-type]


# -- the valid case and what a verifier shows --------------------------------------------------------


def test_a_license_signed_with_sm2_is_valid_and_says_so(world: Sm2World):
    account, key = world.accounts[3], Sm2SigningKey.generate(b"haidian@bj.gov.cn")
    world.bind(account, key, certificate=self_signed_certificate(key, "北京市市场监督管理局电子印章"))
    department = world.sm2_department(account, key)
    row = world.issue(department)
    assert row.suite is SignatureSuite.SM2
    assert row.signer == account.address
    text = department.presentation(row.license_id).to_text()
    assert decode_presentation(text).suite is SignatureSuite.SM2
    verifier, _ = world.verifier()
    result = verifier.verify(text)
    assert result.status is Outcome.VALID, result.reasons
    assert result.suite is SignatureSuite.SM2
    assert result.signer == account.address
    assert result.certificate_subject is not None
    assert "CN=北京市市场监督管理局电子印章" in result.certificate_subject
    data = result.to_dict()
    assert data["suite"] == "sm2"
    assert data["certificate_subject"] == result.certificate_subject
    assert result.disclosed


def test_a_rogue_subject_reaches_the_json_results_escaped(world: Sm2World):
    """A subject holding U+202E (right-to-left override) and a line break, bound with a valid proof:
    the result and its JSON carry it as RFC 4514 hex pairs, never the characters themselves."""
    account, key = world.accounts[4], Sm2SigningKey.generate()
    world.bind(account, key, certificate=self_signed_certificate(key, "效有\u202e签章", "某局\nVALID 有效"))
    department = world.sm2_department(account, key)
    row = world.issue(department)
    result = world.verifier()[0].verify(department.presentation(row.license_id).to_text())
    assert result.status is Outcome.VALID, result.reasons
    expected = "CN=效有\\E2\\80\\AE签章,O=某局\\0AVALID 有效,C=CN"
    assert result.certificate_subject == expected
    text = json.dumps(result.to_dict(), ensure_ascii=False)
    assert "\u202e" not in text
    assert json.loads(text)["certificate_subject"] == expected


def test_the_anchoring_account_alone_anchors_and_changes_status_and_issues_nothing(world: Sm2World):
    """What the worker, ``license anchor`` and the status commands open: the SM2 department's account
    without its SM2 key. It anchors and suspends the SM2 licenses (which verify), and refuses to issue,
    before a serial is reserved."""
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    signing = world.sm2_department(account, key)
    row = world.issue(signing, anchor=False)
    anchoring = Department(
        issuer_uscc=world.setup.uscc, store=signing.store, signer=None, client=world.client, account=account
    )
    assert anchoring.address == account.address
    (result,) = anchoring.anchor_pending()
    assert result.count == 1
    text = signing.presentation(row.license_id).to_text()
    assert world.verifier()[0].verify(text).status is Outcome.VALID
    anchoring.suspend([row.license_id], reason=2)
    assert world.verifier()[0].verify(text).status is Outcome.SUSPENDED
    for attempt in (
        lambda: anchoring.issue(world.samples.business_license()),
        lambda: anchoring.prepare(world.samples.business_license()),
        lambda: anchoring.amend(row.license_id, {}),
    ):
        with pytest.raises(ConfigurationError, match="without its signing key"):
            attempt()
    assert world.issue(signing, anchor=False).serial == row.serial + 1  # the refusals reserved nothing
    with pytest.raises(ConfigurationError, match="needs its account"):
        Department(issuer_uscc=world.setup.uscc, store=signing.store, signer=None, client=world.client)


def test_the_store_keeps_the_suite_so_a_rebuilt_qr_carries_it(world: Sm2World):
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    department = world.sm2_department(account, key)
    row = world.issue(department)
    again = department.store.get(row.license_id)
    assert again is not None
    assert again.suite is SignatureSuite.SM2
    assert Department.present_row(again).suite is SignatureSuite.SM2
    record = next(department.store.export_records())
    assert record["suite"] == "sm2"


def test_a_secp256k1_license_of_an_issuer_with_sm2_keys_is_unchanged(world: Sm2World):
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    plain = world.secp_department(world.setup.key)
    row = world.issue(plain)
    verifier, _ = world.verifier()
    result = verifier.verify(plain.presentation(row.license_id).to_text())
    assert result.status is Outcome.VALID
    assert result.suite is SignatureSuite.SECP256K1
    assert result.certificate_subject is None
    assert result.to_dict()["suite"] == "secp256k1"


def test_the_sm2_business_license_fits_qr_version_15_at_m(world: Sm2World):
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    department = world.sm2_department(account, key)
    row = world.issue(department, anchor=False)
    text = department.presentation(row.license_id).to_text()
    info = qr_info(text)
    assert info.version <= 15
    assert info.error == "M"
    secp = Department.present_row(dataclasses.replace(row, suite=SignatureSuite.SECP256K1)).to_text()
    assert len(text) - len(secp) in (0, 1, 2)  # one CBOR byte more, compressed


# -- tampering ---------------------------------------------------------------------------------------


@pytest.fixture
def sm2_issued(world: Sm2World) -> tuple[Sm2World, Department, str, Verifier]:
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    department = world.sm2_department(account, key)
    row = world.issue(department)
    text = department.presentation(row.license_id, list(row.fields)).to_text()
    verifier, _ = world.verifier()
    assert verifier.verify(text).status is Outcome.VALID
    return world, department, text, verifier


def test_a_changed_field_is_tampered(sm2_issued):
    _, _, text, verifier = sm2_issued
    p = decode_presentation(text)
    changed = dict(p.disclosed, name=str(p.disclosed["name"]) + "有限公司")
    result = verifier.verify(_forged(text, disclosed=changed))
    assert result.status is Outcome.TAMPERED
    assert result.reasons[0].code == "signature_mismatch"
    assert result.signer is None
    assert not result.disclosed


@pytest.mark.parametrize("position", [0, 31, 32, 63])
def test_a_changed_signature_is_tampered(sm2_issued, position: int):
    _, _, text, verifier = sm2_issued
    p = decode_presentation(text)
    signature = bytearray(p.signature)
    signature[position] ^= 0x01
    assert verifier.verify(_forged(text, signature=bytes(signature))).status is Outcome.TAMPERED


@pytest.mark.parametrize("signature", [bytes(64), b"\xff" * 64, bytes(32) + b"\x01" * 32])
def test_out_of_range_signatures_are_tampered_not_errors(sm2_issued, signature: bytes):
    _, _, text, verifier = sm2_issued
    assert verifier.verify(_forged(text, signature=signature)).status is Outcome.TAMPERED


def test_the_suite_flag_flipped_either_way_is_tampered(sm2_issued):
    world, _, text, verifier = sm2_issued
    assert verifier.verify(_forged(text, suite=SignatureSuite.SECP256K1)).status is Outcome.TAMPERED
    plain = world.secp_department(world.setup.key)
    row = world.issue(plain)
    secp_text = plain.presentation(row.license_id).to_text()
    assert verifier.verify(secp_text).status is Outcome.NOT_ANCHORED  # synced before it was anchored
    assert verifier.verify(_forged(secp_text, suite=SignatureSuite.SM2)).status is Outcome.TAMPERED


def test_a_license_signed_by_another_issuers_sm2_key_is_tampered(world: Sm2World):
    """A rogue department (OTHER_USCC, with its own bound SM2 key) signs and anchors a license that
    names this issuer: its key is no candidate for this issuer, whoever anchored what."""
    mine, my_key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(mine, my_key)
    rogue, rogue_key = world.accounts[4], Sm2SigningKey.generate()
    other = world.issuer_id_of(OTHER_USCC)
    world.bind(rogue, rogue_key, issuer_id=other)
    rogue_signer = world.sm2_department(rogue, rogue_key, uscc=OTHER_USCC).signer
    honest = world.sm2_department(mine, my_key)
    row = world.issue(honest, anchor=False)
    forged_row = dataclasses.replace(row, signature=rogue_signer.sign_license(row.digest))
    forged = Department.present_row(forged_row).to_text()
    world.client.anchor(rogue, [row.digest])  # the rogue anchors the digest as its own
    verifier, _ = world.verifier()
    result = verifier.verify(forged)
    assert result.status is Outcome.TAMPERED
    # and the honest signature, not anchored by this issuer, is only not anchored
    assert verifier.verify(honest.presentation(row.license_id).to_text()).status is Outcome.NOT_ANCHORED


def test_a_secp256k1_signature_by_an_sm2_bound_account_is_tampered(world: Sm2World):
    """One suite per key: a thief holding only the anchoring account's key signs and anchors a
    license the usual way; the department signs with SM2, so it is tampered."""
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    thief = world.secp_department(account)
    row = world.issue(thief)  # signed with secp256k1 by the account, anchored by it
    verifier, _ = world.verifier()
    result = verifier.verify(thief.presentation(row.license_id).to_text())
    assert result.status is Outcome.TAMPERED
    assert result.reasons[0].code == "suite_mismatch"
    assert not result.disclosed


# -- bindings the index does not trust ------------------------------------------------------------------


def test_a_binding_whose_proof_fails_is_ignored(world: Sm2World):
    """The contract checks only the proof's shape: a binding with another key's proof (a rogue
    authority, a key the department does not hold) is on chain, and every verifier ignores it."""
    account, key = world.accounts[3], Sm2SigningKey.generate()
    stranger = Sm2SigningKey.generate()
    wrong = registration(world.client, world.issuer_id, account.address, stranger).proof
    world.bind(account, key, proof=wrong)
    department = world.sm2_department(account, key)
    row = world.issue(department)
    verifier, state = world.verifier()
    assert state.sm2.ignored == 1
    assert state.sm2.binding(account.address) is None
    assert verifier.verify(department.presentation(row.license_id).to_text()).status is Outcome.TAMPERED
    # the account is still SM2's: its secp256k1 signatures are refused too
    secp = world.secp_department(account)
    secp_row = world.issue(secp)
    verifier, _ = world.verifier()
    assert verifier.verify(secp.presentation(secp_row.license_id).to_text()).status is Outcome.TAMPERED


def test_a_proof_made_for_another_account_or_issuer_is_ignored(world: Sm2World):
    """A proof replayed from another binding (same SM2 key, other account) does not verify."""
    first, second = world.accounts[3], world.accounts[4]
    key = Sm2SigningKey.generate()
    world.bind(first, key)
    replayed = registration(world.client, world.issuer_id, first.address, key).proof
    world.bind(second, key, proof=replayed)
    _, state = world.verifier()
    assert state.sm2.binding(first.address) is not None
    assert state.sm2.binding(second.address) is None


def test_a_certificate_of_another_key_shows_no_subject(world: Sm2World):
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key, certificate=self_signed_certificate(Sm2SigningKey.generate(), "冒名印章"))
    department = world.sm2_department(account, key)
    row = world.issue(department)
    verifier, _ = world.verifier()
    result = verifier.verify(department.presentation(row.license_id).to_text())
    assert result.status is Outcome.VALID  # the binding stands
    assert result.certificate_subject is None


def test_a_certificate_that_does_not_parse_shows_no_subject(world: Sm2World):
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key, certificate=os.urandom(300))
    _, state = world.verifier()
    binding = state.sm2.binding(account.address)
    assert binding is not None
    assert binding.subject is None


# -- key windows, status, anchoring -------------------------------------------------------------------


def test_not_anchored_then_anchored(world: Sm2World):
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    department = world.sm2_department(account, key)
    row = world.issue(department, anchor=False)
    text = department.presentation(row.license_id).to_text()
    verifier, state = world.verifier()
    result = verifier.verify(text)
    assert result.status is Outcome.NOT_ANCHORED
    assert result.signer == account.address  # found among the issuer's bound keys
    assert not result.disclosed
    department.anchor_pending()
    state.sync()
    assert verifier.verify(text).status is Outcome.VALID


def test_revoked(world: Sm2World):
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    department = world.sm2_department(account, key)
    row = world.issue(department)
    department.revoke([row.license_id], reason=2)
    verifier, _ = world.verifier()
    result = verifier.verify(department.presentation(row.license_id).to_text())
    assert result.status is Outcome.REVOKED
    assert result.suite is SignatureSuite.SM2


def test_key_rotated_before_anchoring_is_key_not_valid(world: Sm2World):
    """Signed with the old SM2 key, never anchored, and the key rotated: a thief's pattern."""
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    department = world.sm2_department(account, key)
    row = world.issue(department, anchor=False)
    successor, new_key = world.accounts[4], Sm2SigningKey.generate()
    reg = registration(world.client, world.issuer_id, successor.address, new_key)
    world.client.rotate_sm2_key(world.setup.authority, world.issuer_id, account.address, successor, reg)
    world.setup.client.w3.provider.make_request("evm_mine", [])
    verifier, _ = world.verifier()
    result = verifier.verify(department.presentation(row.license_id).to_text())
    assert result.status is Outcome.KEY_NOT_VALID
    assert result.reasons[0].code == "key_not_valid_now"
    # the successor signs and anchors as usual
    after = world.sm2_department(successor, new_key)
    fresh = world.issue(after)
    verifier, _ = world.verifier()
    assert verifier.verify(after.presentation(fresh.license_id).to_text()).status is Outcome.VALID


def test_key_compromised_before_anchoring_is_key_not_valid(world: Sm2World):
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    department = world.sm2_department(account, key)
    theft = world.now()
    world.setup.client.w3.provider.make_request("evm_increaseTime", [60])
    row = world.issue(department)  # anchored after the theft
    world.client.declare_key_compromised(world.setup.authority, world.issuer_id, account.address, compromised_at=theft)
    verifier, _ = world.verifier()
    result = verifier.verify(department.presentation(row.license_id).to_text())
    assert result.status is Outcome.KEY_NOT_VALID
    assert result.reasons[0].code == "key_window"


# -- the candidate bound --------------------------------------------------------------------------------


def test_candidates_are_bounded_and_newest_first(world: Sm2World):
    """An issuer with more SM2 keys than the bound: an unanchored license is looked for among the
    newest keys only (a crafted QR costs at most MAX_SM2_CANDIDATES verifications)."""
    bound = []
    for _ in range(MAX_SM2_CANDIDATES + 1):
        account = Account.create()
        world.client.fund(world.setup.admin, account.address, 10**18)
        key = Sm2SigningKey.generate()
        world.bind(account, key)
        bound.append((account, key))
    verifier, state = world.verifier()
    candidates = state.sm2_candidates(world.issuer_id, [])
    assert len(candidates) == MAX_SM2_CANDIDATES
    assert candidates[0].account == bound[-1][0].address
    oldest, newest = bound[0], bound[-1]
    old_row = world.issue(world.sm2_department(*oldest), anchor=False)
    new_row = world.issue(world.sm2_department(*newest), anchor=False)
    assert verifier.verify(Department.present_row(new_row).to_text()).status is Outcome.NOT_ANCHORED
    assert verifier.verify(Department.present_row(old_row).to_text()).status is Outcome.TAMPERED
    # once anchored, the anchoring account is the candidate, however old its key
    world.client.anchor(oldest[0], [old_row.digest])
    verifier, _ = world.verifier()
    assert verifier.verify(Department.present_row(old_row).to_text()).status is Outcome.VALID


# -- the mirror ---------------------------------------------------------------------------------------------


def test_a_mirror_rebuilt_from_its_database_gives_the_same_answers(world: Sm2World, tmp_path: Path):
    good, good_key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(good, good_key, certificate=self_signed_certificate(good_key))
    bad, bad_key = world.accounts[4], Sm2SigningKey.generate()
    world.bind(bad, bad_key, proof=registration(world.client, world.issuer_id, good.address, good_key).proof)
    texts = []
    for account, key in ((good, good_key), (bad, bad_key)):
        department = world.sm2_department(account, key)
        for anchor in (True, False):
            row = world.issue(department, anchor=anchor)
            texts.append(department.presentation(row.license_id).to_text())
    thief = world.secp_department(good)
    texts.append(thief.presentation(world.issue(thief).license_id).to_text())
    world.setup.client.w3.provider.make_request("evm_mine", [])
    direct, _ = world.verifier()
    expected = [(r.status, r.signer, r.certificate_subject) for r in map(direct.verify, texts)]
    assert [s for s, _, _ in expected] == [
        Outcome.VALID,
        Outcome.NOT_ANCHORED,
        Outcome.TAMPERED,
        Outcome.TAMPERED,
        Outcome.TAMPERED,
    ]
    d = world.client.deployment
    mirror = Mirror.at(tmp_path / "mirror.db", d, confirmations=1)
    mirror.sync(world.client)
    rebuilt = Mirror.at(tmp_path / "mirror.db", d, confirmations=1)  # a new process: from the database alone
    for m in (mirror, rebuilt):
        verifier = Verifier(m.index, chain_id=d.chain_id, license_registry=d.license_registry)
        assert [(r.status, r.signer, r.certificate_subject) for r in map(verifier.verify, texts)] == expected
    assert rebuilt.index.sm2.ignored == 1
    mirror.close()
    rebuilt.close()


def test_without_the_trust_registrys_domain_no_binding_counts():
    """An index that cannot check proofs (no domain given) keeps no SM2 key: fail closed."""
    from verifier.index import EventIndex  # noqa: PLC0415

    index = EventIndex()
    assert index.sm2.chain_id is None
    assert index.sm2_candidates(b"\x01" * 32, []) == []
