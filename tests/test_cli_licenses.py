"""A department's whole workflow through the command line, against a hardhat node: federation and
region set-up, an encrypted department key, issuing from a CSV file, anchoring, QR images,
verification from a photo, revocation."""

from __future__ import annotations

import csv
import json
import os
import subprocess

import pytest
from _cli import run_elicense
from conftest import HardhatNode

from devkit.samples import SampleFactory
from registry import connect, dev_accounts

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


DEPT = "11110000MB0195560T"


def test_department_workflow(tmp_path, hardhat_node: HardhatNode):
    home = tmp_path / "home"
    env = {**os.environ, "ELICENSE_HOME": str(home), "ELICENSE_RPC_URL": hardhat_node.url, "DEPT_PW": "s3cret pass"}

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        result = run_elicense(*args, env=env)
        assert result.returncode == code, f"elicense {' '.join(args)}: {result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result

    authority = dev_accounts(connect(hardhat_node.url))[1].address
    run("deploy", "--dev-account", "0")
    run("region", "add", "110000", "--dev-account", "0")
    run("region", "add-authority", "110000", authority, "--dev-account", "0")
    key = run("keys", "create", "dept", "--password-env", "DEPT_PW").stdout.split()[1]
    run("fund", key, "5", "--dev-account", "0")
    run(
        "issuer",
        "register",
        "--uscc",
        DEPT,
        "--region",
        "110000",
        "--name",
        "北京市市场监督管理局",
        "--dev-account",
        "1",
    )
    # the department signs its key's acceptance with its keystore; the authority passes it on
    acceptance = run("keys", "accept", "dept", "--uscc", DEPT, "--password-env", "DEPT_PW").stdout.strip()
    run("issuer", "add-key", "--uscc", DEPT, key, "--dev-account", "1", code=2)  # refused without it
    run("issuer", "add-key", "--uscc", DEPT, key, "--acceptance", acceptance, "--dev-account", "1")
    run("issuer", "permit", "--uscc", DEPT, "--type", "BL", "--dev-account", "1")
    shown = json.loads(run("issuer", "show", "--uscc", DEPT, "--json").stdout)
    assert shown["name"] == "北京市市场监督管理局"
    assert set(shown["permitted_types"]) == {"BL"}

    samples = SampleFactory(21)
    rows = [samples.business_license() for _ in range(3)]
    csv_path = tmp_path / "licenses.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["type", "valid_from", "valid_to", *rows[0].fields])
        writer.writeheader()
        for r in rows:
            writer.writerow(
                {
                    "type": "BL",
                    "valid_from": r.valid_from.isoformat(),
                    "valid_to": "",
                    **{k: str(v) for k, v in r.fields.items()},
                }
            )
    signing = ("--keystore", "dept", "--password-env", "DEPT_PW")
    issued = json.loads(run("license", "issue", "--uscc", DEPT, "--file", str(csv_path), "--json", *signing).stdout)
    assert len(issued) == 3
    license_id = issued[0]["license_id"]
    waiting = json.loads(run("status", "--json").stdout)
    assert {k: waiting[k] for k in ("licenses", "pending", "in_prepared_batches", "anchored")} == {
        "licenses": 3,
        "pending": 3,
        "in_prepared_batches": 0,
        "anchored": 0,
    }
    assert waiting["oldest_pending_seconds"] >= 0
    anchored = run("license", "anchor", "--uscc", DEPT, *signing).stdout
    assert "3 licenses anchored in 1 batches" in anchored
    assert json.loads(run("status", "--json").stdout) == {
        "licenses": 3,
        "pending": 0,
        "in_prepared_batches": 0,
        "anchored": 3,
        "batches": {"prepared": 0, "anchored": 1},
        "oldest_pending_seconds": None,
    }

    png = tmp_path / "qr.png"
    text = run("qr", license_id, "--out", str(png)).stdout.strip()
    assert text.startswith("LC2:")  # the compact form issuers make
    verified = run("verify", "--image", str(png), "--json")
    data = json.loads(verified.stdout)
    assert data["status"] == "valid"
    assert data["license_id"] == license_id
    assert data["issuer"]["name"] == "北京市市场监督管理局"

    run("license", "revoke", "--uscc", DEPT, license_id, "--reason", "3", *signing)
    revoked = run("verify", "--text", text, code=1)
    assert "REVOKED" in revoked.stdout
    assert json.loads(run("license", "show", license_id, "--json").stdout)["status"] == "revoked"

    # the one explicit way out for bodies and salts: a new 0600 file, never overwritten
    export = tmp_path / "export.jsonl"
    assert "3 licenses, with their secrets" in run("license", "export", "--out", str(export)).stdout
    assert oct(export.stat().st_mode & 0o777) == "0o600"
    records = [json.loads(line) for line in export.read_text().splitlines()]
    assert {r["license_id"] for r in records} == {r["license_id"] for r in issued}
    assert set(records[0]) == {
        "license_id", "type", "issuer_uscc", "valid_from", "valid_to", "fields", "secret", "digest",
        "signature", "suite", "signer", "status", "batch_root",
    }  # fmt: skip
    assert {r["license_id"]: r["status"] for r in records}[license_id] == "revoked"
    assert all(len(r["secret"]) == 34 for r in records)
    assert "exist" in run("license", "export", "--out", str(export), code=2).stderr

    # mistakes get clear errors and change nothing
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"type": "BL", "valid_from": "2025-01-01", "name": "x"}]))
    error = run("license", "issue", "--uscc", DEPT, "--file", str(bad), *signing, code=2).stderr
    assert "is missing" in error
    wrong_pw = run("license", "anchor", "--uscc", DEPT, "--keystore", "dept", "--password-env", "NOPE", code=2)
    assert "NOPE" in wrong_pw.stderr
    other = run("issuer", "permit", "--uscc", DEPT, "--type", "FB", *signing, code=2)
    assert "TrustRegistryNotRegionAuthority" in other.stderr
