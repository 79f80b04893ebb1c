"""Shared set-up of the benchmarks: an in-process chain with one registered department."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from eth_account.signers.local import LocalAccount

from devkit.devchain import bootstrap_issuer
from registry import RegistryClient, connect, dev_accounts
from registry.document.licensetypes import CATALOG
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore
from signer import LicenseSigner

ISSUER_USCC = "11110000MB0195560T"


def wait_healthy(base: str, seconds: float = 60) -> None:
    """Wait until a started ``elicense serve`` answers ``/healthz``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            httpx.get(base + "/healthz", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"the service at {base} did not start within {seconds} s")


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
        key=key,
        uscc=ISSUER_USCC,
        name="北京市市场监督管理局",
        license_types=list(CATALOG),
    )
    d = client.deployment
    signer = LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry)
    department = Department(issuer_uscc=ISSUER_USCC, store=store, signer=signer, client=client, account=key)
    return Bench(client, key, department)
