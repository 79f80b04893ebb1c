"""The shipped contract artifacts are what ``contracts/`` compiles to, and the Python tables cover
every error and event of the ABIs."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import fields

import pytest
from conftest import ROOT

from registry.chain._reverts import RevertDecoder
from registry.chain.artifacts import CONTRACT_NAMES, load_artifact
from registry.chain.events import EVENT_TYPES, EventDecoder, snake_case
from registry.errors import ERROR_CATEGORIES, ConfigurationError


def test_shipped_artifacts_match_a_fresh_compile(tmp_path):
    build = tmp_path / "artifacts"
    config = tmp_path / "hardhat.fresh.config.js"
    # compile into a temporary folder so the check does not depend on (or touch) build/
    config.write_text(
        "const base = require(" + json.dumps(str(ROOT / "hardhat.config.js")) + ");\n"
        "module.exports = {...base, paths: {...base.paths, root: " + json.dumps(str(ROOT)) + ", "
        "artifacts: " + json.dumps(str(build)) + ", cache: " + json.dumps(str(tmp_path / "cache")) + "}};\n"
    )
    subprocess.run(
        ["node", str(ROOT / "node_modules" / ".bin" / "hardhat"), "--config", str(config), "compile", "--quiet"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "export_artifacts.py"), "--check", "--build", str(build)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_every_contract_error_has_a_domain_category():
    names = set()
    for name in CONTRACT_NAMES:
        decoder = RevertDecoder([(name, load_artifact(name).abi)])
        names |= decoder.error_names
    assert names == set(ERROR_CATEGORIES)


def test_every_contract_event_has_a_typed_record():
    abis = [load_artifact(n).abi for n in CONTRACT_NAMES]
    decoder = EventDecoder(abis)  # raises on an unknown event
    events = {i["name"] for abi in abis for i in abi if i["type"] == "event"}
    assert events == set(EVENT_TYPES)
    assert len(decoder.topics) == len(events)
    for abi in abis:
        for item in abi:
            if item["type"] == "event":
                record = [f.name for f in fields(EVENT_TYPES[item["name"]])]
                assert record == ["meta", *(snake_case(i["name"]) for i in item["inputs"])], item["name"]


def test_a_record_that_drifts_from_the_abi_is_refused():
    abi = load_artifact("LicenseRegistry").abi
    drifted = [{**i, "inputs": i["inputs"][::-1]} if i.get("name") == "BatchAnchored" else i for i in abi]
    with pytest.raises(ConfigurationError, match="BatchAnchored"):
        EventDecoder([drifted])
