"""Attacks on the registry by a writer who is on the chain but not the right one: another
department's key anchoring a department's batch first, a region registering another region's
department, a key rotated or added onto an address whose holder never agreed. Each runs on the
in-process chain and on a hardhat node (the ``world`` fixture)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ISSUER_A, ISSUER_B, REGION_A, REGION_B, USCC_A, World
from eth_tester.exceptions import TransactionFailed
from web3.exceptions import ContractCustomError

from devkit.samples import SampleFactory
from registry import ConfigurationError, InvalidArgumentError, UnauthorizedError
from registry.chain._reverts import RevertDecoder
from registry.chain.artifacts import load_artifact
from registry.chain.events import BatchAnchored, IssuerRegionAllowed, IssuerRegistered, KeyAdded
from registry.document.identifiers import issuer_id_from_uscc
from registry.errors import IssuerOutsideRegionError, KeyNotAcceptedError
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore
from registry.issuer.worker import AnchorWorker
from signer import LicenseSigner, MerkleTree, keccak256, sign_key_acceptance

#: Another Beijing department (division 110000), not registered by the ``world`` fixture.
BEIJING_TAX = issuer_id_from_uscc("11110000000012345H")


def _department(world: World, tmp_path: Path) -> Department:
    d = world.client.deployment
    signer = LicenseSigner(world.key_a, chain_id=d.chain_id, license_registry=d.license_registry)
    store = IssuerStore.at(tmp_path / "store.db")
    return Department(issuer_uscc=USCC_A, store=store, signer=signer, client=world.client, account=world.key_a)


# ------------------------------------------------------------------------------------------------
# Anchors count only for the issuer whose key made them
# ------------------------------------------------------------------------------------------------


def test_finding2_foreign_anchor_of_same_root_does_not_block_victim_worker(world: World, tmp_path: Path):
    """Another department's key anchors the victim's exact batch (seen in the mempool, say) first:
    the victim's worker still sends its own anchor and records its own transaction."""
    dept = _department(world, tmp_path)
    rows = dept.issue_many([SampleFactory(81).business_license() for _ in range(4)])
    tree = MerkleTree.from_digests(r.digest for r in rows)
    front_run = world.client.anchor(world.key_b, [r.digest for r in rows])
    assert (front_run.root, front_run.issuer_id) == (tree.root, ISSUER_B)
    assert world.client.get_anchor(ISSUER_A, tree.root) is None

    worker = AnchorWorker(dept.store, world.client, [world.key_a], batch_size=10, max_age=0)
    (result,) = worker.run_once()
    assert (result.root, result.issuer_id, result.key) == (tree.root, ISSUER_A, world.key_a.address)
    (event,) = [e for e in result.tx.events if isinstance(e, BatchAnchored)]
    assert (event.issuer_id, event.key) == (ISSUER_A, world.key_a.address)
    batch = dept.store.get_batch(tree.root)
    assert batch is not None
    assert (batch.state, batch.tx_hash, batch.block_number) == ("anchored", result.tx.tx_hash, result.tx.block_number)
    anchor = world.client.get_anchor(ISSUER_A, tree.root)
    assert anchor is not None
    assert (anchor.key, anchor.block_number) == (world.key_a.address, result.tx.block_number)
    foreign = world.client.get_anchor(ISSUER_B, tree.root)
    assert foreign is not None
    assert foreign.key == world.key_b.address
    dept.store.close()


def test_finding2_resumed_batch_is_not_taken_for_anchored_by_a_foreign_anchor(world: World, tmp_path: Path):
    """A batch prepared before a crash, whose root another department anchored meanwhile, is sent
    again by the worker rather than recorded as anchored with no transaction of its own."""
    dept = _department(world, tmp_path)
    rows = dept.issue_many([SampleFactory(82).business_license() for _ in range(3)])
    tree = MerkleTree.from_digests(r.digest for r in rows)
    dept.store.prepare_batch(tree.root, world.key_a.address, tree.digests)  # then the process died
    world.client.anchor(world.key_b, tree.digests)
    worker = AnchorWorker(dept.store, world.client, [world.key_a], batch_size=10, max_age=0)
    (result,) = worker.run_once()
    assert result.issuer_id == ISSUER_A
    batch = dept.store.get_batch(tree.root)
    assert batch is not None
    assert batch.tx_hash == result.tx.tx_hash != b"\x00" * 32
    dept.store.close()


def test_finding2_recheck_does_not_count_a_foreign_anchor_as_the_batch_still_on_chain(world: World, tmp_path: Path):
    """A batch recorded as anchored that the chain no longer holds for its issuer (lost to a
    reorganisation) goes back to prepared even if another issuer anchored the same root."""
    dept = _department(world, tmp_path)
    rows = dept.issue_many([SampleFactory(83).business_license() for _ in range(3)])
    tree = MerkleTree.from_digests(r.digest for r in rows)
    dept.store.prepare_batch(tree.root, world.key_a.address, tree.digests)
    head = world.client.block_number()
    # recorded as anchored by a transaction that a reorganisation has since removed
    lost_at = world.chain.now()
    dept.store.mark_anchored(tree.root, tx_hash=b"\x01" * 32, block_number=head, block_time=lost_at, gas_used=1)
    world.client.anchor(world.key_b, tree.digests)  # only the foreign anchor is on chain
    worker = AnchorWorker(dept.store, world.client, [world.key_a], batch_size=10, max_age=0)
    (result,) = worker.run_once()
    assert worker.stats.reanchored == 1
    assert (result.root, result.issuer_id) == (tree.root, ISSUER_A)
    anchor = world.client.get_anchor(ISSUER_A, tree.root)
    assert anchor is not None
    assert anchor.key == world.key_a.address
    dept.store.close()


def test_finding2_get_anchor_is_per_issuer(world: World):
    c = world.client
    digests = [bytes([i]) * 32 for i in range(1, 6)]
    first = c.anchor(world.key_b, digests)
    own = c.anchor(world.key_a, digests)  # the same root, anchored again by its own issuer
    assert first.root == own.root
    a, b = c.get_anchor(ISSUER_A, own.root), c.get_anchor(ISSUER_B, own.root)
    assert a is not None
    assert b is not None
    assert (a.issuer_id, a.key, a.block_number) == (ISSUER_A, world.key_a.address, own.tx.block_number)
    assert (b.issuer_id, b.key, b.block_number) == (ISSUER_B, world.key_b.address, first.tx.block_number)
    assert c.get_anchor(BEIJING_TAX, own.root) is None


# ------------------------------------------------------------------------------------------------
# A credit code registers only in the region of its administrative division
# ------------------------------------------------------------------------------------------------


def test_finding3_authority_cannot_register_other_regions_department(world: World):
    c = world.client
    with pytest.raises(IssuerOutsideRegionError) as info:
        c.register_issuer(world.authority_b, BEIJING_TAX, REGION_B, "北京市税务局")  # Shanghai, a Beijing code
    error = info.value
    assert isinstance(error, UnauthorizedError)
    assert error.error_name == "TrustRegistryIssuerOutsideRegion"
    assert error.arguments == {"issuer_id": BEIJING_TAX, "division": 110000, "region": REGION_B}
    assert (error.issuer_id, error.division, error.region) == (BEIJING_TAX, 110000, REGION_B)
    assert "11110000000012345H" in str(error)
    assert "outside region 310000" in str(error)
    assert c.get_issuer(BEIJING_TAX) is None
    # Beijing can still register its department
    tx = c.register_issuer(world.authority_a, BEIJING_TAX, REGION_A, "北京市税务局")
    assert isinstance(tx.events[0], IssuerRegistered)


def test_finding3_only_federation_admin_allows_an_exception(world: World):
    c = world.client
    with pytest.raises(UnauthorizedError) as info:
        c.allow_issuer_region(world.authority_b, BEIJING_TAX, REGION_B)
    assert info.value.error_name == "AccessControlUnauthorizedAccount"
    assert c.get_allowed_region(BEIJING_TAX) is None
    tx = c.allow_issuer_region(world.admin, BEIJING_TAX, REGION_B)
    assert tx.events == (IssuerRegionAllowed(meta=tx.events[0].meta, issuer_id=BEIJING_TAX, region=REGION_B),)
    assert c.get_allowed_region(BEIJING_TAX) == REGION_B
    c.register_issuer(world.authority_b, BEIJING_TAX, REGION_B, "北京市驻沪机构")
    issuer = c.get_issuer(BEIJING_TAX)
    assert issuer is not None
    assert issuer.region == REGION_B
    with pytest.raises(ConfigurationError, match="six-digit"):
        c.allow_issuer_region(world.admin, BEIJING_TAX, 31)


def test_finding3_malformed_issuer_ids_revert(world: World):
    c = world.client
    for bad in (b"\x44" * 32, b"11110000MB0195560U".ljust(32, b"\x00"), b"11110000MB0195560T".rjust(32, b"\x00")):
        with pytest.raises(InvalidArgumentError) as info:
            c.register_issuer(world.authority_a, bad, REGION_A, "x")
        assert info.value.error_name == "TrustRegistryInvalidIssuerId"
        assert info.value.arguments == {"issuer_id": bad}


def test_finding3_revert_maps_to_the_domain_error_from_every_backend():
    decoder = RevertDecoder([(n, load_artifact(n).abi) for n in ("TrustRegistry", "LicenseRegistry")])
    selector = keccak256(b"TrustRegistryIssuerOutsideRegion(bytes32,uint32,uint32)")[:4]
    data = selector + BEIJING_TAX + (110000).to_bytes(32, "big") + (310000).to_bytes(32, "big")
    for exc in (
        TransactionFailed("execution reverted: " + repr(data)),
        ContractCustomError("0x" + data.hex(), data="0x" + data.hex()),
    ):
        mapped = decoder.from_exception(exc)
        assert isinstance(mapped, IssuerOutsideRegionError)
        assert (mapped.division, mapped.region) == (110000, 310000)


# ------------------------------------------------------------------------------------------------
# A key joins an issuer only with its own signed acceptance
# ------------------------------------------------------------------------------------------------


def test_finding10_rotation_onto_unaccepted_key_reverts(world: World):
    """Department A announced ``spare_key`` (and signed its acceptance for A); a valid key of
    department B rotates itself onto it to squat it: refused, with or without A's acceptance."""
    c = world.client
    d = c.deployment
    announced = world.spare_key
    for_a = sign_key_acceptance(announced, issuer_id=ISSUER_A, chain_id=d.chain_id, trust_registry=d.trust_registry)
    for acceptance in (for_a, b"\x00" * 65):
        with pytest.raises(KeyNotAcceptedError) as info:
            c.rotate_key(world.key_b, ISSUER_B, world.key_b.address, announced.address, acceptance=acceptance)
        assert info.value.arguments == {"issuer_id": ISSUER_B, "key": announced.address}
        assert info.value.key == announced.address
    assert c.get_rotation(world.key_b.address) == (None, False, False)
    assert c.get_key(announced.address) is None
    # the region's authority of B cannot add it to B with A's acceptance either
    with pytest.raises(KeyNotAcceptedError):
        c.add_key(world.authority_b, ISSUER_B, announced.address, valid_from=world.start, acceptance=for_a)
    # A's authority adds it with the acceptance the department made elsewhere
    tx = c.add_key(world.authority_a, ISSUER_A, announced.address, valid_from=world.start, acceptance=for_a)
    assert isinstance(tx.events[0], KeyAdded)
    window = c.get_key(announced.address)
    assert window is not None
    assert window.issuer_id == ISSUER_A


def test_finding10_acceptance_is_the_contracts_eip712_digest(world: World):
    c = world.client
    acceptance = c.key_acceptance(world.spare_key, ISSUER_A)
    digest = c.key_acceptance_digest(ISSUER_A, world.spare_key.address)
    assert len(acceptance) == 65
    assert world.spare_key.unsafe_sign_hash(digest).signature == acceptance
    # a rotation by the key itself onto a new key whose account the client holds signs for it
    tx = c.rotate_key(world.key_a, ISSUER_A, world.key_a.address, world.spare_key)
    assert [type(e).__name__ for e in tx.events] == ["KeyRetired", "KeyAdded", "KeyRotated"]


def test_finding10_the_client_refuses_a_new_key_without_acceptance_before_sending(world: World):
    c = world.client
    with pytest.raises(ConfigurationError, match="needs its acceptance"):
        c.add_key(world.authority_a, ISSUER_A, world.spare_key.address, valid_from=world.start)
    with pytest.raises(ConfigurationError, match="needs its acceptance"):
        c.rotate_key(world.key_a, ISSUER_A, world.key_a.address, world.spare_key.address)
    with pytest.raises(ConfigurationError, match="not both"):
        c.add_key(world.authority_a, ISSUER_A, world.spare_key, valid_from=world.start, acceptance=b"\x01" * 65)
    with pytest.raises(ConfigurationError, match="acceptance must be"):
        c.add_key(world.authority_a, ISSUER_A, world.spare_key.address, valid_from=world.start, acceptance=b"")
