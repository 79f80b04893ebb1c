"""The chain client against the in-process EVM and a real hardhat node (every test runs on both)."""

from __future__ import annotations

import pytest
from conftest import BL, ISSUER_A, ISSUER_B, REGION_A, REGION_B, World, digests

from registry import (
    OPEN_END,
    ConfigurationError,
    ConflictError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
    RegistryClient,
    Status,
    UnauthorizedError,
    license_type_id,
)
from registry.chain.events import (
    BatchAnchored,
    IssuerActiveSet,
    IssuerRegistered,
    KeyAdded,
    KeyCompromised,
    KeyRetired,
    KeyRotated,
    LicensesReinstated,
    LicensesRevoked,
    LicensesSuperseded,
    LicensesSuspended,
    LicenseTypePermitted,
    RegionAdded,
    RegionAuthorityAdded,
    RegionAuthorityRemoved,
)
from registry.document.identifiers import issuer_id_from_uscc
from signer import MerkleTree, verify_proof


def test_deploy_links_the_two_registries(deployed):
    chain, client = deployed
    d = client.deployment
    assert d.chain_id == chain.w3.eth.chain_id
    assert d.deployer == chain.accounts[0].address
    assert client.licenses.functions.trustRegistry().call() == d.trust_registry
    assert client.is_federation_admin(chain.accounts[0].address)
    assert not client.is_federation_admin(chain.accounts[1].address)
    # a second client on the same deployment checks the code is there
    again = RegistryClient(chain.w3, d)
    assert again.trust.address == d.trust_registry


def test_client_refuses_a_deployment_of_another_chain(deployed):
    chain, client = deployed
    wrong = type(client.deployment)(
        chain_id=client.deployment.chain_id + 1,
        trust_registry=client.deployment.trust_registry,
        license_registry=client.deployment.license_registry,
        block_number=0,
        deployer=client.deployment.deployer,
    )
    with pytest.raises(ConfigurationError, match="deployment is on chain"):
        RegistryClient(chain.w3, wrong)


def test_client_refuses_addresses_without_the_contracts(deployed):
    chain, client = deployed
    wrong = type(client.deployment)(
        chain_id=client.deployment.chain_id,
        trust_registry=chain.accounts[5].address,
        license_registry=client.deployment.license_registry,
        block_number=0,
        deployer=client.deployment.deployer,
    )
    with pytest.raises(ConfigurationError, match="no contract"):
        RegistryClient(chain.w3, wrong)


def test_regions_issuers_keys_and_types_read_back(world: World):
    c = world.client
    assert c.get_region(REGION_A).name == "北京市"
    assert c.get_region(120000) is None
    assert c.is_region_authority(REGION_A, world.authority_a.address)
    assert not c.is_region_authority(REGION_B, world.authority_a.address)
    issuer = c.get_issuer(ISSUER_A)
    assert issuer is not None
    assert (issuer.region, issuer.active, issuer.name, issuer.profile_uri) == (
        REGION_A,
        True,
        "北京市市场监督管理局",
        "https://scjgj.beijing.gov.cn",
    )
    assert c.get_issuer(b"\x09" * 32) is None
    key = c.get_key(world.key_a.address)
    assert key is not None
    assert (key.issuer_id, key.valid_from, key.valid_until) == (ISSUER_A, world.start, OPEN_END)
    assert c.get_key(world.stranger.address) is None
    assert c.is_key_valid(ISSUER_A, world.key_a.address, world.start)
    assert not c.is_key_valid(ISSUER_A, world.key_a.address, world.start - 1)
    assert not c.is_key_valid(ISSUER_B, world.key_a.address, world.start)
    assert c.may_issue(ISSUER_A, BL, world.start)
    assert not c.may_issue(ISSUER_B, BL, world.start)
    permission = c.get_type_permission(ISSUER_A, BL)
    assert permission is not None
    assert (permission.valid_from, permission.valid_until) == (world.start, OPEN_END)
    assert c.get_type_permission(ISSUER_B, BL) is None
    assert c.is_authority_of_issuer(ISSUER_A, world.authority_a.address)
    assert not c.is_authority_of_issuer(ISSUER_A, world.authority_b.address)


def test_writes_return_typed_events(world: World):
    c = world.client
    tx = c.add_region(world.admin, 440300, "深圳市")
    assert tx.gas_used > 21_000
    assert tx.events == (RegionAdded(meta=tx.events[0].meta, region=440300, name="深圳市"),)
    tx = c.add_region_authority(world.admin, 440300, world.stranger.address)
    (event,) = tx.events
    assert isinstance(event, RegionAuthorityAdded)
    assert (event.region, event.account) == (440300, world.stranger.address)
    shenzhen = issuer_id_from_uscc("11440300MB2C92052N")
    tx = c.register_issuer(world.stranger, shenzhen, 440300, "深圳市住房和建设局", profile_hash=b"\x01" * 32)
    (event,) = tx.events
    assert isinstance(event, IssuerRegistered)
    assert (event.issuer_id, event.region, event.name, event.profile_hash, event.profile_uri) == (
        shenzhen,
        440300,
        "深圳市住房和建设局",
        b"\x01" * 32,
        "",
    )
    tx = c.remove_region_authority(world.admin, 440300, world.stranger.address)
    assert isinstance(tx.events[0], RegionAuthorityRemoved)
    with pytest.raises(UnauthorizedError) as info:
        c.set_issuer_active(world.stranger, shenzhen, False)
    assert info.value.error_name == "TrustRegistryNotRegionAuthority"
    assert info.value.arguments == {"region": 440300, "account": world.stranger.address}


def test_anchor_matches_the_python_tree_and_publishes_digests(world: World):
    batch = digests(7)
    result = world.client.anchor(world.key_a, batch)
    tree = MerkleTree.from_digests(batch)
    assert result.root == tree.root
    assert (result.issuer_id, result.key, result.count) == (ISSUER_A, world.key_a.address, 7)
    (event,) = result.tx.events
    assert isinstance(event, BatchAnchored)
    assert event.digests == tuple(sorted(batch))
    anchor = world.client.get_anchor(ISSUER_A, tree.root)
    assert anchor is not None
    assert (anchor.issuer_id, anchor.key, anchor.count) == (ISSUER_A, world.key_a.address, 7)
    assert (anchor.timestamp, anchor.block_number) == (result.tx.timestamp, result.tx.block_number)
    for d in batch:
        assert verify_proof(tree.proof(d), anchor.root, d)
    assert world.client.get_anchor(ISSUER_A, b"\x01" * 32) is None
    assert world.client.get_anchor(ISSUER_B, tree.root) is None  # anchors are per issuer


def test_anchor_rejections_name_the_custom_error(world: World):
    c = world.client
    batch = digests(3)
    c.anchor(world.key_a, batch)
    with pytest.raises(ConflictError) as info:
        c.anchor(world.key_a, batch)
    assert info.value.error_name == "LicenseRegistryBatchExists"
    assert info.value.arguments == {"issuer_id": ISSUER_A, "root": MerkleTree.from_digests(batch).root}
    with pytest.raises(UnauthorizedError) as info:
        c.anchor(world.stranger, digests(2))
    assert info.value.error_name == "LicenseRegistryUnknownKey"
    assert info.value.arguments == {"key": world.stranger.address}
    # checked before anything is sent
    with pytest.raises(ConfigurationError, match="at least one digest"):
        c.anchor(world.key_a, [])
    with pytest.raises(ConfigurationError, match="duplicates"):
        c.anchor(world.key_a, [b"\x05" * 32, b"\x05" * 32])
    with pytest.raises(ConfigurationError, match="must be 32 bytes"):
        c.anchor(world.key_a, [b"\x05" * 31])
    with pytest.raises(ConfigurationError, match="must not be zero"):
        c.anchor(world.key_a, [b"\x00" * 32])
    with pytest.raises(ConfigurationError, match="at most 10000"):
        c.anchor(world.key_a, [b"\x05" * 32] * 10_001)


def test_anchor_by_inactive_issuer_is_refused(world: World):
    c = world.client
    tx = c.set_issuer_active(world.authority_a, ISSUER_A, False)
    assert tx.events[0] == IssuerActiveSet(meta=tx.events[0].meta, issuer_id=ISSUER_A, active=False)
    with pytest.raises(UnauthorizedError) as info:
        c.anchor(world.key_a, digests(1))
    assert info.value.error_name == "LicenseRegistryIssuerInactive"
    c.set_issuer_active(world.authority_a, ISSUER_A, True)
    c.anchor(world.key_a, digests(1))


def test_rotation_ends_the_old_window_and_keeps_history(world: World):
    c = world.client
    old = world.key_a
    new = world.spare_key
    world.chain.increase_time(10)
    tx = c.rotate_key(old, ISSUER_A, old.address, new)
    retired, added, rotated = tx.events
    assert isinstance(retired, KeyRetired)
    assert isinstance(added, KeyAdded)
    assert isinstance(rotated, KeyRotated)
    assert (rotated.old_key, rotated.new_key, rotated.by_self) == (old.address, new.address, True)
    assert c.get_rotation(old.address) == (new.address, True, True)
    # the old key stays valid through the rotation's second, so what it did in that block counts
    assert retired.valid_until == tx.timestamp + 1
    assert (added.key, added.valid_from, added.valid_until) == (new.address, tx.timestamp, OPEN_END)
    assert c.is_key_valid(ISSUER_A, old.address, tx.timestamp)
    assert not c.is_key_valid(ISSUER_A, old.address, tx.timestamp + 1)
    world.chain.increase_time(1)
    with pytest.raises(UnauthorizedError) as info:
        c.anchor(old, digests(1))
    assert info.value.error_name == "LicenseRegistryKeyNotValid"
    assert info.value.arguments["issuer_id"] == ISSUER_A
    c.anchor(new, digests(1))
    # the old key can no longer manage keys
    with pytest.raises(UnauthorizedError) as info:
        c.retire_key(old, ISSUER_A, new.address)
    assert info.value.error_name == "TrustRegistryNotIssuerOrAuthority"
    # rotating the rotated key again is an invalid state
    with pytest.raises(InvalidStateError) as info:
        c.rotate_key(world.authority_a, ISSUER_A, old.address, world.stranger)
    assert info.value.error_name == "TrustRegistryKeyClosed"
    # an authority cannot be one of the issuer's keys
    with pytest.raises(ConflictError) as conflict:
        c.add_key(world.authority_a, ISSUER_A, world.authority_a, valid_from=0)
    assert conflict.value.error_name == "TrustRegistryKeyIsAuthority"


def test_compromise_ends_the_window_in_the_past(world: World):
    c = world.client
    world.chain.increase_time(100)
    before = c.anchor(world.key_a, digests(1))
    world.chain.increase_time(100)
    after = c.anchor(world.key_a, digests(1))
    compromised_at = before.tx.timestamp + 50
    # the issuer's own key may not declare compromise; only a region authority
    with pytest.raises(UnauthorizedError) as info:
        c.declare_key_compromised(world.key_a, ISSUER_A, world.key_a.address, compromised_at=compromised_at)
    assert info.value.error_name == "TrustRegistryNotRegionAuthority"
    with pytest.raises(UnauthorizedError):
        c.declare_key_compromised(world.authority_b, ISSUER_A, world.key_a.address, compromised_at=compromised_at)
    with pytest.raises(InvalidArgumentError) as info:
        c.declare_key_compromised(world.authority_a, ISSUER_A, world.key_a.address, compromised_at=world.start - 1)
    assert info.value.error_name == "TrustRegistryCompromiseTimeOutOfRange"
    assert info.value.arguments["compromised_at"] == world.start - 1
    tx = c.declare_key_compromised(world.authority_a, ISSUER_A, world.key_a.address, compromised_at=compromised_at)
    (event,) = tx.events
    assert isinstance(event, KeyCompromised)
    assert event.compromised_at == compromised_at
    # a verifier's view: anchored before -> key valid at anchor time; after -> not
    assert c.is_key_valid(ISSUER_A, world.key_a.address, before.tx.timestamp)
    assert not c.is_key_valid(ISSUER_A, world.key_a.address, after.tx.timestamp)
    with pytest.raises(UnauthorizedError):
        c.anchor(world.key_a, digests(1))


def test_status_lifecycle(world: World):
    c = world.client
    batch = digests(4)
    c.anchor(world.key_a, batch)
    a, b, d, e = batch
    tx = c.suspend(world.key_a, ISSUER_A, [a, b], reason=7)
    assert isinstance(tx.events[0], LicensesSuspended)
    assert tx.events[0].digests == (a, b)
    assert c.get_status(ISSUER_A, a).status is Status.SUSPENDED
    assert c.get_status(ISSUER_A, a).reason == 7
    tx = c.reinstate(world.key_a, ISSUER_A, [a])
    assert isinstance(tx.events[0], LicensesReinstated)
    assert c.get_status(ISSUER_A, a).status is Status.ACTIVE
    tx = c.revoke(world.key_a, ISSUER_A, [b], reason=9)  # suspended -> revoked
    assert isinstance(tx.events[0], LicensesRevoked)
    assert c.get_status(ISSUER_A, b).status is Status.REVOKED
    new = digests(1)[0]
    tx = c.supersede(world.key_a, ISSUER_A, [d], [new], reason=4)
    assert isinstance(tx.events[0], LicensesSuperseded)
    assert tx.events[0].replacements == (new,)
    status = c.get_status(ISSUER_A, d)
    assert (status.status, status.replacement) == (Status.SUPERSEDED, new)
    assert c.get_status(ISSUER_A, e) == type(status)(Status.ACTIVE, 0, None)
    # final states stay final, with the exact error
    for op in (c.revoke, c.suspend, c.reinstate):
        with pytest.raises(InvalidStateError) as info:
            op(world.key_a, ISSUER_A, [b], reason=1)
        assert info.value.error_name == "LicenseRegistryStatusFinal"
        assert info.value.arguments == {"digest": b, "status": int(Status.REVOKED)}
    with pytest.raises(InvalidStateError) as info:
        c.supersede(world.key_a, ISSUER_A, [d], [b"\x07" * 32], reason=1)
    assert info.value.arguments == {"digest": d, "status": int(Status.SUPERSEDED)}
    with pytest.raises(InvalidStateError) as info:
        c.reinstate(world.key_a, ISSUER_A, [e])
    assert info.value.error_name == "LicenseRegistryInvalidTransition"
    # a failed multi-digest call changes nothing
    with pytest.raises(InvalidStateError):
        c.suspend(world.key_a, ISSUER_A, [e, b], reason=1)
    assert c.get_status(ISSUER_A, e).status is Status.ACTIVE


def test_status_changes_are_limited_to_the_issuer_and_its_authority(world: World):
    c = world.client
    batch = digests(2)
    c.anchor(world.key_a, batch)
    for sender in (world.key_b, world.stranger, world.authority_b):
        with pytest.raises(UnauthorizedError) as info:
            c.revoke(sender, ISSUER_A, batch[:1], reason=1)
        assert info.value.error_name == "LicenseRegistryNotIssuerOrAuthority"
        assert info.value.arguments == {"issuer_id": ISSUER_A, "account": sender.address}
    c.revoke(world.authority_a, ISSUER_A, batch[:1], reason=1)  # the region authority can
    assert c.get_status(ISSUER_A, batch[0]).status is Status.REVOKED
    # a key of issuer B writing under its own id does not touch issuer A's status
    c.revoke(world.key_b, ISSUER_B, batch[1:], reason=1)
    assert c.get_status(ISSUER_A, batch[1]).status is Status.ACTIVE
    with pytest.raises(NotFoundError) as info:
        c.revoke(world.key_a, b"\x0e" * 32, batch[1:], reason=1)
    assert info.value.error_name == "LicenseRegistryUnknownIssuer"


def test_unauthorised_trust_registry_calls(world: World):
    c = world.client
    with pytest.raises(UnauthorizedError) as info:
        c.add_region(world.stranger, 120000, "天津市")
    assert info.value.error_name == "AccessControlUnauthorizedAccount"
    assert info.value.arguments["account"] == world.stranger.address
    with pytest.raises(UnauthorizedError) as info:
        c.register_issuer(world.authority_b, issuer_id_from_uscc("11110000MB1234567K"), REGION_A, "x")
    assert info.value.arguments == {"region": REGION_A, "account": world.authority_b.address}
    for sender in (world.key_b, world.key_a):  # keys (even the issuer's own) cannot add keys
        with pytest.raises(UnauthorizedError) as info:
            c.add_key(sender, ISSUER_A, world.stranger, valid_from=0)
        assert info.value.error_name == "TrustRegistryNotRegionAuthority"
    with pytest.raises(UnauthorizedError):
        c.permit_license_type(world.key_a, ISSUER_A, license_type_id("FP"), valid_from=0)
    with pytest.raises(ConflictError) as info:
        c.add_key(world.authority_b, ISSUER_B, world.key_a, valid_from=0)
    assert info.value.error_name == "TrustRegistryKeyInUse"
    assert info.value.arguments == {"key": world.key_a.address, "issuer_id": ISSUER_A}
    with pytest.raises(InvalidArgumentError) as info:
        c.permit_license_type(world.authority_a, ISSUER_A, BL, valid_from=10, valid_until=10)
    assert info.value.arguments == {"valid_from": 10, "valid_until": 10}


def test_federation_admin_role_management(world: World):
    c = world.client
    c.grant_federation_admin(world.admin, world.stranger.address)
    assert c.is_federation_admin(world.stranger.address)
    c.add_region(world.stranger, 120000, "天津市")
    c.revoke_federation_admin(world.admin, world.stranger.address)
    with pytest.raises(UnauthorizedError):
        c.add_region(world.stranger, 130000, "河北省")
    with pytest.raises(UnauthorizedError):
        c.grant_federation_admin(world.stranger, world.stranger.address)


def test_permission_window_and_event(world: World):
    c = world.client
    fp = license_type_id("FP")
    tx = c.permit_license_type(world.authority_a, ISSUER_A, fp, valid_from=world.start, valid_until=world.start + 100)
    (event,) = tx.events
    assert isinstance(event, LicenseTypePermitted)
    assert (event.license_type, event.valid_from, event.valid_until) == (fp, world.start, world.start + 100)
    assert c.may_issue(ISSUER_A, fp, world.start + 99)
    assert not c.may_issue(ISSUER_A, fp, world.start + 100)


def test_events_rebuild_the_state(world: World):
    c = world.client
    batch = digests(3)
    c.anchor(world.key_a, batch)
    c.revoke(world.key_a, ISSUER_A, batch[:1], reason=2)
    events = c.get_events(c.deployment.block_number)
    names = [type(e).__name__ for e in events]
    assert names[:2] == ["RoleGranted", "RoleGranted"]
    assert names.count("IssuerRegistered") == 2
    assert names[-2:] == ["BatchAnchored", "LicensesRevoked"]
    order = [(e.meta.block_number, e.meta.log_index) for e in events]
    assert order == sorted(order)
    # rebuild keys and statuses from events alone and compare with storage
    keys = {}
    statuses = {}
    for e in events:
        if isinstance(e, KeyAdded):
            keys[e.key] = (e.issuer_id, e.valid_from, e.valid_until)
        elif isinstance(e, LicensesRevoked):
            for d in e.digests:
                statuses[(e.issuer_id, d)] = Status.REVOKED
    for key, (issuer_id, valid_from, valid_until) in keys.items():
        window = c.get_key(key)
        assert window is not None
        assert (window.issuer_id, window.valid_from, window.valid_until) == (issuer_id, valid_from, valid_until)
    for (issuer_id, d), status in statuses.items():
        assert c.get_status(issuer_id, d).status is status


def test_arguments_are_checked_before_sending(world: World):
    c = world.client
    with pytest.raises(ConfigurationError, match="six-digit"):
        c.add_region(world.admin, 1100, "x")
    with pytest.raises(ConfigurationError, match="address"):
        c.add_region_authority(world.admin, REGION_A, "0x1234")
    with pytest.raises(ConfigurationError, match="issuer_id must be 32 bytes"):
        c.register_issuer(world.authority_a, b"short", REGION_A, "x")
    with pytest.raises(ConfigurationError, match="at most 1024"):
        c.register_issuer(world.authority_a, ISSUER_A, REGION_A, "名" * 400)
    with pytest.raises(ConfigurationError, match="reason"):
        c.revoke(world.key_a, ISSUER_A, digests(1), reason=70_000)
    with pytest.raises(ConfigurationError, match="one replacement per digest"):
        c.supersede(world.key_a, ISSUER_A, digests(2), digests(1), reason=1)
    with pytest.raises(ValueError, match="license type code"):
        license_type_id("")


def test_a_stolen_key_cannot_outlive_its_compromise(world: World):
    """A thief holding key A rotates it to a key of their own and revokes a license; the authority
    declares A compromised from before the theft: the thief's key is void, the revocation can be
    voided on chain, and a legitimate revocation from before the theft stays final."""
    c = world.client
    batch = digests(3)
    c.anchor(world.key_a, batch)
    c.revoke(world.key_a, ISSUER_A, batch[:1], reason=1)  # legitimate, before the theft
    world.chain.increase_time(100)
    theft = world.chain.now()
    thief = world.stranger
    c.rotate_key(world.key_a, ISSUER_A, world.key_a.address, thief)  # the thief, with key A (and its own new key)
    c.revoke(thief, ISSUER_A, batch[1:2], reason=9)
    assert c.get_status(ISSUER_A, batch[1]).set_by == thief.address
    # another valid key of the issuer could not have stopped it, only the authority can
    tx = c.declare_key_compromised(world.authority_a, ISSUER_A, world.key_a.address, compromised_at=theft)
    assert [(type(e).__name__, e.key) for e in tx.events] == [
        ("KeyCompromised", world.key_a.address),
        ("KeyCompromised", thief.address),
    ]
    window = c.get_key(thief.address)
    assert window is not None
    assert window.valid_from == window.valid_until  # empty: never valid
    with pytest.raises(UnauthorizedError):
        c.anchor(thief, digests(1))
    with pytest.raises(InvalidStateError) as info:
        c.void_status_changes(world.authority_a, ISSUER_A, batch[:1])
    assert info.value.error_name == "LicenseRegistryStatusNotVoidable"
    with pytest.raises(UnauthorizedError) as info:
        c.void_status_changes(world.key_b, ISSUER_A, batch[1:2])
    assert info.value.error_name == "LicenseRegistryNotAuthority"
    c.void_status_changes(world.authority_a, ISSUER_A, batch[1:2])
    status = c.get_status(ISSUER_A, batch[1])
    assert (status.status, status.set_by) == (Status.ACTIVE, world.authority_a.address)
    assert c.get_status(ISSUER_A, batch[0]).status is Status.REVOKED
