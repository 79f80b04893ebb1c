"""One department on a fresh deployment: the set-up the tests, the service the crash tests kill and
the benchmarks all start from. Dev account 0 deploys and administers, dev account 1 is the authority
of region 110000 (Beijing), and the department's one signing key is dev account 2 unless given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from devkit.devchain import bootstrap_issuer
from registry import RegistryClient, dev_accounts
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore
from signer import LicenseSigner

__all__ = ["DEPARTMENT_NAME", "DEPARTMENT_USCC", "REGION", "DepartmentSetup", "deploy_department"]

DEPARTMENT_USCC = "11110000MB0195560T"  # division 110000 in characters 3 to 8
DEPARTMENT_NAME = "北京市市场监督管理局"
REGION = 110000


@dataclass
class DepartmentSetup:
    """The deployment, its administrator, the region's authority and the department's key."""

    client: RegistryClient
    admin: LocalAccount
    authority: LocalAccount
    key: LocalAccount
    uscc: str

    def signer(self) -> LicenseSigner:
        d = self.client.deployment
        return LicenseSigner(self.key, chain_id=d.chain_id, license_registry=d.license_registry)

    def department(self, store: IssuerStore, *, client: RegistryClient | None = None) -> Department:
        """The department issuing into ``store`` and anchoring through ``client`` (default: the
        set-up's own)."""
        return Department(
            issuer_uscc=self.uscc, store=store, signer=self.signer(), client=client or self.client, account=self.key
        )


def deploy_department(
    w3: Web3,
    *,
    license_types: Sequence[str] = ("BL", "FB"),
    key: LocalAccount | None = None,
    fund_key: int = 0,
    uscc: str = DEPARTMENT_USCC,
    name: str = DEPARTMENT_NAME,
) -> DepartmentSetup:
    """Deploy the registries, then region 110000 with its authority and the department ``uscc``
    with one signing key valid from now, permitted ``license_types``. ``fund_key`` wei go to the key
    first (a key that is no pre-funded dev account needs gas to anchor)."""
    admin, authority, dev_key = dev_accounts(w3)[:3]
    key = key or dev_key
    client, _ = RegistryClient.deploy(w3, admin)
    if fund_key:
        client.fund(admin, key.address, fund_key)
    bootstrap_issuer(
        client,
        admin=admin,
        authority=authority,
        key=key,
        uscc=uscc,
        name=name,
        region=REGION,
        license_types=license_types,
    )
    return DepartmentSetup(client, admin, authority, key, uscc)
