"""scripts/gas_report.py prints the figures the README quotes, and they meet the targets."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def test_gas_report_json_meets_the_targets():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gas_report.py"), "--json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    figures = json.loads(result.stdout)
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
