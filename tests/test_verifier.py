"""The verification pipeline: every outcome, on the in-process chain and against a hardhat node
through the command line, and the cases only a forged chain state or a stolen key produce."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess

import pytest
from _cli import run_elicense
from conftest import Issued, make_issued

from devkit.demo import run_demo
from devkit.devchain import increase_time, latest_timestamp
from registry import connect
from registry.chain.events import BatchAnchored
from registry.chain.records import Status
from registry.document.qr import qr_info
from verifier.bundle import BundleOutcome
from verifier.pipeline import Outcome, Verifier
from verifier.qr import read_qr_image
from verifier.state import EventIndex

pytestmark = pytest.mark.slow  # started first when the suite is spread over processes


def test_demo_shows_every_outcome_in_process(tmp_path):
    cases = run_demo(tmp_path, connect(None), rpc_url=None, licenses=60, echo=lambda _m: None).cases
    licenses = [c for c in cases if c.kind == "license"]
    assert {c.got for c in licenses} == set(Outcome)  # every status of the pipeline appears
    assert Outcome.CO_APPROVAL_MISSING in {c.got for c in licenses}
    assert all(c.got == c.expected for c in cases)
    bundles = {c.name: c.got for c in cases if c.kind == "bundle"}
    assert bundles == {
        "joint_valid": BundleOutcome.VALID,
        "joint_member_revoked": BundleOutcome.MEMBER_NOT_VALID,
        "joint_not_anchored": BundleOutcome.NOT_ANCHORED,
    }
    presentations = json.loads((tmp_path / "demo" / "presentations.json").read_text())
    assert set(presentations) == {c.name for c in cases}
    assert {n for n, p in presentations.items() if p.get("kind") == "bundle"} == set(bundles)
    assert all(p["text"].startswith("LB1:") for n, p in presentations.items() if n in bundles)
    for name in bundles:
        assert read_qr_image((tmp_path / "demo" / f"{name}.png").read_bytes()) == presentations[name]["text"]
    valid = next(c for c in cases if c.name == "valid")
    assert valid.qr_version is not None
    assert valid.qr_version <= 15
    assert read_qr_image((tmp_path / "demo" / "valid.png").read_bytes()) == valid.text


def test_result_carries_issuer_anchor_fields_and_chain_state(issued: Issued):
    result = issued.verifier.verify(issued.text(1))
    assert result.status is Outcome.VALID
    data = result.to_dict()
    json.dumps(data, ensure_ascii=False)
    assert data["issuer"]["name"] == "北京市市场监督管理局"
    assert data["issuer"]["region"] == 110000
    assert data["anchor"]["block_number"] > 0
    assert data["chain"]["block_number"] == issued.state.block_number
    assert data["chain"]["age_seconds"] >= 0
    assert data["headline"] == {"zh": "有效", "en": "Valid"}
    assert {f["key"] for f in data["disclosed"]} == {k for k in issued.rows[1].fields if k != "business_scope"}
    assert data["hidden_fields"] == 1
    reason = data["reasons"][0]
    assert reason["zh"]
    assert reason["en"]


def test_tampered_and_malformed_disclose_nothing(issued: Issued):
    text = issued.text(1)
    forged = text[:-6] + ("0" if text[-6] != "0" else "1") + text[-5:]
    for candidate in (forged, "LC1:", "not a qr code"):
        result = issued.verifier.verify(candidate)
        assert result.status in (Outcome.TAMPERED, Outcome.MALFORMED)
        assert result.disclosed == []
        assert result.reasons


def test_a_batch_whose_digests_do_not_match_its_root_never_verifies(issued: Issued):
    index = EventIndex()
    for event in issued.client.get_events(issued.client.deployment.block_number):
        forged = dataclasses.replace(event, root=b"\x01" * 32) if isinstance(event, BatchAnchored) else event
        index.apply(forged, latest_timestamp(issued.client.w3))
    d = issued.client.deployment
    verifier = Verifier(index, chain_id=d.chain_id, license_registry=d.license_registry)
    result = verifier.verify(issued.text(1))
    assert result.status is Outcome.NOT_ANCHORED
    assert result.reasons[0].code == "invalid_batch"


def test_finding5_declaring_a_key_compromised_from_earlier_does_not_unrevoke(tmp_path):
    """A revocation made with a key later declared compromised from an earlier time stays in force
    (fail closed, as the chain says) until the region authority voids it."""
    world = make_issued(tmp_path, count=3)
    client, department = world.client, world.department
    key = department.account
    assert key is not None
    increase_time(client.w3, 60)
    theft = latest_timestamp(client.w3)
    client.revoke(key, department.issuer_id, [world.rows[1].digest], reason=66)  # the thief, with the key
    world.state.sync()
    assert world.verifier.verify(world.text(1)).status is Outcome.REVOKED
    client.declare_key_compromised(world.authority, department.issuer_id, key.address, compromised_at=theft)
    world.state.sync()
    # licenses anchored before the theft stay valid; the revocation stays in force, as on chain
    assert world.verifier.verify(world.text(1)).status is Outcome.REVOKED
    assert world.verifier.verify(world.text(2)).status is Outcome.VALID
    assert client.get_status(department.issuer_id, world.rows[1].digest).status is Status.REVOKED  # on chain
    # a reinstatement by the stolen key after the compromise time would not count either: only the
    # authority's voiding makes the license active again
    client.void_status_changes(world.authority, department.issuer_id, [world.rows[1].digest])
    world.state.sync()
    assert world.verifier.verify(world.text(1)).status is Outcome.VALID


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_elicense(*args, env={**os.environ, "ELICENSE_HOME": "", "ELICENSE_RPC_URL": ""})


def test_demo_on_a_node_then_verify_every_case_again_with_the_cli(tmp_path, hardhat_node):
    home = tmp_path / "home"
    demo = _cli("--home", str(home), "--rpc-url", hardhat_node.url, "demo", "--licenses", "40", "--json")
    assert demo.returncode == 0, demo.stderr
    report = json.loads(demo.stdout)
    assert all(c["expected"] == c["got"] for c in report["cases"])
    assert {c["case"] for c in report["cases"] if c["kind"] == "bundle"} == {
        "joint_valid",
        "joint_member_revoked",
        "joint_not_anchored",
    }
    presentations = json.loads((home / "demo" / "presentations.json").read_text())
    assert sum(1 for c in presentations.values() if c.get("kind") == "bundle") == 3
    for name, case in presentations.items():  # licenses (LC1:) and joint bundles (LB1:) alike
        result = _cli("--home", str(home), "--rpc-url", hardhat_node.url, "verify", "--text", case["text"], "--json")
        data = json.loads(result.stdout)
        assert data["status"] == case["expected"], name
        assert data.get("kind", "license") == case.get("kind", "license"), name
        if name == "sm2_valid":  # the demo's SM2 department, on a node too
            assert (data["suite"], data["certificate_subject"]) == (
                "sm2",
                "CN=电子证照签名密钥,O=北京市海淀区市场监督管理局,C=CN",
            )
        assert result.returncode == (0 if case["expected"] == "valid" else 1)
    bundle = _cli(
        "--home", str(home), "--rpc-url", hardhat_node.url, "verify", "--image",
        str(home / "demo" / "joint_member_revoked.png"),
    )  # fmt: skip
    assert bundle.returncode == 1
    assert "REVOKED" in bundle.stdout.upper()
    image = _cli(
        "--home", str(home), "--rpc-url", hardhat_node.url, "verify", "--image", str(home / "demo" / "revoked.png")
    )
    assert image.returncode == 1
    assert "REVOKED" in image.stdout
    assert "已吊销" in image.stdout
    assert qr_info(presentations["valid"]["text"]).version <= 15
