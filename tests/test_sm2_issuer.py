"""The issuer side of the SM2 suite: how a department is built for its suite (and the mistakes it
refuses), the suite recorded with every license, and stores made before the suite existed."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy
from eth_account import Account

from devkit.samples import SampleFactory
from registry import SignatureSuite
from registry.errors import ConfigurationError
from registry.issuer.department import Department
from registry.issuer.migrations import current, upgrade
from registry.issuer.store import IssuerStore
from signer import LicenseSigner, Sm2LicenseSigner, Sm2SigningKey, domain_separator, verify_sm2_license

USCC = "11110000MB0195560T"
CHAIN_ID = 1337
REGISTRY = "0x" + "ab" * 20


def _sm2_signer(key: Sm2SigningKey) -> Sm2LicenseSigner:
    return Sm2LicenseSigner(key, chain_id=CHAIN_ID, license_registry=REGISTRY)


def test_an_sm2_department_files_its_licenses_under_its_anchoring_account(tmp_path: Path):
    key, account = Sm2SigningKey.generate(), Account.create()
    store = IssuerStore.at(tmp_path / "store.db")
    department = Department(
        issuer_uscc=USCC, store=store, signer=_sm2_signer(key), suite=SignatureSuite.SM2, account=account
    )
    row = department.issue(SampleFactory(1).business_license())
    assert row.suite is SignatureSuite.SM2
    assert row.signer == account.address
    domain = domain_separator(CHAIN_ID, REGISTRY)
    assert verify_sm2_license(domain, row.digest, row.signature, key.public_key, key.distinguishing_id)
    assert department.presentation(row.license_id).suite is SignatureSuite.SM2
    # issuing offline: the anchoring account named by its address
    offline = Department(issuer_uscc=USCC, store=store, signer=_sm2_signer(key), suite="sm2", address=account.address)
    assert offline.issue(SampleFactory(2).business_license()).signer == account.address


def test_department_construction_mistakes_are_refused(tmp_path: Path):
    store = IssuerStore.at(tmp_path / "store.db")
    key, account, other = Sm2SigningKey.generate(), Account.create(), Account.create()
    secp = LicenseSigner(account, chain_id=CHAIN_ID, license_registry=REGISTRY)
    with pytest.raises(ConfigurationError, match="needs the anchoring account"):
        Department(issuer_uscc=USCC, store=store, signer=_sm2_signer(key), suite=SignatureSuite.SM2)
    with pytest.raises(ConfigurationError, match="signs with its SM2 key"):
        Department(issuer_uscc=USCC, store=store, signer=secp, suite=SignatureSuite.SM2, account=account)
    with pytest.raises(ConfigurationError, match="secp256k1 signer is the account key itself"):
        Department(issuer_uscc=USCC, store=store, signer=_sm2_signer(key), account=account)
    with pytest.raises(ConfigurationError, match="must be the signing key"):
        Department(issuer_uscc=USCC, store=store, signer=secp, account=other)
    with pytest.raises(ConfigurationError, match="different anchoring accounts"):
        Department(
            issuer_uscc=USCC,
            store=store,
            signer=_sm2_signer(key),
            suite=SignatureSuite.SM2,
            account=account,
            address=other.address,
        )
    with pytest.raises(ValueError, match="unknown signature suite 'ecdsa'; expected one of secp256k1, sm2"):
        Department(issuer_uscc=USCC, store=store, signer=secp, suite="ecdsa")  # type: ignore[arg-type]


def test_a_store_made_before_the_suite_reads_its_licenses_as_secp256k1(tmp_path: Path):
    """A database at migration 0005 with a license in it: upgrading adds the suite column, and the
    license reads back as secp256k1, its presentation unchanged (eleven elements)."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sqlalchemy.create_engine(url)
    upgrade(engine, "0005")
    account = Account.create()
    old_signer = LicenseSigner(account, chain_id=CHAIN_ID, license_registry=REGISTRY)
    with engine.begin() as conn:
        columns = {c["name"] for c in sqlalchemy.inspect(conn).get_columns("licenses")}
    assert "suite" not in columns
    new = IssuerStore(url)  # upgrades to the head
    assert current(new.engine) == "0007"
    row = Department(issuer_uscc=USCC, store=new, signer=old_signer).issue(SampleFactory(3).business_license())
    # write it as the old schema would have: without the suite column
    with new.engine.begin() as conn:
        data = row.to_db()
        conn.execute(sqlalchemy.text("DELETE FROM licenses"))
        data.pop("suite")
        table = sqlalchemy.table("licenses", *(sqlalchemy.column(k) for k in data))
        conn.execute(sqlalchemy.insert(table).values(**data))
    again = new.get(row.license_id)
    assert again is not None
    assert again.suite is SignatureSuite.SECP256K1
    assert Department.present_row(again).to_cbor()[0] == 0x8B  # an array of eleven
    new.close()
    engine.dispose()


def test_the_suite_column_downgrades_and_upgrades_again(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = IssuerStore(url)
    from alembic import command  # noqa: PLC0415

    from registry.issuer.migrations import config  # noqa: PLC0415

    command.downgrade(config(store.engine), "0005")
    with store.engine.connect() as conn:
        assert "suite" not in {c["name"] for c in sqlalchemy.inspect(conn).get_columns("licenses")}
    upgrade(store.engine)
    assert current(store.engine) == "0007"
    store.close()
