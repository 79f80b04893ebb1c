"""Applications (秒批) through the command line against a hardhat node: ``elicense apply`` with QR
texts and a photo of a QR code, accepted and refused, then ``applications list`` and ``export``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
import subprocess
from pathlib import Path

import pytest
from _cli import run_elicense
from conftest import HardhatNode

from devkit.samples import SampleFactory, make_uscc
from devkit.world import DEPARTMENT_USCC, deploy_department
from registry import connect
from registry.document.presentation import present
from registry.document.qr import render_png
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


def test_apply_list_and_export(tmp_path: Path, hardhat_node: HardhatNode):
    home = tmp_path / "home"
    setup = deploy_department(connect(hardhat_node.url), license_types=("BL", "FB"))
    setup.client.deployment.save(home / "deployment.json")
    store = IssuerStore.at(home / "store.db")
    department = setup.department(store)
    rng = random.Random(5)
    company, other = make_uscc(rng, region=110108), make_uscc(rng, region=110105)
    sample = SampleFactory(8).business_license(valid_from=dt.date(2021, 3, 1))
    rows = [
        department.issue(dataclasses.replace(sample, fields={**sample.fields, "uscc": c})) for c in (company, other)
    ]
    department.anchor_pending()
    department.revoke([rows[1].license_id], reason=2)
    texts = [present(Department.license_of(r), r.signature, None).to_text() for r in rows]
    image = tmp_path / "bl.png"
    image.write_bytes(render_png(texts[0]))
    env = {**os.environ, "ELICENSE_HOME": str(home), "ELICENSE_RPC_URL": hardhat_node.url}

    def run(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        result = run_elicense(*args, env=env)
        assert result.returncode == code, f"elicense {' '.join(args)}: {result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        return result

    food = SampleFactory(9).food_permit()
    fields = [a for k, v in food.fields.items() if k != "uscc" for a in ("--field", f"{k}={v}")]
    base = ("apply", "--uscc", DEPARTMENT_USCC, "--type", "FB", *fields, "--dev-account", "2")
    accepted = json.loads(run(*base, "--field", f"uscc={company}", "--prerequisite-image", str(image), "--json").stdout)
    assert accepted["outcome"] == "accepted"
    assert accepted["presented"][0]["digest"] == "0x" + rows[0].digest.hex()
    issued = store.get(accepted["license_id"])
    assert issued is not None
    assert issued.fields["uscc"] == company
    refused = run(*base, "--field", f"uscc={other}", "--prerequisite-text", texts[1], "--lang", "en", code=1).stdout
    assert refused.startswith("REFUSED")
    assert "✗ business_license/valid" in refused
    assert "revoked" in refused
    wrong = run(*base, "--field", f"uscc={other}", "--prerequisite-text", "LC1:JUNK", code=1).stdout
    assert "✗ business_license/readable" in wrong
    run(*base, "--field", f"uscc={company}", "--prerequisite-image", str(tmp_path / "missing.png"), code=2)
    not_an_image = tmp_path / "x.png"
    not_an_image.write_bytes(b"not an image")
    assert "image" in run(*base, "--prerequisite-image", str(not_an_image), code=2).stderr

    listed = [json.loads(line) for line in run("applications", "list", "--uscc", DEPARTMENT_USCC).stdout.splitlines()]
    assert [d["outcome"] for d in listed] == ["accepted", "refused", "refused"]
    assert all("text" not in p for d in listed for p in d["presented"])
    out = tmp_path / "decisions.jsonl"
    run("applications", "export", "--out", str(out))
    exported = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [d["decision_id"] for d in exported] == [d["decision_id"] for d in listed]
    assert exported[1]["presented"][0]["text"] == texts[1]
    assert out.stat().st_mode & 0o777 == 0o600
    assert "never overwritten" in run("applications", "export", "--out", str(out), code=2).stderr
