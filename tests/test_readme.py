"""The README's Python session runs as written (against a real hardhat node)."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import ROOT, HardhatNode


def test_readme_session_runs(tmp_path, hardhat_node: HardhatNode):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    session = next(b for b in blocks if "client.anchor" in b)
    session = session.replace("http://127.0.0.1:8545", hardhat_node.url)
    subprocess.run(
        [sys.executable, "-m", "api.cli", "--home", "home", "--rpc-url", hardhat_node.url, "deploy"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    result = subprocess.run(
        [sys.executable, "-c", session], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    root_hex, per_license = lines[0].split()
    assert len(root_hex) == 64
    assert 1280 <= float(per_license) <= 1500
    assert "Status.REVOKED" in lines[1]
