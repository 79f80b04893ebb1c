"""Shared set-up of the benchmarks: an in-process chain with one registered department."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from registry import RegistryClient, connect, dev_accounts
from registry.devchain import latest_timestamp
from registry.identifiers import issuer_id_from_uscc
from registry.issuance import Department
from registry.licensetypes import CATALOG
from registry.store import IssuerStore
from signer.eip712 import LicenseSigner

ISSUER_USCC = "11110000MB0195560T"


@dataclass
class Bench:
    client: RegistryClient
    key: LocalAccount
    department: Department


def setup(store: IssuerStore) -> Bench:
    w3 = connect(None)
    admin, authority, key = dev_accounts(w3)[:3]
    client, _ = RegistryClient.deploy(w3, admin)
    client.add_region(admin, 110000, "北京市")
    client.add_region_authority(admin, 110000, authority.address)
    issuer_id = issuer_id_from_uscc(ISSUER_USCC)
    client.register_issuer(authority, issuer_id, 110000, "北京市市场监督管理局")
    now = latest_timestamp(w3)
    client.add_key(authority, issuer_id, key.address, valid_from=now)
    for ltype in CATALOG.values():
        client.permit_license_type(authority, issuer_id, ltype.type_id, valid_from=now)
    d = client.deployment
    signer = LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry)
    department = Department(issuer_uscc=ISSUER_USCC, store=store, signer=signer, client=client, account=key)
    return Bench(client, key, department)
