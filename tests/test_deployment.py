"""The deployment file is validated before use."""

from __future__ import annotations

import json

import pytest

from registry import ConfigurationError, Deployment

GOOD = {
    "chain_id": 31337,
    "trust_registry": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    "license_registry": "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
    "block_number": 1,
    "deployer": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
}


def test_round_trip(tmp_path):
    d = Deployment.from_dict(GOOD)
    assert d.license_registry == "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
    d.save(tmp_path / "deployment.json")
    assert Deployment.load(tmp_path / "deployment.json") == d


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"chain_id": 0}, "chain_id must be a positive integer"),
        ({"chain_id": "1"}, "chain_id must be a positive integer"),
        ({"block_number": -1}, "block_number"),
        ({"trust_registry": "0x1234"}, "trust_registry must be a 0x-prefixed 20-byte address"),
        ({"deployer": "0xF39Fd6e51aad88F6F4ce6aB8827279cffFb92266"}, "invalid checksum"),
        ({"extra": 1}, "unknown keys extra"),
    ],
)
def test_bad_values(change, message):
    with pytest.raises(ConfigurationError, match=message):
        Deployment.from_dict({**GOOD, **change})


def test_bad_files(tmp_path):
    with pytest.raises(ConfigurationError, match="run `elicense deploy` first"):
        Deployment.load(tmp_path / "none.json")
    (tmp_path / "a.json").write_text("{")
    with pytest.raises(ConfigurationError, match="not a readable JSON"):
        Deployment.load(tmp_path / "a.json")
    (tmp_path / "b.json").write_text(json.dumps([1]))
    with pytest.raises(ConfigurationError, match="JSON object"):
        Deployment.load(tmp_path / "b.json")
    missing = dict(GOOD)
    del missing["deployer"]
    (tmp_path / "c.json").write_text(json.dumps(missing))
    with pytest.raises(ConfigurationError, match="missing deployer"):
        Deployment.load(tmp_path / "c.json")
    (tmp_path / "d.json").write_text(" " * 70_000)
    with pytest.raises(ConfigurationError, match="at most"):
        Deployment.load(tmp_path / "d.json")
