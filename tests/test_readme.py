"""The README's walk-through and Python session run as written, against a real hardhat node."""

from __future__ import annotations

import csv
import os
import re
import shlex
import subprocess
import sys

import pytest
from _cli import run_elicense
from conftest import ROOT, HardhatNode

from devkit.samples import SampleFactory

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes

#: What only a shell reads in a command's arguments: redirections, pipes, substitutions, variables.
SHELL_SYNTAX = re.compile(r"[<>|`$]")


def test_readme_walkthrough_and_python_session(tmp_path, hardhat_node: HardhatNode, monkeypatch: pytest.MonkeyPatch):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
    shell = next(b for b in blocks if "$E deploy" in b) + next(b for b in blocks if "$E joint open" in b)
    shell += next(b for b in blocks if "--suite sm2" in b)  # a department signing with SM2
    python = next(b for b in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "Department(" in b)

    samples = SampleFactory(31)
    with (tmp_path / "licenses.csv").open("w", newline="", encoding="utf-8") as fh:
        requests = [samples.business_license() for _ in range(3)]
        writer = csv.DictWriter(fh, fieldnames=["type", "valid_from", "valid_to", *requests[0].fields])
        writer.writeheader()
        for r in requests:
            row = {k: str(v) for k, v in r.fields.items()}
            writer.writerow({"type": "BL", "valid_from": r.valid_from.isoformat(), "valid_to": "", **row})

    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    script = shell.replace("http://127.0.0.1:8545", hardhat_node.url).replace(
        "E=.venv/bin/elicense", f"E={ROOT}/.venv/bin/elicense"
    )
    lines = [re.sub(r"\s+# .*$", "", line) for line in script.splitlines()]
    state: dict[str, str] = {}
    exported: dict[str, str | None] = {}  # the variables the walk-through exported so far
    monkeypatch.chdir(tmp_path)
    for raw in lines:
        if not raw.strip():
            continue
        line = raw.replace("<dept address>", state.get("dept", "")).replace("<license id>", state.get("license", ""))
        line = line.replace("<application id>", state.get("application", ""))
        line = line.replace("<sm2 account>", state.get("sm2", ""))
        if line.startswith("export "):
            for assignment in shlex.split(line.replace("$PWD", str(tmp_path)))[1:]:
                name, _, value = assignment.partition("=")
                exported[name] = value
        if line.startswith("$E ") and not SHELL_SYNTAX.search(line[3:]):
            # the command as its script runs it (api.cli.main), in this process: a fresh interpreter
            # for each of forty commands cost two minutes of imports
            result = run_elicense(*shlex.split(line)[1:], env=exported)
        else:  # redirections and substitutions: bash runs the line
            full = f"{state.get('env', '')}\n{line}"
            result = subprocess.run(
                ["bash", "-c", full], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False
            )
        expected_failure = "verify" in line and "--json" in line  # verifying a revoked license exits 1
        assert result.returncode == (1 if expected_failure else 0), f"{line}\n{result.stdout}\n{result.stderr}"
        if line.startswith("export") or line.startswith("E="):
            state["env"] = state.get("env", "") + "\n" + line
        if "keys create dept" in line:
            state["dept"] = result.stdout.split()[1]
        if "--suite sm2" in line:
            state["sm2"] = result.stdout.split()[1]
        if "license issue" in line:
            state["license"] = result.stdout.split()[0]
        if "joint open" in line:
            state["application"] = result.stdout.split()[0]
            assert state["application"].startswith("JA")
        if "joint anchor" in line:
            assert "anchored" in result.stdout
        if "verify --image license.png --json" in line:
            assert '"status": "revoked"' in result.stdout
        elif "verify --image bundle.png" in line:
            assert result.stdout.startswith("VALID"), result.stdout
            assert "北京星辰科技有限公司" in result.stdout
        elif "verify --image sm2.png" in line:
            assert result.stdout.startswith("VALID"), result.stdout
            assert "signature 国密 SM2" in result.stdout
        elif "issuer show" in line and "sm2" in state:
            assert state["sm2"] in result.stdout
        elif "verify --image" in line:
            assert result.stdout.startswith("VALID")

    session = python.replace("http://127.0.0.1:8545", hardhat_node.url)
    result = subprocess.run(
        [sys.executable, "-c", session], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "valid"
