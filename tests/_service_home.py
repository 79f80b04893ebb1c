"""An ``elicense serve`` home on a hardhat node, for the tests that run the real service process: a
department with three business licenses issued and anchored, the service's store holding API keys,
its webhook key sealed in HOME/keys/webhooks.json, and the environment that serves it with short
sync and delivery intervals (webhooks to loopback allowed: the tests' receivers listen there)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from api.security import ApiKeys
from api.subscription_secrets import WebhookKey
from devkit.nodes import HardhatNode
from devkit.samples import SampleFactory
from devkit.serving import ServedProcess, serve_command
from devkit.world import DepartmentSetup, deploy_department
from registry import connect
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore, LicenseRow

ELICENSE = Path(sys.executable).parent / "elicense"
WEBHOOK_KEY_PASSWORD = "a webhook key password"


@dataclass
class ServiceHome:
    setup: DepartmentSetup
    department: Department
    rows: list[LicenseRow]  # issued and anchored
    api_keys: dict[str, str]  # holder's credit code -> API key
    env: dict[str, str]
    log_dir: Path

    def serve(self) -> ServedProcess:
        """``elicense serve`` on a free port over this home (again after a kill: the same store)."""
        command = [str(ELICENSE), "serve", "--port"]
        return serve_command(lambda port: [*command, str(port)], log_dir=self.log_dir, env=self.env)


def service_home(
    node: HardhatNode, tmp: Path, *, seed: int, api_keys: Mapping[str, str], env: Mapping[str, str] = {}
) -> ServiceHome:
    """A fresh deployment on ``node`` and TMP/home for it; ``api_keys`` maps each holder's credit code
    to its key's label, ``env`` adds to (or overrides) the service's environment."""
    setup = deploy_department(connect(node.url))
    home = tmp / "home"
    home.mkdir(mode=0o700)
    setup.client.deployment.save(home / "deployment.json")
    department = setup.department(IssuerStore.at(tmp / "issuer.db"))
    rows = department.issue_many([SampleFactory(seed).business_license() for _ in range(3)])
    department.anchor_pending()
    store = IssuerStore.at(home / "store.db")
    keys = {holder: ApiKeys(store.engine).create(holder, label)[1] for holder, label in api_keys.items()}
    store.close()
    WebhookKey.generate().save(home / "keys" / "webhooks.json", WEBHOOK_KEY_PASSWORD, scrypt_n=2**14)
    full_env = service_env(home, node, webhook_key_password=WEBHOOK_KEY_PASSWORD, extra=env)
    return ServiceHome(setup, department, rows, keys, full_env, tmp)


def service_env(
    home: Path, node: HardhatNode, *, webhook_key_password: str, extra: Mapping[str, str] = {}
) -> dict[str, str]:
    """The environment of ``elicense serve`` over ``home`` (its webhook key HOME/keys/webhooks.json
    opened with ``webhook_key_password``) following ``node``, with ``extra`` added or overriding."""
    return {
        **os.environ,
        "ELICENSE_HOME": str(home),
        "ELICENSE_RPC_URL": node.url,
        "ELICENSE_CONFIRMATIONS": "1",
        "ELICENSE_SYNC_INTERVAL": "0.2",
        "ELICENSE_WEBHOOK_INTERVAL": "0.2",
        "ELICENSE_WEBHOOK_ALLOW_PRIVATE": "1",  # the tests' receivers listen on loopback
        "ELICENSE_WEBHOOK_KEY": "webhooks",  # the secrets sealed at rest, opened again after each restart
        "ELICENSE_WEBHOOK_KEY_PASSWORD": webhook_key_password,
        **extra,
    }
