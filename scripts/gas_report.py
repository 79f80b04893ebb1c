#!/usr/bin/env python3
"""Gas used per license by the registry contracts, measured on the in-process EVM (Prague rules,
including the EIP-7623 calldata floor).

    python scripts/gas_report.py          # a table
    python scripts/gas_report.py --json   # one JSON object, e.g. {"anchor_per_license_1000": 1299.4, ...}
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from registry import RegistryClient, connect, dev_accounts
from registry.chain.records import license_type_id
from registry.document.identifiers import issuer_id_from_uscc

REGION = 110000
ISSUER_USCC = "11110000MB0195560T"  # a Beijing department (division 110000)
EIP7623_FLOOR_PER_DIGEST = 32 * 40  # 40 gas per non-zero calldata byte


def _digests(n: int) -> list[bytes]:
    return [os.urandom(32) for _ in range(n)]


def measure() -> dict[str, float]:
    w3 = connect(None)
    admin, authority, key = dev_accounts(w3)[:3]
    client, deployed = RegistryClient.deploy(w3, admin)
    issuer_id = issuer_id_from_uscc(ISSUER_USCC)
    client.add_region(admin, REGION, "北京市")
    client.add_region_authority(admin, REGION, authority.address)
    client.register_issuer(authority, issuer_id, REGION, "北京市市场监督管理局")
    now = int(w3.eth.get_block("latest")["timestamp"])
    client.add_key(authority, issuer_id, key, valid_from=now)
    client.permit_license_type(authority, issuer_id, license_type_id("BL"), valid_from=now)

    figures: dict[str, float] = {
        "deploy_trust_registry": deployed.trust_registry_gas,
        "deploy_license_registry": deployed.license_registry_gas,
    }
    for n in (1, 100, 1000):
        result = client.anchor(key, _digests(n))
        figures[f"anchor_total_{n}"] = result.tx.gas_used
        figures[f"anchor_per_license_{n}"] = round(result.gas_per_license, 1)

    # 100 licenses of 100 different batches, and 100 licenses of one batch
    spread = []
    for _ in range(100):
        batch = _digests(2)
        client.anchor(key, batch)
        spread.append(batch[0])
    one_batch = _digests(100)
    client.anchor(key, one_batch)
    single = _digests(1)
    client.anchor(key, single)

    figures["revoke_per_license_1"] = client.revoke(key, issuer_id, single, reason=1).gas_used
    figures["revoke_per_license_100_different_batches"] = client.revoke(key, issuer_id, spread, reason=1).gas_used / 100
    figures["revoke_per_license_100_same_batch"] = client.revoke(key, issuer_id, one_batch, reason=1).gas_used / 100

    others = _digests(200)
    client.anchor(key, others)
    suspended, superseded = others[:100], others[100:]
    figures["suspend_per_license_100"] = client.suspend(key, issuer_id, suspended, reason=2).gas_used / 100
    figures["reinstate_per_license_100"] = client.reinstate(key, issuer_id, suspended, reason=0).gas_used / 100
    replacements = _digests(100)
    figures["supersede_per_license_100"] = (
        client.supersede(key, issuer_id, superseded, replacements, reason=3).gas_used / 100
    )
    figures["calldata_floor_per_digest"] = EIP7623_FLOOR_PER_DIGEST
    return {k: round(float(v), 1) for k, v in figures.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = measure()
    if args.json:
        print(json.dumps(figures))
        return 0
    rows = [
        ("deploy TrustRegistry (total)", "deploy_trust_registry", None),
        ("deploy LicenseRegistry (total)", "deploy_license_registry", None),
        ("anchor a batch of 1", "anchor_per_license_1", None),
        ("anchor a batch of 100", "anchor_per_license_100", None),
        ("anchor a batch of 1,000", "anchor_per_license_1000", 1500),
        ("revoke 1 license", "revoke_per_license_1", None),
        ("revoke 100 licenses of 100 batches", "revoke_per_license_100_different_batches", 25000),
        ("revoke 100 licenses of one batch", "revoke_per_license_100_same_batch", None),
        ("suspend 100 licenses", "suspend_per_license_100", None),
        ("reinstate 100 licenses", "reinstate_per_license_100", None),
        ("supersede 100 licenses", "supersede_per_license_100", None),
    ]
    print(f"{'operation':38} {'gas per license':>16} {'target':>8}")
    for label, key, target in rows:
        mark = "" if target is None else (f"<= {target}" if figures[key] <= target else f"> {target} !")
        print(f"{label:38} {figures[key]:>16,.1f} {mark:>8}")
    print(f"(EIP-7623 calldata floor for a published 32-byte digest: {EIP7623_FLOOR_PER_DIGEST} gas)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
