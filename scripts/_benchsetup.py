"""Shared set-up of the benchmarks: an in-process chain with one registered department."""

from __future__ import annotations

from dataclasses import dataclass

from eth_account.signers.local import LocalAccount

from registry import RegistryClient, connect, dev_accounts
from registry.devchain import bootstrap_issuer
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
    bootstrap_issuer(
        client,
        admin=admin,
        authority=authority,
        key=key.address,
        uscc=ISSUER_USCC,
        name="北京市市场监督管理局",
        license_types=list(CATALOG),
    )
    d = client.deployment
    signer = LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry)
    department = Department(issuer_uscc=ISSUER_USCC, store=store, signer=signer, client=client, account=key)
    return Bench(client, key, department)
