"""A service process over a lasting issuer store (unlike ``elicense serve``'s demo mode, which
starts from a fresh store): a fresh in-process chain with one department, the store at
HOME/store.db kept across runs, the real app served by uvicorn. The department's API key is
created on the first run and written to HOME/api-key. For tests that kill and restart the service.

    python tests/_serve_store.py HOME PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

from api.main import create_app
from api.services import Services
from api.settings import Settings
from devkit.devchain import bootstrap_issuer
from registry import RegistryClient, connect, dev_accounts
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore
from signer import LicenseSigner
from verifier.mirror import Mirror

USCC = "11110000MB0195560T"


def main(home: Path, port: int) -> None:
    w3 = connect(None)
    admin, authority, key = dev_accounts(w3)[:3]
    client, _ = RegistryClient.deploy(w3, admin)
    bootstrap_issuer(
        client,
        admin=admin,
        authority=authority,
        key=key,
        uscc=USCC,
        name="北京市市场监督管理局",
        license_types=("BL", "FB"),
    )
    d = client.deployment
    store = IssuerStore.at(home / "store.db")
    signer = LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry)
    department = Department(issuer_uscc=USCC, store=store, signer=signer, client=client, account=key)
    mirror = Mirror.at(home / f"mirror-{port}-{len(list(home.glob('mirror-*')))}.db", d, confirmations=1)
    services = Services(
        Settings(home=home), deployment=d, client=client, mirror=mirror, store=store, departments={USCC: department}
    )
    key_file = home / "api-key"
    if not key_file.exists():
        key_file.write_text(services.api_keys.create(USCC, "crash test")[1])
    uvicorn.run(create_app(services), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
