"""Co-approval (联合审批) as the verifier's index judges it, from the events the chain records:
policies in force at the license's anchoring time, joint anchors holding the license, and
co-signatures that stop counting when their key is declared compromised from before the anchor.
The contracts' side (what a joint anchor must carry to be accepted at all) is tested in Hardhat and
end to end in tests/test_joint.py."""

from __future__ import annotations

import pytest
from conftest import Issued, make_issued

from registry.chain.events import (
    CoApprovalPolicySet,
    CoSigningKeyAdded,
    CoSigningKeyCompromised,
    JointAnchored,
    LogMeta,
    RegistryEvent,
)
from registry.chain.records import OPEN_END
from registry.document.identifiers import issuer_id_from_uscc, uscc_from_issuer_id
from verifier.index import EventIndex
from verifier.pipeline import Outcome, Verifier

FIRE = issuer_id_from_uscc("11110000MB0195570U")  # another Beijing department (fire and rescue)
FIRE_KEY, OWN_KEY = b"\x0f" * 32, b"\x0e" * 32


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    return make_issued(tmp_path_factory.mktemp("co_approval"), count=3)


class _Chain:
    """An index replaying the world's real events, then the joint facts given, in later blocks."""

    def __init__(self, world: Issued) -> None:
        self.world = world
        self.index = EventIndex()
        self.time = 0
        for event in world.client.get_events(world.client.deployment.block_number):
            self.time = world.client.w3.eth.get_block(event.meta.block_number)["timestamp"]
            self.index.apply(event, self.time)
        self.block = self.index.block_number
        d = world.client.deployment
        self.verifier = Verifier(self.index, chain_id=d.chain_id, license_registry=d.license_registry)

    def add(self, event_type: type[RegistryEvent], seconds_later: int = 10, **fields: object) -> int:
        self.block += 1
        self.time += seconds_later
        meta = LogMeta("0x" + "00" * 20, self.block, b"\x00" * 32, b"\x00" * 32, 0)
        self.index.apply(event_type(meta=meta, **fields), self.time)  # type: ignore[call-arg]
        return self.time

    def verify(self, index: int = 1):
        return self.verifier.verify(self.world.text(index))

    @property
    def own(self) -> bytes:
        return self.world.department.issuer_id

    def policy(self, *departments: bytes, seconds_later: int = 10) -> int:
        return self.add(
            CoApprovalPolicySet,
            seconds_later,
            region=110000,
            license_type=b"BL".ljust(32, b"\x00"),
            departments=tuple(sorted(departments)),
        )

    def co_signing_keys(self) -> None:
        for issuer_id, key_id in ((self.own, OWN_KEY), (FIRE, FIRE_KEY)):
            self.add(
                CoSigningKeyAdded,
                issuer_id=issuer_id,
                key_id=key_id,
                public_key=b"\x01" * 128,
                valid_from=0,
                valid_until=OPEN_END,
            )

    def joint(self, row: int, departments: dict[bytes, bytes], *, license_type: bytes = b"BL") -> int:
        digest = self.world.rows[row].digest
        ordered = sorted(departments)
        return self.add(
            JointAnchored,
            bundle_digest=bytes([row]) * 32,
            application_id=b"\x0a" * 32,
            submitter="0x" + "11" * 20,
            applicant=b"\x0b" * 32,
            digests=(digest,),
            license_types=(license_type.ljust(32, b"\x00"),),
            issuer_ids=(self.own,),
            departments=tuple(ordered),
            key_ids=tuple(departments[d] for d in ordered),
        )


def _backdate_policy(chain: _Chain, *departments: bytes) -> None:
    """A policy in force before every anchor of the world: set it in an index that has it first."""
    chain.index.joint.policies.clear()
    chain.index.joint.apply_policy(
        CoApprovalPolicySet(
            LogMeta("0x" + "00" * 20, 1, b"\x00" * 32, b"\x00" * 32, 0),
            110000,
            b"BL".ljust(32, b"\x00"),
            tuple(sorted(departments)),
        ),
        0,
    )


def test_a_license_under_a_policy_without_a_joint_anchor_names_every_missing_department(world: Issued):
    chain = _Chain(world)
    assert chain.verify().status is Outcome.VALID
    _backdate_policy(chain, chain.own, FIRE)
    result = chain.verify()
    assert result.status is Outcome.CO_APPROVAL_MISSING
    assert result.co_approval is not None
    assert {d.uscc for d in result.co_approval.missing} == {
        "11110000MB0195570U",
        uscc_from_issuer_id(world.department.issuer_id),
    }
    assert "11110000MB0195570U" in result.reasons[0].en
    assert "联合审批" in result.reasons[0].zh
    assert result.disclosed  # the chain vouches for the license itself: its fields are shown
    data = result.to_dict()
    assert data["status"] == "co_approval_missing"
    assert data["co_approval"]["complete"] is False


def test_a_joint_anchor_co_signed_by_every_required_department_makes_it_valid(world: Issued):
    chain = _Chain(world)
    _backdate_policy(chain, chain.own, FIRE)
    chain.co_signing_keys()
    chain.joint(1, {chain.own: OWN_KEY, FIRE: FIRE_KEY})
    result = chain.verify(1)
    assert result.status is Outcome.VALID
    assert result.co_approval is not None
    assert result.co_approval.bundle_digest == bytes([1]) * 32
    assert result.to_dict()["co_approval"]["complete"] is True
    # another license of the same type, not in the joint anchor, still misses both
    assert chain.verify(2).status is Outcome.CO_APPROVAL_MISSING


def test_a_joint_anchor_missing_one_department_names_that_one(world: Issued):
    chain = _Chain(world)
    _backdate_policy(chain, chain.own, FIRE)
    chain.co_signing_keys()
    chain.joint(1, {chain.own: OWN_KEY})
    result = chain.verify(1)
    assert result.status is Outcome.CO_APPROVAL_MISSING
    assert [d.uscc for d in result.co_approval.missing] == ["11110000MB0195570U"]  # type: ignore[union-attr]


def test_a_co_signature_stops_counting_when_its_key_is_declared_compromised_before_the_anchor(world: Issued):
    chain = _Chain(world)
    _backdate_policy(chain, chain.own, FIRE)
    chain.co_signing_keys()
    anchored = chain.joint(1, {chain.own: OWN_KEY, FIRE: FIRE_KEY})
    assert chain.verify(1).status is Outcome.VALID
    chain.add(CoSigningKeyCompromised, issuer_id=FIRE, key_id=FIRE_KEY, compromised_at=anchored - 5)
    result = chain.verify(1)
    assert result.status is Outcome.CO_APPROVAL_MISSING
    assert [d.uscc for d in result.co_approval.missing] == ["11110000MB0195570U"]  # type: ignore[union-attr]


def test_a_co_signing_key_of_another_department_does_not_stand_for_the_required_one(world: Issued):
    chain = _Chain(world)
    _backdate_policy(chain, chain.own, FIRE)
    chain.co_signing_keys()
    chain.joint(1, {chain.own: OWN_KEY, FIRE: OWN_KEY})  # FIRE's slot holds the department's own key
    assert chain.verify(1).status is Outcome.CO_APPROVAL_MISSING


def test_a_joint_anchor_listing_the_license_under_another_type_does_not_count(world: Issued):
    chain = _Chain(world)
    _backdate_policy(chain, chain.own, FIRE)
    chain.co_signing_keys()
    chain.joint(1, {chain.own: OWN_KEY, FIRE: FIRE_KEY}, license_type=b"FB")
    assert chain.verify(1).status is Outcome.CO_APPROVAL_MISSING


def test_a_policy_set_after_the_license_was_anchored_does_not_apply_to_it(world: Issued):
    chain = _Chain(world)
    chain.policy(chain.own, FIRE)
    result = chain.verify(1)
    assert result.status is Outcome.VALID
    assert result.co_approval is None


def test_an_ended_policy_no_longer_applies_to_later_licenses(world: Issued):
    index = _Chain(world)
    index.index.joint.policies.clear()
    meta = LogMeta("0x" + "00" * 20, 1, b"\x00" * 32, b"\x00" * 32, 0)
    bl = b"BL".ljust(32, b"\x00")
    index.index.joint.apply_policy(CoApprovalPolicySet(meta, 110000, bl, (FIRE,)), 0)
    index.index.joint.apply_policy(CoApprovalPolicySet(meta, 110000, bl, ()), 1)
    assert index.verify(1).status is Outcome.VALID
    assert index.index.co_approval_policy(110000, bl, 0) is not None
    assert index.index.co_approval_policy(110000, bl, 1) is None


def test_a_co_signing_key_compromise_in_a_block_younger_than_the_depth_applies_at_once(world: Issued):
    """Negative facts apply from the head block: a compromise seen before the confirmation depth
    already takes the co-signature out (and the next sync's pending set replaces it)."""
    chain = _Chain(world)
    _backdate_policy(chain, chain.own, FIRE)
    chain.co_signing_keys()
    anchored = chain.joint(1, {chain.own: OWN_KEY, FIRE: FIRE_KEY})
    young = CoSigningKeyCompromised(
        LogMeta("0x" + "00" * 20, chain.block + 3, b"\x00" * 32, b"\x00" * 32, 0), FIRE, FIRE_KEY, anchored - 5
    )
    chain.index.set_pending([(young, anchored + 30)], up_to_block=chain.block + 3)
    assert chain.verify(1).status is Outcome.CO_APPROVAL_MISSING
    chain.index.set_pending([], up_to_block=chain.block + 3)  # the block was reorganised away
    assert chain.verify(1).status is Outcome.VALID
