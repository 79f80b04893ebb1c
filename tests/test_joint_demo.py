"""The demo's joint cases (devkit/joint_demo.py) on the in-process chain: the 联办码 fit a QR code
of version 25 at level M, a revoked member shows inside its bundle, a forged bundle never passes
for the anchored one, the contract refuses a construction permit's joint anchor without the fire
department, and that permit names the fire department, and only it, as missing."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from devkit.demo import DemoRun, run_demo
from devkit.joint import SHANGHAI
from devkit.joint_demo import BEIJING, ENTERPRISES
from registry import connect
from registry.document.identifiers import issuer_id_from_uscc, uscc_from_issuer_id
from registry.document.joint import Applicant, decode_bundle, present_bundle
from registry.document.qr import qr_info
from verifier.bundle import BundleOutcome, BundleResult
from verifier.pipeline import Outcome, Verifier
from verifier.results import VerificationResult
from verifier.state import ChainClientState

FIRE = BEIJING[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoRun, dict[str, dict[str, str]], list[str]]:
    home = tmp_path_factory.mktemp("joint-demo")
    lines: list[str] = []
    run = run_demo(home, connect(None), rpc_url=None, licenses=20, echo=lines.append)
    presentations = json.loads((Path(home) / "demo" / "presentations.json").read_text())
    return run, presentations, lines


def _verifier(run: DemoRun) -> Verifier:
    state = ChainClientState(run.client)
    state.sync()
    d = run.client.deployment
    return Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry)


def _bundle(verifier: Verifier, text: str) -> BundleResult:
    result = verifier.check(text)
    assert isinstance(result, BundleResult)
    return result


def _license(verifier: Verifier, text: str) -> VerificationResult:
    result = verifier.check(text)
    assert isinstance(result, VerificationResult)
    return result


def test_every_bundle_qr_fits_version_25_at_level_m_and_the_table_says_so(demo):
    run, presentations, lines = demo
    bundles = {n: p for n, p in presentations.items() if p.get("kind") == "bundle"}
    assert set(bundles) == {"joint_valid", "joint_member_revoked", "joint_not_anchored"}
    for name, case in bundles.items():
        info = qr_info(case["text"])
        assert info.error == "M"
        assert info.version <= 25, name
        assert f"联办码 {name}: {len(case['text'])} characters, QR version {info.version} at level M" in "\n".join(
            lines
        )
        assert next(c for c in run.cases if c.name == name).qr_version == info.version
    table = [line for line in lines if line.startswith("joint_")]
    assert len(table) == 3
    assert all(line.endswith("[ok]") for line in table)


def test_the_valid_bundle_shows_the_applicant_the_seven_members_and_the_five_co_signers(demo):
    run, presentations, _ = demo
    result = _bundle(_verifier(run), presentations["joint_valid"]["text"])
    assert result.status == BundleOutcome.VALID
    assert result.applicant == ENTERPRISES[0]
    assert sorted(m.license_type for m in result.members) == sorted(["FI", "BL", "OC", "TR", "FB", "CR", "SE"])
    assert {d.uscc for d in result.departments} == {s.uscc for s in SHANGHAI}
    assert result.to_dict()["all_cosigned"] is True


def test_the_revoked_member_shows_inside_its_bundle(demo):
    run, presentations, _ = demo
    result = _bundle(_verifier(run), presentations["joint_member_revoked"]["text"])
    assert result.status == BundleOutcome.MEMBER_NOT_VALID
    assert result.applicant == ENTERPRISES[1]  # the joint anchor still vouches for the applicant
    not_valid = [(m.license_type, m.status) for m in result.members if m.status is not Outcome.VALID]
    assert not_valid == [("SE", Outcome.REVOKED)]
    member = next(m for m in result.to_dict()["members"] if m["license_type"]["code"] == "SE")
    assert member["status"] == "revoked"
    assert member["issuer"]["name"] == "上海市公安局浦东分局"


def test_the_bundle_never_anchored_jointly_names_no_applicant(demo):
    run, presentations, _ = demo
    result = _bundle(_verifier(run), presentations["joint_not_anchored"]["text"])
    assert result.status == BundleOutcome.NOT_ANCHORED
    assert result.applicant is None


def test_a_bundle_qr_with_another_applicant_is_not_the_anchored_bundle(demo):
    run, presentations, _ = demo
    bundle = decode_bundle(presentations["joint_valid"]["text"])
    forged_applicant = Applicant(bundle.applicant.credit_code, "上海某某冒名贸易有限公司", bundle.applicant.salt)
    forged = present_bundle(dataclasses.replace(bundle, applicant=forged_applicant))
    result = _bundle(_verifier(run), forged)
    assert result.status == BundleOutcome.NOT_ANCHORED
    assert result.applicant is None  # the forged name is never shown as vouched for


def test_the_contract_refused_the_joint_anchor_without_the_fire_department(demo):
    run, _, lines = demo
    assert run.joint is not None
    refusal = run.joint.refusal
    assert refusal is not None
    assert refusal.error_name == "LicenseRegistryCoApprovalMissing"
    assert bytes(refusal.arguments["issuer_id"]) == issuer_id_from_uscc(FIRE.uscc)
    assert any(
        line.startswith("expected: the contract refused") and FIRE.uscc in line and "CoApprovalMissing" in line
        for line in lines
    )


def test_the_permit_without_the_fire_department_names_it_and_only_it(demo):
    run, presentations, _ = demo
    result = _license(_verifier(run), presentations["co_approval_missing"]["text"])
    assert result.status is Outcome.CO_APPROVAL_MISSING
    co_approval = result.to_dict()["co_approval"]
    assert co_approval["complete"] is False
    missing = [d["name"] for d in co_approval["required"] if not d["approved"]]
    assert missing == ["北京市消防救援总队"]
    assert "北京市消防救援总队" in result.reasons[0].zh


def test_the_permit_co_signed_by_all_three_is_valid_with_its_co_approval_complete(demo):
    run, presentations, _ = demo
    result = _license(_verifier(run), presentations["co_approval_complete"]["text"])
    assert result.status is Outcome.VALID
    co_approval = result.to_dict()["co_approval"]
    assert co_approval["complete"] is True
    assert {d["name"] for d in co_approval["required"]} == {
        "北京市住房和城乡建设委员会",
        "北京市规划和自然资源委员会",
        "北京市消防救援总队",
    }


def test_the_run_holds_every_joint_department_with_its_co_signing_key_registered_now(demo):
    run, _, _ = demo
    joint = {s.uscc for s in (*SHANGHAI, *BEIJING)} | {"11110000000021135M"}  # with the housing department
    assert joint <= set(run.departments)
    assert set(run.co_signing_keys) == joint
    now = run.client.w3.eth.get_block("latest")["timestamp"]
    for uscc, key in run.co_signing_keys.items():
        window = run.client.get_co_signing_key(key.key_id)
        assert window is not None, uscc
        assert window.issuer_id == issuer_id_from_uscc(uscc)
        assert window.contains(now)
    # the first department is still the market-regulation bureau (serve's demo mode keys it)
    assert next(iter(run.departments)) == "11110000MB0195560T"
    # the housing department signs with a key valid now (its first one was declared compromised)
    housing = run.departments["11110000000021135M"]
    assert housing.account is not None
    window = run.client.get_key(housing.account.address)
    assert window is not None
    assert window.issuer_id == housing.issuer_id
    assert window.valid_from <= now < window.valid_until


def test_serves_demo_mode_holds_the_demo_departments_co_signing_keys(tmp_path, capsys):
    """``elicense serve`` in demo mode can co-sign joint applications for the demo's departments."""
    from api.cli._context import Context  # noqa: PLC0415 - the service's modules load FastAPI
    from api.cli.demo import demo_services  # noqa: PLC0415
    from api.settings import Settings  # noqa: PLC0415

    services = demo_services(
        Context(tmp_path, None, None), Settings(home=tmp_path), licenses=20, base_url="http://127.0.0.1:1"
    )
    try:
        held = services.co_signing_keys
        assert len(held) == 8  # five in 上海市 and three in 北京市
        for uscc, key in held.items():
            window = services.client.get_co_signing_key(key.key_id)
            assert window is not None
            assert uscc_from_issuer_id(window.issuer_id) == uscc
        assert "联办码:" in capsys.readouterr().out
    finally:
        services.stop()
