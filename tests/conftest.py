"""Shared fixtures: chains (in-process EVM and a real ``hardhat node`` over JSON-RPC), deployed
registries and a small federation to test against."""

from __future__ import annotations

import json
import os
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest
import sqlalchemy
from eth_account.signers.local import LocalAccount
from web3 import Web3

from devkit.devchain import increase_time, latest_timestamp, revert, snapshot
from devkit.nodes import HardhatNode, start_hardhat_node
from devkit.samples import SampleFactory
from devkit.world import DEPARTMENT_USCC, deploy_department
from registry import RegistryClient, connect, dev_accounts, license_type_id
from registry.document.identifiers import issuer_id_from_uscc
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore, LicenseRow
from verifier.mirror import Mirror
from verifier.pipeline import Verifier
from verifier.state import ChainClientState

ROOT = Path(__file__).resolve().parent.parent

REGION_A = 110000  # Beijing
REGION_B = 310000  # Shanghai
USCC_A = "11110000MB0195560T"  # a Beijing department: division 110000 in characters 3 to 8
USCC_B = "11310000000012345Y"  # a Shanghai department: division 310000
ISSUER_A = issuer_id_from_uscc(USCC_A)
ISSUER_B = issuer_id_from_uscc(USCC_B)
BL = license_type_id("BL")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files marked ``slow`` first (in their order): spread over processes file by file
    (``scripts/test``: pytest-xdist, ``--dist loadfile``), the long files start at once instead of
    leaving one process working alone at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def post_json(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


@pytest.fixture(scope="session")
def hardhat_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HardhatNode]:
    node = start_hardhat_node(tmp_path_factory.mktemp("hardhat"))
    yield node
    node.stop()


@dataclass
class Chain:
    """A chain to test on, with its pre-funded accounts."""

    kind: str
    w3: Web3
    accounts: list[LocalAccount]

    def increase_time(self, seconds: int) -> int:
        return increase_time(self.w3, seconds)

    def now(self) -> int:
        return latest_timestamp(self.w3)


@pytest.fixture(params=["inprocess", "jsonrpc"])
def chain(request: pytest.FixtureRequest) -> Iterator[Chain]:
    """A clean chain: a fresh in-process EVM, or a snapshot of the session's hardhat node that is
    reverted after the test."""
    if request.param == "inprocess":
        w3 = connect(None)
        yield Chain("inprocess", w3, dev_accounts(w3))
        return
    node: HardhatNode = request.getfixturevalue("hardhat_node")
    w3 = connect(node.url)
    snap = snapshot(w3)
    try:
        yield Chain("jsonrpc", w3, dev_accounts(w3))
    finally:
        revert(w3, snap)


@dataclass
class World:
    """Two regions, an issuer in each with one key, the business-license type permitted to A."""

    chain: Chain
    client: RegistryClient
    admin: LocalAccount
    authority_a: LocalAccount
    authority_b: LocalAccount
    key_a: LocalAccount
    spare_key: LocalAccount
    key_b: LocalAccount
    stranger: LocalAccount
    start: int

    @property
    def w3(self) -> Web3:
        return self.chain.w3


@pytest.fixture
def deployed(chain: Chain) -> tuple[Chain, RegistryClient]:
    client, _ = RegistryClient.deploy(chain.w3, chain.accounts[0])
    return chain, client


@pytest.fixture
def world(deployed: tuple[Chain, RegistryClient]) -> World:
    chain, client = deployed
    admin, authority_a, authority_b, key_a, spare_key, key_b, stranger = chain.accounts[:7]
    client.add_region(admin, REGION_A, "北京市")
    client.add_region(admin, REGION_B, "上海市")
    client.add_region_authority(admin, REGION_A, authority_a.address)
    client.add_region_authority(admin, REGION_B, authority_b.address)
    client.register_issuer(
        authority_a, ISSUER_A, REGION_A, "北京市市场监督管理局", profile_uri="https://scjgj.beijing.gov.cn"
    )
    client.register_issuer(authority_b, ISSUER_B, REGION_B, "上海市卫生健康委员会")
    start = chain.now()
    client.add_key(authority_a, ISSUER_A, key_a, valid_from=start)
    client.add_key(authority_b, ISSUER_B, key_b, valid_from=start)
    client.permit_license_type(authority_a, ISSUER_A, BL, valid_from=start)
    return World(chain, client, admin, authority_a, authority_b, key_a, spare_key, key_b, stranger, start)


def digests(n: int) -> list[bytes]:
    return [os.urandom(32) for _ in range(n)]


@dataclass
class Issued:
    """An in-process chain with one department that issued and anchored licenses, and a verifier."""

    client: RegistryClient
    department: Department
    rows: list[LicenseRow]
    state: ChainClientState
    verifier: Verifier
    authority: LocalAccount

    def text(self, index: int = 0, disclose: list[str] | None = None, *, form: Literal["LC2", "LC1"] = "LC2") -> str:
        return self.department.presentation(self.rows[index].license_id, disclose).to_text(form=form)


def verifier_of(mirror: Mirror) -> Verifier:
    """A verifier reading ``mirror``'s index."""
    d = mirror.deployment
    return Verifier(mirror.index, chain_id=d.chain_id, license_registry=d.license_registry)


def deploy_with_issuer(
    w3: Web3, *, license_types: Sequence[str] = ("BL", "FB")
) -> tuple[RegistryClient, LocalAccount, LocalAccount]:
    """Deploy, then region 110000 with an authority and the department DEPARTMENT_USCC with one
    key: returns (client, authority, key)."""
    setup = deploy_department(w3, license_types=license_types, uscc=DEPARTMENT_USCC)
    return setup.client, setup.authority, setup.key


def make_issued(tmp_dir: Path, count: int = 12) -> Issued:
    setup = deploy_department(connect(None), uscc=DEPARTMENT_USCC)
    department = setup.department(IssuerStore.at(tmp_dir / "store.db"))
    samples = SampleFactory(5)
    rows = department.issue_many([samples.business_license() if i % 3 else samples.food_permit() for i in range(count)])
    department.anchor_pending()
    state = ChainClientState(setup.client)
    state.sync()
    d = setup.client.deployment
    verifier = Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry)
    return Issued(setup.client, department, rows, state, verifier, setup.authority)


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    return make_issued(tmp_path_factory.mktemp("issued"))


POSTGRES_URL = os.environ.get("ELICENSE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the PostgreSQL on 127.0.0.1:5432 (skips, saying so, when unreachable)."""
    try:
        engine = sqlalchemy.create_engine(POSTGRES_URL)
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text("select 1"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "skip"
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc}")
    schema = "t_" + uuid.uuid4().hex[:12]
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"create schema {schema}"))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f"drop schema {schema} cascade"))
    engine.dispose()
