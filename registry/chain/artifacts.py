"""Compiled contracts shipped with the package (``registry/chain/_artifacts/*.json``).

The JSON files are produced from ``contracts/`` by ``scripts/export_artifacts.py`` after
``npx hardhat compile``; a test fails when they differ from a fresh compile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from registry.errors import ConfigurationError

__all__ = ["CONTRACT_NAMES", "ContractArtifact", "load_artifact"]

CONTRACT_NAMES = ("TrustRegistry", "LicenseRegistry")


@dataclass(frozen=True)
class ContractArtifact:
    name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler: str


@cache
def load_artifact(name: str) -> ContractArtifact:
    """Load the shipped artifact of ``name`` (one of :data:`CONTRACT_NAMES`)."""
    if name not in CONTRACT_NAMES:
        raise ConfigurationError(f"unknown contract {name!r}; expected one of {', '.join(CONTRACT_NAMES)}")
    path = resources.files("registry.chain") / "_artifacts" / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ContractArtifact(
            name=data["contractName"],
            abi=data["abi"],
            bytecode=data["bytecode"],
            deployed_bytecode=data["deployedBytecode"],
            compiler=data["compiler"],
        )
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigurationError(f"the shipped artifact of {name} is missing or unreadable: {exc}") from exc
