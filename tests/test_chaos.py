"""scripts/chaos_issue.py, smaller: licenses issued through the API while the worker is killed at
random and the node is cut once all end anchored exactly once (the README runs it with 10,000)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


def test_chaos_issue_script():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "chaos_issue.py"), "--licenses", "1000", "--kills", "3", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["ok"] is True
    assert summary["anchored_exactly_once"] == 1000
    assert summary["worker_kills"] == 3
    assert summary["node_outages"] == 1
