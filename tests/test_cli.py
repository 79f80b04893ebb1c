"""The ``elicense`` command line: its commands run in this process as the installed script runs them
(:mod:`tests._cli`), and the installed script itself, started as a user starts it."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from _cli import ELICENSE, run_elicense
from conftest import HardhatNode

from registry import Deployment


def test_the_installed_script_runs_and_fails_as_a_process():
    help_text = subprocess.run([str(ELICENSE), "--help"], capture_output=True, text=True, timeout=120, check=True)
    assert "Blockchain-anchored e-license registry." in help_text.stdout
    bad = subprocess.run(
        [str(ELICENSE), "keys", "create", "Bad Name!"], capture_output=True, text=True, timeout=120, check=False
    )
    assert bad.returncode == 2
    assert "error: key name 'Bad Name!' must be 1 to 64 characters" in bad.stderr
    assert "Traceback" not in bad.stderr


def run(*args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = run_elicense(*args, env={**os.environ, **(env or {})})
    if check and result.returncode != 0:
        raise AssertionError(f"elicense {' '.join(args)} failed: {result.stderr}")
    return result


def test_deploy_in_process_prints_addresses_and_gas(tmp_path):
    out = run("--home", str(tmp_path), "deploy").stdout
    assert "TrustRegistry    0x" in out
    assert "LicenseRegistry  0x" in out
    assert "total gas" in out
    report = json.loads(run("--home", str(tmp_path), "deploy", "--json").stdout)
    assert report["gas_used"]["total"] == report["gas_used"]["TrustRegistry"] + report["gas_used"]["LicenseRegistry"]
    assert report["saved_to"] is None
    assert not (tmp_path / "deployment.json").exists()


def test_deploy_on_a_node_saves_the_deployment(tmp_path, hardhat_node: HardhatNode):
    home = str(tmp_path / "home")
    report = json.loads(run("--home", home, "--rpc-url", hardhat_node.url, "deploy", "--json").stdout)
    saved = Deployment.load(tmp_path / "home" / "deployment.json")
    assert saved.trust_registry == report["trust_registry"]
    assert saved.chain_id == 31337
    info = json.loads(run("--home", home, "--rpc-url", hardhat_node.url, "info", "--json").stdout)
    assert info["license_registry"] == report["license_registry"]
    again = run("--home", home, "--rpc-url", hardhat_node.url, "deploy", check=False)
    assert again.returncode == 2
    assert "exists already" in again.stderr


def test_deploy_with_a_keystore(tmp_path, hardhat_node: HardhatNode):
    home = tmp_path / "home"
    env = {"DEPLOYER_PW": "a long enough password"}
    created = run("--home", str(home), "keys", "create", "deployer", "--password-env", "DEPLOYER_PW", env=env)
    name, address, _ = created.stdout.split()
    assert name == "deployer"
    assert run("--home", str(home), "keys", "list").stdout.split() == ["deployer", "signing", address]
    # the fresh key has no funds on the node: the deployment fails with a clear message, nothing saved
    failed = run(
        "--home", str(home), "--rpc-url", hardhat_node.url, "deploy", "--keystore", "deployer",
        "--password-env", "DEPLOYER_PW", env=env, check=False,
    )  # fmt: skip
    assert failed.returncode == 2
    assert "error:" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert not (home / "deployment.json").exists()
    wrong = run(
        "--home", str(home), "--rpc-url", hardhat_node.url, "deploy", "--keystore", "deployer",
        "--password-env", "DEPLOYER_PW", env={"DEPLOYER_PW": "the wrong password"}, check=False,
    )  # fmt: skip
    assert wrong.returncode == 2
    assert "does not open" in wrong.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rpc-url", "ftp://example", "deploy"), "must look like http://host:port"),
        (("--rpc-url", "http://127.0.0.1:9", "info"), "not reachable"),
        (("info",), "needs a chain that outlives it"),
        (("deploy", "--dev-account", "12"), "--dev-account must be from 0 to 9"),
        (("keys", "create", "Bad Name"), "must be 1 to 64 characters"),
        (("keys", "create", "ok", "--password-env", "UNSET_VARIABLE_X"), "UNSET_VARIABLE_X"),
    ],
)
def test_bad_input_gets_a_clear_error(tmp_path, args, message):
    result = run("--home", str(tmp_path), *args, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_status_of_an_empty_store(tmp_path):
    report = json.loads(run("--home", str(tmp_path), "status", "--json").stdout)
    assert report == {
        "licenses": 0,
        "pending": 0,
        "in_prepared_batches": 0,
        "anchored": 0,
        "batches": {"prepared": 0, "anchored": 0},
        "oldest_pending_seconds": None,
    }
    text = run("--home", str(tmp_path), "status").stdout
    assert text.splitlines()[0] == f"{'licenses':22} 0"


def test_every_command_group_is_registered():
    out = run("--help").stdout
    commands = [line.split()[0] for line in out.split("Commands:")[1].splitlines() if line.strip()]
    assert commands == [
        "apikey", "applications", "apply", "demo", "deploy", "fund", "info", "issuer", "joint", "keys", "license",
        "mirror", "policy", "qr", "receipt", "region", "serve", "status", "subscription", "verify", "webhook",
        "worker",
    ]  # fmt: skip
