#!/usr/bin/env python3
"""Copy the ABI and bytecode of the registry contracts from Hardhat's build output into the Python
package (``registry/chain/_artifacts``). Run after ``npx hardhat compile``; ``--check`` only compares and
exits 1 when the shipped files are stale."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("TrustRegistry", "LicenseRegistry")


def exported(build: Path, name: str) -> str:
    source = build / "contracts" / f"{name}.sol" / f"{name}.json"
    artifact = json.loads(source.read_text(encoding="utf-8"))
    dbg = json.loads((source.parent / f"{name}.dbg.json").read_text(encoding="utf-8"))
    build_info = json.loads((source.parent / dbg["buildInfo"]).resolve().read_text(encoding="utf-8"))
    data = {
        "contractName": artifact["contractName"],
        "sourceName": artifact["sourceName"],
        "compiler": build_info["solcLongVersion"],
        "abi": artifact["abi"],
        "bytecode": artifact["bytecode"],
        "deployedBytecode": artifact["deployedBytecode"],
    }
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", type=Path, default=ROOT / "build" / "artifacts")
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 when stale")
    args = parser.parse_args()
    out_dir = ROOT / "registry" / "chain" / "_artifacts"
    stale = []
    for name in NAMES:
        text = exported(args.build, name)
        target = out_dir / f"{name}.json"
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            stale.append(name)
            if not args.check:
                target.write_text(text, encoding="utf-8")
    if args.check and stale:
        print(f"stale artifacts: {', '.join(stale)}; run scripts/export_artifacts.py", file=sys.stderr)
        return 1
    print("artifacts " + ("up to date" if not stale else "written: " + ", ".join(stale)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
