"""Instant approval (秒批) checks the deciding department's own standing on chain before signing:
registered, active, its key valid and the license type permitted now, at the chain's head and at
the block the verifier's state was at. On the in-process chain, each case with a department of its
own whose standing the region authority set up on chain: permitted -> accepted; permission not yet
valid, expired, never granted, department deactivated, key retired, permission granted after the
state's block -> refused with that reason, nothing signed, the decision recorded with the blocks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from devkit.devchain import bootstrap_issuer, increase_time, latest_timestamp
from devkit.samples import SampleFactory, make_uscc
from devkit.world import deploy_department
from registry import RegistryClient, connect
from registry.chain.records import OPEN_END
from registry.document.catalog import get_type
from registry.errors import ConfigurationError
from registry.issuer.applications import ApplicationBook, apply
from registry.issuer.decisions import Decision
from registry.issuer.department import Department, IssueRequest
from registry.issuer.permission import Standing, check_standing
from registry.issuer.store import IssuerStore, licenses
from signer import LicenseSigner
from verifier.pipeline import CHINA_TZ, Verifier
from verifier.state import ChainClientState

RNG = random.Random(2026)
DAY = 86_400


@dataclass
class Chain:
    client: RegistryClient
    admin: LocalAccount
    authority: LocalAccount
    store: IssuerStore

    def department(self, *, types: tuple[str, ...] = (), key: LocalAccount | None = None) -> Department:
        """A new department of 北京市, registered with a key valid from now and ``types`` permitted."""
        key = key or Account.from_key(RNG.randbytes(32))
        uscc = make_uscc(RNG, region=110000, authority="1", category="1")
        bootstrap_issuer(
            self.client, admin=self.admin, authority=self.authority, key=key, uscc=uscc,
            name=f"部门 {uscc[-6:]}", license_types=types,
        )  # fmt: skip
        d = self.client.deployment
        signer = LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry)
        return Department(issuer_uscc=uscc, store=self.store, signer=signer, client=self.client, account=key)

    def permit(self, department: Department, code: str, valid_from: int, valid_until: int = OPEN_END) -> None:
        self.client.permit_license_type(
            self.authority, department.issuer_id, get_type(code).type_id, valid_from=valid_from, valid_until=valid_until
        )

    def now(self) -> int:
        return latest_timestamp(self.client.w3)

    def verifier(self) -> Verifier:
        """A verifier whose state is the chain as it is now (its block: the head)."""
        state = ChainClientState(self.client)
        state.sync()
        d = self.client.deployment
        return Verifier(state, chain_id=d.chain_id, license_registry=d.license_registry)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Chain:
    w3 = connect(None)
    setup = deploy_department(w3, license_types=("BL",))
    store = IssuerStore.at(tmp_path_factory.mktemp("permission") / "store.db")
    return Chain(setup.client, setup.admin, setup.authority, store)


def _bl() -> IssueRequest:
    today = dt.datetime.now(CHINA_TZ).date()
    sample = SampleFactory(RNG.randrange(10**6)).business_license(valid_from=today)
    return dataclasses.replace(sample, fields={**sample.fields, "uscc": make_uscc(RNG, region=110108)})


def _licenses_of(chain: Chain, department: Department) -> int:
    with chain.store.engine.connect() as conn:
        return len(conn.execute(licenses.select().where(licenses.c.issuer_uscc == department.issuer_uscc)).all())


def _refused(chain: Chain, department: Department, code: str, verifier: Verifier | None = None) -> Decision:
    """Apply for a business license; check it is refused on ``permitted`` alone with ``code``, nothing
    signed, the decision recorded with both blocks; return it."""
    decision = apply(department, verifier or chain.verifier(), _bl(), [])
    assert not decision.accepted
    assert decision.license_id is None
    assert decision.digest is None
    (rule,) = decision.failed
    assert (rule.prerequisite, rule.rule, rule.passed) == ("-", "permitted", False)
    assert rule.evidence is not None
    assert rule.evidence["code"] == code
    assert rule.zh
    assert rule.en
    assert _licenses_of(chain, department) == 0
    _check_recorded(chain, department, decision)
    return decision


def _check_recorded(chain: Chain, department: Department, decision: Decision) -> None:
    (recorded,) = [
        r
        for r in ApplicationBook(chain.store).list_decisions(issuer_uscc=department.issuer_uscc)
        if r["decision_id"] == decision.decision_id
    ]
    assert recorded["outcome"] == decision.outcome
    (permitted,) = [r for r in recorded["rules"] if r["rule"] == "permitted"]
    evidence = permitted["evidence"]
    w3 = chain.client.w3
    for view in ("head", "confirmed"):
        number = evidence[view]["block_number"]
        assert evidence[view]["block_hash"] == "0x" + bytes(w3.eth.get_block(number)["hash"]).hex()
    assert evidence["confirmed"]["block_number"] == decision.block_number
    assert evidence["head"]["block_number"] >= evidence["confirmed"]["block_number"]
    assert evidence["at"] >= int(decision.decided_at)


def test_a_permitted_department_signs_at_once_with_the_evidence_recorded(chain: Chain):
    department = chain.department(types=("BL",))
    decision = apply(department, chain.verifier(), _bl(), [])
    assert decision.accepted, [r.en for r in decision.failed]
    (rule,) = decision.rules
    assert (rule.rule, rule.passed) == ("permitted", True)
    assert "营业执照" in rule.zh
    assert "business license" in rule.en
    assert rule.evidence is not None
    assert rule.evidence["code"] == "permitted"
    assert decision.license_id is not None
    assert _licenses_of(chain, department) == 1
    _check_recorded(chain, department, decision)


def test_permission_not_yet_valid_is_refused(chain: Chain):
    department = chain.department()
    chain.permit(department, "BL", valid_from=chain.now() + 30 * DAY)
    decision = _refused(chain, department, "not_yet_permitted")
    assert "尚未生效" in decision.failed[0].zh
    assert "not in force yet" in decision.failed[0].en


def test_permission_expired_is_refused(chain: Chain):
    department = chain.department()
    now = chain.now()
    chain.permit(department, "BL", valid_from=now - 30 * DAY, valid_until=now - DAY)
    decision = _refused(chain, department, "permission_expired")
    assert "终止" in decision.failed[0].zh
    assert "ended" in decision.failed[0].en


def test_permission_never_granted_is_refused(chain: Chain):
    department = chain.department(types=("FB",))  # permitted another type, not BL
    decision = _refused(chain, department, "never_permitted")
    assert "未获准签发营业执照" in decision.failed[0].zh
    assert "never been permitted to issue business licenses" in decision.failed[0].en


def test_a_deactivated_department_is_refused(chain: Chain):
    department = chain.department(types=("BL",))
    chain.client.set_issuer_active(chain.authority, department.issuer_id, False)
    decision = _refused(chain, department, "inactive")
    assert "停用" in decision.failed[0].zh


def test_a_department_deactivated_after_the_state_was_read_is_refused_from_the_head(chain: Chain):
    """A negative fact counts from the head: the verifier's state still shows the department active."""
    department = chain.department(types=("BL",))
    verifier = chain.verifier()
    chain.client.set_issuer_active(chain.authority, department.issuer_id, False)
    decision = _refused(chain, department, "inactive", verifier)
    assert decision.failed[0].evidence["head"]["block_number"] > decision.block_number


def test_a_retired_key_is_refused(chain: Chain):
    department = chain.department(types=("BL",))
    chain.client.retire_key(chain.authority, department.issuer_id, department.signer.address)
    increase_time(chain.client.w3, 5)  # the key stays valid through the second it was retired in
    decision = _refused(chain, department, "key_not_valid")
    assert department.signer.address in decision.failed[0].en


def test_a_permission_granted_after_the_state_was_read_waits_for_confirmation(chain: Chain):
    """A positive fact counts once confirmed: granted in a block after the state's, it does not yet
    let the department sign; once the state has it, the same application is accepted."""
    department = chain.department()
    verifier = chain.verifier()
    chain.permit(department, "BL", valid_from=chain.now())
    decision = _refused(chain, department, "not_confirmed", verifier)
    assert "never been permitted" in decision.failed[0].en
    assert apply(department, chain.verifier(), _bl(), []).accepted


def test_an_unregistered_department_is_refused(chain: Chain):
    key = Account.from_key(RNG.randbytes(32))
    d = chain.client.deployment
    department = Department(
        issuer_uscc=make_uscc(RNG, region=110000, authority="1", category="1"),
        store=chain.store,
        signer=LicenseSigner(key, chain_id=d.chain_id, license_registry=d.license_registry),
        client=chain.client,
    )
    _refused(chain, department, "unregistered")


def test_a_state_the_chain_no_longer_has_is_refused_as_reorganised(chain: Chain):
    department = chain.department(types=("BL",))
    head = chain.client.block_number()

    def at(block: int, block_hash: bytes) -> Standing:
        return check_standing(
            chain.client,
            issuer_id=department.issuer_id,
            key=department.signer.address,
            license_type=get_type("BL"),
            at=chain.now(),
            confirmed_block=block,
            confirmed_hash=block_hash,
        )

    assert at(head, chain.client.block_ref(head)[1]).permitted  # the same department, on the chain's block
    for standing in (at(head, b"\x01" * 32), at(head + 1000, b"")):  # another block at that height; none yet
        assert (standing.code, standing.permitted) == ("reorganised", False)
        assert standing.zh
        assert "try again" in standing.en


def test_a_department_without_a_chain_client_decides_nothing(chain: Chain):
    department = chain.department(types=("BL",))
    offline = Department(issuer_uscc=department.issuer_uscc, store=chain.store, signer=department.signer)
    before = len(ApplicationBook(chain.store).list_decisions(issuer_uscc=department.issuer_uscc))
    with pytest.raises(ConfigurationError, match="needs the chain"):
        apply(offline, chain.verifier(), _bl(), [])
    assert len(ApplicationBook(chain.store).list_decisions(issuer_uscc=department.issuer_uscc)) == before
    assert _licenses_of(chain, department) == 0
