"""SM2 departments on a real in-process chain, for the verifier's SM2 tests: a region, issuers whose
anchoring accounts are bound to SM2 keys with the chain client, departments signing with
``signer.Sm2LicenseSigner``, and a verifier reading a :class:`~verifier.state.ChainClientState`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from eth_account.signers.local import LocalAccount

from devkit.samples import SampleFactory
from devkit.world import DEPARTMENT_USCC, DepartmentSetup, deploy_department
from registry import RegistryClient, SignatureSuite, connect, dev_accounts
from registry.chain.sm2 import Sm2KeyRegistration
from registry.document.identifiers import issuer_id_from_uscc
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore, LicenseRow
from signer import LicenseSigner, Sm2LicenseSigner, Sm2SigningKey, sign_sm2_key_acceptance
from verifier.pipeline import Verifier
from verifier.state import ChainClientState

OTHER_USCC = "91110000L30P8774PN"  # a second Beijing department


def registration(
    client: RegistryClient,
    issuer_id: bytes,
    account: str,
    key: Sm2SigningKey,
    *,
    certificate: bytes = b"",
    proof: bytes | None = None,
) -> Sm2KeyRegistration:
    """``key``'s registration for ``account``, with its real proof of possession unless ``proof``."""
    d = client.deployment
    real = sign_sm2_key_acceptance(
        key, issuer_id=issuer_id, account=account, chain_id=d.chain_id, trust_registry=d.trust_registry
    )
    return Sm2KeyRegistration(
        public_key=key.public_key,
        proof=real if proof is None else proof,
        distinguishing_id=key.distinguishing_id,
        certificate=certificate,
    )


@dataclass
class Sm2World:
    setup: DepartmentSetup
    tmp: Path
    accounts: list[LocalAccount]
    samples: SampleFactory = field(default_factory=lambda: SampleFactory(3))
    stores: list[IssuerStore] = field(default_factory=list)

    @property
    def client(self) -> RegistryClient:
        return self.setup.client

    @property
    def issuer_id(self) -> bytes:
        return issuer_id_from_uscc(self.setup.uscc)

    @staticmethod
    def issuer_id_of(uscc: str) -> bytes:
        return issuer_id_from_uscc(uscc)

    def now(self) -> int:
        return int(self.client.w3.eth.get_block("latest")["timestamp"])

    def bind(
        self,
        account: LocalAccount,
        key: Sm2SigningKey,
        *,
        issuer_id: bytes | None = None,
        certificate: bytes = b"",
        proof: bytes | None = None,
    ) -> None:
        """Add ``account`` to the issuer (the region authority sends it) bound to ``key``."""
        issuer = issuer_id or self.issuer_id
        reg = registration(self.client, issuer, account.address, key, certificate=certificate, proof=proof)
        self.client.add_sm2_key(self.setup.authority, issuer, account, reg, valid_from=self.now())

    def store(self) -> IssuerStore:
        store = IssuerStore.at(self.tmp / f"store{len(self.stores)}.db")
        self.stores.append(store)
        return store

    def sm2_department(self, account: LocalAccount, key: Sm2SigningKey, *, uscc: str | None = None) -> Department:
        d = self.client.deployment
        return Department(
            issuer_uscc=uscc or self.setup.uscc,
            store=self.store(),
            signer=Sm2LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry),
            suite=SignatureSuite.SM2,
            client=self.client,
            account=account,
        )

    def secp_department(self, account: LocalAccount, *, uscc: str | None = None) -> Department:
        d = self.client.deployment
        return Department(
            issuer_uscc=uscc or self.setup.uscc,
            store=self.store(),
            signer=LicenseSigner(account, chain_id=d.chain_id, license_registry=d.license_registry),
            client=self.client,
            account=account,
        )

    def issue(self, department: Department, *, anchor: bool = True) -> LicenseRow:
        row = department.issue(self.samples.business_license())
        if anchor:
            department.anchor_pending()
        return row

    def verifier(self) -> tuple[Verifier, ChainClientState]:
        state = ChainClientState(self.client)
        state.sync()
        d = self.client.deployment
        return Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry), state


def make_world(tmp: Path) -> Sm2World:
    """The department DEPARTMENT_USCC (its plain key dev account 2) and OTHER_USCC (a plain key,
    dev account 9), both in Beijing; dev accounts 3 to 8 are free for SM2 bindings."""
    w3 = connect(None)
    setup = deploy_department(w3, uscc=DEPARTMENT_USCC)
    accounts = dev_accounts(w3)
    other = issuer_id_from_uscc(OTHER_USCC)
    setup.client.register_issuer(setup.authority, other, 110000, "北京市海淀区市场监督管理局")
    now = int(w3.eth.get_block("latest")["timestamp"])
    setup.client.add_key(setup.authority, other, accounts[9], valid_from=now)
    from registry import license_type_id  # noqa: PLC0415

    setup.client.permit_license_type(setup.authority, other, license_type_id("BL"), valid_from=now)
    return Sm2World(setup, tmp, accounts)


__all__ = ["OTHER_USCC", "Sm2World", "make_world", "registration"]
