#!/usr/bin/env python3
"""Gas used per license by the registry contracts, measured on the in-process EVM (Prague rules,
including the EIP-7623 calldata floor), or on a node with --rpc-url; and the gas of joint issuance
(docs/joint.md): registering a co-signing key with its proof of possession checked on chain, setting
a co-approval policy, and a joint anchor of the seven licenses of five 上海市 departments, each beside
its floor (the EIP-2537 precompiles' own gas for its hash to G2 and pairing check) as a ratio; and
the gas of binding a department's account to an SM2 key (addSm2Key) beside its floor: addKey measured
in the same run plus what the binding cannot avoid (one fresh storage slot, the Sm2KeyBound log, the
registration's calldata).

    python scripts/gas_report.py          # a table
    python scripts/gas_report.py --json   # one JSON object, e.g. {"anchor_per_license_1000": 1299.4, ...}
    python scripts/gas_report.py --rpc-url http://127.0.0.1:8545   # the same on a node (dev accounts)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path

from eth_account.signers.local import LocalAccount

from devkit.joint import add_departments, cosigned_application, credit_code
from registry import RegistryClient, connect, dev_accounts
from registry.chain.records import license_type_id
from registry.chain.sm2 import SM2_A, SM2_B, SM2_N, SM2_P, Sm2KeyRegistration
from registry.document.identifiers import issuer_id_from_uscc
from registry.issuer.store import IssuerStore
from signer import CoSigningKey

REGION = 110000
ISSUER_USCC = "11110000MB0195560T"  # a Beijing department (division 110000)
EIP7623_FLOOR_PER_DIGEST = 32 * 40  # 40 gas per non-zero calldata byte

# EIP-2537: the pairing check costs 37,700 + 32,600 per pair; hashing a message to G2 (two
# MAP_FP2_TO_G2 at 23,800, one G2ADD, and the SHA-256 and MODEXP calls of hash_to_field) about 60,600.
PAIRING_BASE, PAIRING_PER_PAIR = 37_700, 32_600
HASH_TO_G2 = 60_600
#: A BLS check (a proof of possession, an aggregate over one message): one hash to G2, two pairs.
BLS_CHECK_FLOOR = HASH_TO_G2 + PAIRING_BASE + 2 * PAIRING_PER_PAIR


def _digests(n: int) -> list[bytes]:
    return [os.urandom(32) for _ in range(n)]


def measure(rpc_url: str | None = None) -> dict[str, float]:
    w3 = connect(rpc_url)
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
    figures.update(measure_joint(client, admin, dev_accounts(w3)[3]))
    figures.update(measure_sm2(client, authority, issuer_id, dev_accounts(w3)[4:7]))
    return {k: round(float(v), 2 if k.endswith("_over_floor") else 1) for k, v in figures.items()}


def measure_joint(client: RegistryClient, admin: LocalAccount, authority: LocalAccount) -> dict[str, float]:
    """Joint issuance on ``client``'s deployment: five 上海市 departments (``authority`` that
    region's), one co-signing key registered alone, a policy set, and one joint anchor of seven
    licenses; the BLS floors beside them."""
    client.add_region(admin, 310000, "上海市")
    client.add_region_authority(admin, 310000, authority.address)
    with tempfile.TemporaryDirectory() as tmp:
        store = IssuerStore.at(Path(tmp) / "store.db")
        world = add_departments(client, store, admin=admin, authorities={310000: authority})
        application = cosigned_application(
            world, credit_code("91310115MA1K4D7R2"), "上海临港星辰国际贸易有限公司", dt.date.today()
        )
        anchored = world.desk.anchor(application.application_id, world.departments["sh-samr"].account)  # type: ignore[arg-type]
        if anchored.tx_hash is None:
            raise SystemExit("the joint anchor was not sent")
        joint_gas = client.w3.eth.get_transaction_receipt(anchored.tx_hash)["gasUsed"]
        store.engine.dispose()
    tax = world.departments["sh-tax"]
    key = CoSigningKey.generate()
    now = int(client.w3.eth.get_block("latest")["timestamp"])
    registration = client.add_co_signing_key(
        authority, tax.issuer_id, key.public_key, key.proof_of_possession(), valid_from=now
    )
    departments = sorted(d.issuer_id for d in world.departments.values())[:3]
    policy = client.set_co_approval_policy(authority, 310000, license_type_id("CP"), departments)
    return {
        "joint_anchor_7_members_5_departments": joint_gas,
        "joint_anchor_floor": BLS_CHECK_FLOOR,
        "joint_anchor_over_floor": round(joint_gas / BLS_CHECK_FLOOR, 2),
        "add_co_signing_key": registration.gas_used,
        "add_co_signing_key_floor": BLS_CHECK_FLOOR,
        "add_co_signing_key_over_floor": round(registration.gas_used / BLS_CHECK_FLOOR, 2),
        "co_approval_policy_3_departments": policy.gas_used,
    }


#: A fresh storage slot (20,000, cold: 2,100) and a LOG3 (375 + 3 x 375, 8 per byte of data).
SSTORE_FRESH = 22_100
LOG3_BASE, LOG_PER_BYTE = 1_500, 8


def _calldata_gas(data: bytes) -> int:
    return sum(16 if b else 4 for b in data)


def _sm2_registration(certificate: bytes = b"") -> Sm2KeyRegistration:
    """A registration of the shape the contract takes: a random point of the SM2 curve (p = 3 mod 4,
    so a square root is a power) and a random r || s. The contract never checks the proof, so its
    gas is that of any proof of this shape."""
    while True:
        x = int.from_bytes(os.urandom(32), "big") % SM2_P
        rhs = (x * x * x + SM2_A * x + SM2_B) % SM2_P
        y = pow(rhs, (SM2_P + 1) // 4, SM2_P)
        if y * y % SM2_P == rhs:
            break
    r, s = (1 + int.from_bytes(os.urandom(32), "big") % (SM2_N - 1) for _ in range(2))
    key = x.to_bytes(32, "big") + y.to_bytes(32, "big")
    return Sm2KeyRegistration(
        public_key=key, proof=r.to_bytes(32, "big") + s.to_bytes(32, "big"), certificate=certificate
    )


def measure_sm2(
    client: RegistryClient, authority: LocalAccount, issuer_id: bytes, accounts: list[LocalAccount]
) -> dict[str, float]:
    """addKey, and addSm2Key without and with a 1,024-byte certificate, for fresh accounts of the
    issuer; each addSm2Key beside its floor (addKey's gas + a fresh slot + the Sm2KeyBound log + the
    registration's extra calldata)."""
    w3 = client.w3
    now = int(w3.eth.get_block("latest")["timestamp"])
    plain = client.add_key(authority, issuer_id, accounts[0], valid_from=now)
    plain_data = bytes(w3.eth.get_transaction(plain.tx_hash)["input"])
    figures: dict[str, float] = {"add_key": plain.gas_used}
    for label, account, certificate in (("", accounts[1], b""), ("_certificate_1024", accounts[2], os.urandom(1024))):
        registration = _sm2_registration(certificate)
        tx = client.add_sm2_key(authority, issuer_id, account, registration, valid_from=now)
        data = bytes(w3.eth.get_transaction(tx.tx_hash)["input"])
        # the event's data: four offsets, then each bytes field as its length and its padded content
        log_bytes = 4 * 32 + sum(32 + -(-len(part) // 32) * 32 for part in registration.as_abi())
        floor = plain.gas_used + SSTORE_FRESH + LOG3_BASE + LOG_PER_BYTE * log_bytes
        floor += _calldata_gas(data) - _calldata_gas(plain_data)
        figures[f"add_sm2_key{label}"] = tx.gas_used
        figures[f"add_sm2_key{label}_floor"] = floor
        figures[f"add_sm2_key{label}_over_floor"] = round(tx.gas_used / floor, 2)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--rpc-url", help="measure on this node (its first four dev accounts) instead of in process")
    args = parser.parse_args()
    figures = measure(args.rpc_url)
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
    print()
    print(f"{'joint issuance':38} {'gas':>16} {'floor':>8} {'ratio':>6}")
    joint = [
        ("anchorJoint, 7 members, 5 departments", "joint_anchor_7_members_5_departments", "joint_anchor"),
        ("addCoSigningKey (proof checked)", "add_co_signing_key", "add_co_signing_key"),
        ("setCoApprovalPolicy, 3 departments", "co_approval_policy_3_departments", None),
    ]
    for label, key, floor in joint:
        if floor is None:
            print(f"{label:38} {figures[key]:>16,.0f} {'-':>8} {'-':>6}")
        else:
            print(
                f"{label:38} {figures[key]:>16,.0f} {figures[floor + '_floor']:>8,.0f} "
                f"{figures[floor + '_over_floor']:>6.2f}"
            )
    print(
        f"(floor: hash to G2 about {HASH_TO_G2:,} + pairing {PAIRING_BASE:,} + 2 x {PAIRING_PER_PAIR:,} "
        f"= {BLS_CHECK_FLOOR:,} gas, the EIP-2537 precompiles' own)"
    )
    print()
    print(f"{'SM2 keys':38} {'gas':>16} {'floor':>8} {'ratio':>6}")
    print(f"{'addKey (for comparison)':38} {figures['add_key']:>16,.0f} {'-':>8} {'-':>6}")
    for label, key in (
        ("addSm2Key", "add_sm2_key"),
        ("addSm2Key, 1,024-byte certificate", "add_sm2_key_certificate_1024"),
    ):
        print(
            f"{label:38} {figures[key]:>16,.0f} {figures[key + '_floor']:>8,.0f} {figures[key + '_over_floor']:>6.2f}"
        )
    print(
        f"(floor: addKey + a fresh storage slot {SSTORE_FRESH:,} + the Sm2KeyBound log {LOG3_BASE:,} + "
        f"{LOG_PER_BYTE} per byte + the registration's extra calldata)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
