"""Joint issuance end to end on the in-process chain: five departments of 上海市 issue the seven
licenses of a foreign-invested enterprise, co-sign the bundle with their BLS keys, anchor it in one
transaction whose aggregate the contract checks, and the bundle's QR code (联办码) verifies with
every member; a member revoked later shows as revoked inside the bundle."""

from __future__ import annotations

import datetime as dt

import pytest
from _joint_samples import shanghai_world

from devkit.joint import SHANGHAI, JointWorld, credit_code, seven_requests
from registry import dev_accounts
from registry.chain.records import JointMember
from registry.document.joint import decode_bundle
from registry.errors import ConfigurationError, ContractRevertError
from registry.issuer.joint import JointStateError
from registry.issuer.store import IssuerStore
from signer import CoSigningKey, domain_separator
from verifier.bundle import BundleOutcome, check_bundle
from verifier.pipeline import Outcome, Verifier
from verifier.state import ChainClientState

APPLICANT = credit_code("91310115MA1H8Y2K3")
NAME = "上海某某国际贸易有限公司"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> JointWorld:
    return shanghai_world(IssuerStore.at(tmp_path_factory.mktemp("joint") / "store.db"))


def _issue_seven(world: JointWorld, applicant: str = APPLICANT, name: str = NAME) -> dict[str, str]:
    today = dt.date.today()
    by_type = {}
    for code, request in seven_requests(applicant, name, today).items():
        department = next(d for k, d in world.departments.items() if code in _types(k))
        by_type[code] = department.issue(request).license_id
    for department in world.departments.values():
        department.anchor_pending()
    return by_type


def _types(key: str) -> tuple[str, ...]:
    return next(s.types for s in SHANGHAI if s.key == key)


def _verifier(world: JointWorld) -> tuple[ChainClientState, Verifier, bytes]:
    state = ChainClientState(world.client)
    state.sync()
    d = world.client.deployment
    return (
        state,
        Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry),
        domain_separator(d.chain_id, d.license_registry),
    )


def test_seven_licenses_from_five_departments_anchored_jointly_verify_in_one_scan(world: JointWorld):
    licenses = _issue_seven(world)
    samr = world.departments["sh-samr"]
    desk = world.desk
    application = desk.open(lead_uscc=samr.issuer_uscc, applicant_uscc=APPLICANT, applicant_name=NAME)
    application = desk.add(application.application_id, list(licenses.values()))
    assert len(application.departments) == 5
    with pytest.raises(JointStateError, match="lacks the co-signature"):
        desk.anchor(application.application_id, samr.account)  # type: ignore[arg-type]
    for key, department in world.departments.items():
        desk.cosign(application.application_id, department.issuer_uscc, world.co_signing_keys[key])
    anchored = desk.anchor(application.application_id, samr.account)  # type: ignore[arg-type]
    assert anchored.state == "anchored"
    again = desk.anchor(application.application_id, samr.account)  # type: ignore[arg-type]
    assert again.block_number == anchored.block_number  # nothing anchored twice

    text = desk.presentation(application.application_id)
    assert text.startswith("LB1:")
    state, verifier, domain = _verifier(world)
    result = check_bundle(state, decode_bundle(text), domain, checked_at=dt.datetime.now().timestamp())
    assert result.status == BundleOutcome.VALID, result.reasons
    assert result.applicant == (APPLICANT, NAME)
    assert {m.license_type for m in result.members} == {"FI", "BL", "OC", "TR", "FB", "CR", "SE"}
    assert all(m.status is Outcome.VALID for m in result.members)
    assert all(d.approved for d in result.departments)
    data = result.to_dict()
    assert data["all_cosigned"] is True
    # each member's own QR code still verifies on its own
    for code, license_id in licenses.items():
        department = next(d for k, d in world.departments.items() if code in _types(k))
        assert verifier.verify(department.presentation(license_id).to_text()).status is Outcome.VALID

    # a member revoked afterwards shows as revoked inside the bundle
    world.departments["sh-police"].revoke([licenses["SE"]], reason=3)
    state.sync()
    later = check_bundle(state, decode_bundle(text), domain, checked_at=dt.datetime.now().timestamp())
    assert later.status == BundleOutcome.MEMBER_NOT_VALID
    revoked = [m for m in later.members if m.status is not Outcome.VALID]
    assert [(m.license_type, m.status) for m in revoked] == [("SE", Outcome.REVOKED)]


def test_a_co_signature_made_with_a_key_that_is_not_the_departments_is_refused_before_sending(world: JointWorld):
    licenses = _issue_seven(world, credit_code("91310115MA1H8Y2L1"), "上海另一国际贸易有限公司")
    samr = world.departments["sh-samr"]
    application = world.desk.open(
        lead_uscc=samr.issuer_uscc,
        applicant_uscc=credit_code("91310115MA1H8Y2L1"),
        applicant_name="上海另一国际贸易有限公司",
    )
    world.desk.add(application.application_id, [licenses["BL"]])
    rogue = CoSigningKey.generate()  # never registered on chain
    with pytest.raises(ConfigurationError, match="not a co-signing key"):
        world.desk.cosign(application.application_id, samr.issuer_uscc, rogue)
    with pytest.raises(ConfigurationError, match="not a department"):
        world.desk.cosign(
            application.application_id, world.departments["sh-tax"].issuer_uscc, world.co_signing_keys["sh-tax"]
        )


def test_a_bundle_no_department_co_signed_on_chain_is_not_anchored_and_shows_no_applicant(world: JointWorld):
    licenses = _issue_seven(world, credit_code("91310115MA1H8Y2M0"), "上海第三国际贸易有限公司")
    samr = world.departments["sh-samr"]
    application = world.desk.open(
        lead_uscc=samr.issuer_uscc,
        applicant_uscc=credit_code("91310115MA1H8Y2M0"),
        applicant_name="上海第三国际贸易有限公司",
    )
    world.desk.add(application.application_id, [licenses["BL"], licenses["OC"]])
    state, _, domain = _verifier(world)
    result = check_bundle(
        state,
        decode_bundle(world.desk.presentation(application.application_id)),
        domain,
        checked_at=dt.datetime.now().timestamp(),
    )
    assert result.status == BundleOutcome.NOT_ANCHORED
    assert result.applicant is None
    assert result.to_dict()["applicant"] is None


def test_the_contract_refuses_a_joint_anchor_whose_aggregate_leaves_out_a_department(world: JointWorld):
    licenses = _issue_seven(world, credit_code("91310115MA1H8Y2N9"), "上海第四国际贸易有限公司")
    samr, tax = world.departments["sh-samr"], world.departments["sh-tax"]
    application = world.desk.open(
        lead_uscc=samr.issuer_uscc,
        applicant_uscc=credit_code("91310115MA1H8Y2N9"),
        applicant_name="上海第四国际贸易有限公司",
    )
    application = world.desk.add(application.application_id, [licenses["BL"], licenses["TR"]])
    assert application.bundle is not None
    digest = application.bundle_digest
    assert digest is not None
    bundle = application.bundle
    samr_key, tax_key = world.co_signing_keys["sh-samr"], world.co_signing_keys["sh-tax"]
    departments = sorted([samr.issuer_id, tax.issuer_id])
    keys = {samr.issuer_id: samr_key, tax.issuer_id: tax_key}
    with pytest.raises(ContractRevertError, match="LicenseRegistryInvalidAggregateSignature"):
        world.client.anchor_joint(
            samr.account,  # type: ignore[arg-type]
            application_id=bundle.application_id.chain_id,
            applicant=bundle.applicant.commitment,
            members=[JointMember(m.digest, m.license_type.type_id, m.issuer_id) for m in bundle.members],
            departments=departments,
            public_keys=[keys[d].public_key for d in departments],
            aggregate=samr_key.sign(digest),  # the tax department's signature left out
        )


def test_the_verifier_answers_either_kind_of_qr_text_and_decides_hostile_bundle_texts(world: JointWorld):
    _, verifier, _ = _verifier(world)
    for text in ("LB1:", "LB1:" + "A" * 1500, "lb1:%%%", "LB1:" + "0" * 30):
        result = verifier.check(text)
        assert result.status == BundleOutcome.MALFORMED
        assert result.to_dict()["kind"] == "bundle"
    assert verifier.check("LC1:AAAA").status is Outcome.MALFORMED


def test_an_application_refuses_more_than_its_bounds_before_storing_anything(world: JointWorld):
    samr = world.departments["sh-samr"]
    too_many = [credit_code(f"1131011500{i:07d}") for i in range(16)]
    with pytest.raises(ConfigurationError, match="at most 16"):
        world.desk.open(
            lead_uscc=samr.issuer_uscc, applicant_uscc=APPLICANT, applicant_name=NAME, co_approvers=too_many
        )
    application = world.desk.open(
        lead_uscc=samr.issuer_uscc, applicant_uscc=APPLICANT, applicant_name=NAME, co_approvers=too_many[:14]
    )
    licenses = _issue_seven(world, credit_code("91310115MA1H8Y2P5"), "上海第五国际贸易有限公司")
    with pytest.raises(ConfigurationError, match="17 departments; at most 16"):
        world.desk.add(application.application_id, [licenses["TR"], licenses["CR"]])
    assert world.desk.get(application.application_id).license_ids == ()  # nothing stored
    world.desk.add(application.application_id, [licenses["TR"]])  # 16 departments: still fine
    assert len(world.desk.get(application.application_id).departments) == 16


def test_an_application_the_contract_refuses_goes_back_to_open_to_be_fixed(world: JointWorld):
    """A co-approval policy names a department the bundle lacks: the contract refuses the anchor,
    nothing is anchored, and the application can be completed and anchored after all."""
    samr, tax = world.departments["sh-samr"], world.departments["sh-tax"]
    authority = dev_accounts(world.client.w3)[1]
    bl = b"BL".ljust(32, b"\x00")
    world.client.set_co_approval_policy(authority, 310000, bl, [tax.issuer_id])
    try:
        code = credit_code("91310115MA1H8Y2Q3")
        licenses = _issue_seven(world, code, "上海第六国际贸易有限公司")
        application = world.desk.open(
            lead_uscc=samr.issuer_uscc, applicant_uscc=code, applicant_name="上海第六国际贸易有限公司"
        )
        world.desk.add(application.application_id, [licenses["BL"]])
        world.desk.cosign(application.application_id, samr.issuer_uscc, world.co_signing_keys["sh-samr"])
        with pytest.raises(ContractRevertError, match="LicenseRegistryCoApprovalMissing"):
            world.desk.anchor(application.application_id, samr.account)  # type: ignore[arg-type]
        assert world.desk.get(application.application_id).state == "open"
        world.desk.add_co_approvers(application.application_id, [tax.issuer_uscc])
        for key in ("sh-samr", "sh-tax"):
            department = world.departments[key]
            world.desk.cosign(application.application_id, department.issuer_uscc, world.co_signing_keys[key])
        assert world.desk.anchor(application.application_id, samr.account).state == "anchored"  # type: ignore[arg-type]
    finally:
        world.client.set_co_approval_policy(authority, 310000, bl, [])
