"""scripts/gas_report.py prints the figures the README and docs/joint.md quote, and they meet the targets."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def figures() -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gas_report.py"), "--json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return json.loads(result.stdout)


def test_gas_report_json_meets_the_targets(figures):
    for key in (
        "anchor_per_license_1",
        "anchor_per_license_100",
        "anchor_per_license_1000",
        "revoke_per_license_1",
        "revoke_per_license_100_different_batches",
        "revoke_per_license_100_same_batch",
    ):
        assert figures[key] > 0, key
    # product targets (gas is deterministic, unlike time)
    assert figures["anchor_per_license_1000"] <= 1500
    assert figures["anchor_per_license_1000"] >= figures["calldata_floor_per_digest"]
    assert figures["revoke_per_license_100_different_batches"] <= 25000
    assert figures["anchor_per_license_1000"] < figures["anchor_per_license_100"] < figures["anchor_per_license_1"]


def test_gas_report_measures_joint_issuance_above_its_bls_floor():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gas_report.py")],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    table = result.stdout
    assert "anchorJoint, 7 members, 5 departments" in table
    assert "addCoSigningKey (proof checked)" in table
    assert "setCoApprovalPolicy, 3 departments" in table
    assert "163,500" in table  # the floor printed in the same run


def test_gas_report_json_joint_figures(figures):
    floor = 163_500  # EIP-2537: hash to G2 about 60,600, pairing 37,700 + 2 x 32,600
    for key in ("joint_anchor", "add_co_signing_key"):
        assert figures[f"{key}_floor"] == floor
    joint, register = figures["joint_anchor_7_members_5_departments"], figures["add_co_signing_key"]
    # a figure under the precompiles' own gas would mean the pairing or the hash to G2 never ran
    assert floor < register < joint
    assert figures["joint_anchor_over_floor"] == round(joint / floor, 2)
    assert figures["add_co_signing_key_over_floor"] == round(register / floor, 2)
    # docs/joint.md: addCoSigningKey about 261,000, anchorJoint of 7 members from 5 departments about 395,000
    assert 240_000 <= register <= 280_000
    assert 370_000 <= joint <= 420_000
    assert 0 < figures["co_approval_policy_3_departments"] < register


def test_gas_report_json_sm2_binding_figures(figures):
    plain = figures["add_key"]
    for key in ("add_sm2_key", "add_sm2_key_certificate_1024"):
        gas, floor = figures[key], figures[f"{key}_floor"]
        # the floor is addKey plus a fresh slot, the Sm2KeyBound log and the extra calldata: a figure
        # under it would mean the binding was not stored or not emitted
        assert plain + 22_100 < floor <= gas, key
        assert figures[f"{key}_over_floor"] == round(gas / floor, 2)
        # the shape and curve checks on top of that are cheap (docs/contracts.md: about 4 % over)
        assert gas / floor < 1.15, key
    # a 1,024-byte certificate: its calldata (16 per non-zero byte) and its log data (8 per byte)
    extra = figures["add_sm2_key_certificate_1024"] - figures["add_sm2_key"]
    assert 1024 * 20 <= extra <= 1024 * 30
