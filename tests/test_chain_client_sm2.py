"""The chain client's SM2 bindings on a real EVM (in process and a hardhat node): a department's
account bound to an SM2 key by its authority or by rotation, the events decoded, and every refusal
of the contract mapped to its domain error (and put in plain words for the command line).

The SM2 keys and proofs of possession here are made with gmssl (pure-Python SM2/SM3): the contract
checks only the proof's shape, and these tests check with gmssl that the proof really verifies over
the message the client computes. The account's acceptance is made with eth_account's
``sign_typed_data`` directly from the typed data of the shared definitions."""

from __future__ import annotations

import re
import secrets

import pytest
from conftest import ISSUER_A, ISSUER_B, REGION_A, World, digests
from eth_account.messages import encode_typed_data
from gmssl import func, sm3
from gmssl.sm2 import CryptSM2, default_ecc_table

from api.cli._explain import explain
from registry import ConflictError, InvalidArgumentError, UnauthorizedError
from registry.chain.events import KeyAdded, KeyRetired, KeyRotated, Sm2KeyBound
from registry.chain.sm2 import SM2_N, SM2_P, Sm2KeyRegistration, sm2_key_acceptance_typed_data
from registry.errors import ConfigurationError, KeyNotAcceptedError, Sm2KeyNotAcceptedError
from signer import keccak256
from verifier.mirror import Mirror

OPEN_END = 2**64 - 1


class Sm2Key:
    """An SM2 key pair (gmssl) that signs with SM3 and its ID's Z_A (GB/T 32918.2)."""

    def __init__(self) -> None:
        self.d = secrets.randbelow(SM2_N - 2) + 1
        crypt = CryptSM2(private_key=f"{self.d:064x}", public_key="")
        self.public_key = bytes.fromhex(crypt._kg(self.d, default_ecc_table["g"]))
        self._crypt = crypt
        crypt.public_key = self.public_key.hex()  # set directly: gmssl's constructor strips leading 0s and 4s

    def _e(self, identifier: bytes, message: bytes) -> bytes:
        table = default_ecc_table
        curve = bytes.fromhex(table["a"] + table["b"] + table["g"])
        z_input = (8 * len(identifier)).to_bytes(2, "big") + identifier + curve + self.public_key
        z = bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(z_input)))
        return bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(z + message)))

    def sign(self, identifier: bytes, message: bytes) -> bytes:
        e = self._e(identifier, message)
        signature = None
        while not signature:
            signature = self._crypt.sign(e, func.random_hex(64))
        assert self.verify(identifier, message, bytes.fromhex(signature))
        return bytes.fromhex(signature)

    def verify(self, identifier: bytes, message: bytes, signature: bytes) -> bool:
        return bool(self._crypt.verify(signature.hex(), self._e(identifier, message)))


def registration(world: World, account: str, *, issuer_id: bytes = ISSUER_A, **extra: bytes) -> Sm2KeyRegistration:
    """A fresh SM2 key's registration for binding to ``account``, with its real proof of possession."""
    key = Sm2Key()
    identifier = extra.pop("distinguishing_id", b"1234567812345678")
    message = world.client.sm2_key_acceptance_message(issuer_id, account, key.public_key, identifier)
    proof = key.sign(identifier, message)
    return Sm2KeyRegistration(public_key=key.public_key, proof=proof, distinguishing_id=identifier, **extra)


def eth_acceptance(world: World, signer: object, issuer_id: bytes, key: str, reg: Sm2KeyRegistration) -> bytes:
    """``signer``'s EIP-712 signature of Sm2KeyAcceptance(issuer_id, key, reg's key and ID)."""
    typed = sm2_key_acceptance_typed_data(
        issuer_id=issuer_id,
        key=key,
        public_key=reg.public_key,
        distinguishing_id=reg.distinguishing_id,
        chain_id=world.client.deployment.chain_id,
        trust_registry=world.client.trust.address,
    )
    return bytes(signer.sign_typed_data(full_message=typed).signature)  # type: ignore[attr-defined]


def test_the_gmssl_helper_agrees_with_gmssl_for_the_default_id():
    key = Sm2Key()
    message = b"\x19\x01" + bytes(range(64))
    e = key._e(b"1234567812345678", message)
    assert e.hex() == key._crypt._sm3_z(message)  # gmssl's own Z_A, fixed to the default ID
    signature = key.sign(b"1234567812345678", message)
    assert key.verify(b"1234567812345678", message, signature)
    assert not key.verify(b"another id", message, signature)


def test_an_authority_binds_an_sm2_key_and_the_events_decode(world: World):
    c, account = world.client, world.spare_key
    certificate = bytes(range(256)) * 8  # 2,048 bytes: the largest the contract registers
    reg = registration(world, account.address, certificate=certificate)
    message = c.sm2_key_acceptance_message(ISSUER_A, account.address, reg.public_key, reg.distinguishing_id)
    assert len(message) == 66
    assert message[:2] == b"\x19\x01"
    digest = c.sm2_key_acceptance_digest(ISSUER_A, account.address, reg.public_key, reg.distinguishing_id)
    assert digest == keccak256(message)
    typed = sm2_key_acceptance_typed_data(
        issuer_id=ISSUER_A,
        key=account.address,
        public_key=reg.public_key,
        distinguishing_id=reg.distinguishing_id,
        chain_id=c.deployment.chain_id,
        trust_registry=c.trust.address,
    )
    assert (
        keccak256(
            b"\x19\x01" + encode_typed_data(full_message=typed).header + encode_typed_data(full_message=typed).body
        )
        == digest
    )
    assert digest != c.key_acceptance_digest(ISSUER_A, account.address)

    tx = c.add_sm2_key(world.authority_a, ISSUER_A, account, reg, valid_from=world.start)  # accepted here
    added, bound = tx.events
    assert added == KeyAdded(
        meta=added.meta, issuer_id=ISSUER_A, key=account.address, valid_from=world.start, valid_until=OPEN_END
    )
    assert bound == Sm2KeyBound(
        meta=bound.meta,
        issuer_id=ISSUER_A,
        key=account.address,
        public_key=reg.public_key,
        distinguishing_id=reg.distinguishing_id,
        proof=reg.proof,
        certificate=certificate,
    )
    assert c.get_sm2_key(account.address) == reg.key_hash == keccak256(reg.public_key + reg.distinguishing_id)
    assert c.get_sm2_key(world.key_a.address) is None
    # what a verifier does with the event: the proof verifies over the message, for this account only
    key = Sm2Key()
    key.public_key = bound.public_key
    key._crypt.public_key = bound.public_key.hex()
    assert key.verify(bound.distinguishing_id, message, bound.proof)
    other = c.sm2_key_acceptance_message(ISSUER_A, world.stranger.address, reg.public_key, reg.distinguishing_id)
    assert not key.verify(bound.distinguishing_id, other, bound.proof)
    # the same events come back from the chain's logs
    logged = [e for e in c.get_events(bound.meta.block_number) if isinstance(e, Sm2KeyBound)]
    assert logged == [bound]
    # an SM2-bound account anchors as any key
    batch = digests(3)
    anchored = c.anchor(account, batch)
    assert (anchored.key, anchored.issuer_id, anchored.count) == (account.address, ISSUER_A, 3)


def test_an_acceptance_signed_elsewhere_with_sign_typed_data_is_taken(world: World):
    c, account = world.client, world.spare_key
    reg = registration(world, account.address, distinguishing_id=b"ALICE123@YAHOO.COM")
    acceptance = eth_acceptance(world, account, ISSUER_A, account.address, reg)
    assert acceptance == c.sm2_key_acceptance(account, ISSUER_A, reg)  # RFC 6979: deterministic
    tx = c.add_sm2_key(world.authority_a, ISSUER_A, account.address, reg, valid_from=world.start, acceptance=acceptance)
    assert isinstance(tx.events[1], Sm2KeyBound)
    assert tx.events[1].distinguishing_id == b"ALICE123@YAHOO.COM"


def test_rotation_joins_and_leaves_the_sm2_suite(world: World):
    c = world.client
    reg = registration(world, world.spare_key.address)
    tx = c.rotate_sm2_key(world.key_a, ISSUER_A, world.key_a.address, world.spare_key, reg)  # by itself
    retired, added, bound, rotated = tx.events
    assert isinstance(retired, KeyRetired)
    assert retired.key == world.key_a.address
    assert isinstance(added, KeyAdded)
    assert added.key == world.spare_key.address
    assert isinstance(bound, Sm2KeyBound)
    assert (bound.key, bound.public_key) == (world.spare_key.address, reg.public_key)
    assert rotated == KeyRotated(
        meta=rotated.meta,
        issuer_id=ISSUER_A,
        old_key=world.key_a.address,
        new_key=world.spare_key.address,
        by_self=True,
    )
    assert c.get_rotation(world.key_a.address) == (world.spare_key.address, True, True)
    assert c.get_sm2_key(world.spare_key.address) == reg.key_hash
    # leaving: the SM2-bound key rotates itself to a plain key
    tx = c.rotate_key(world.spare_key, ISSUER_A, world.spare_key.address, world.stranger)
    assert [type(e) for e in tx.events] == [KeyRetired, KeyAdded, KeyRotated]
    assert c.get_sm2_key(world.stranger.address) is None
    assert c.get_sm2_key(world.spare_key.address) == reg.key_hash  # the old binding stays on record


def _raw_add(world: World, sender: object, reg: tuple[bytes, bytes, bytes, bytes], account: str) -> object:
    """addSm2Key sent as a client that skips the checks would send it."""
    c = world.client
    fn = c.trust.functions.addSm2Key(ISSUER_A, account, reg, world.start, OPEN_END, b"\x01" * 65)
    return c._transact(sender, fn, 600_000)  # type: ignore[arg-type]


def test_shape_refusals_of_the_contract_map_to_invalid_argument_errors(world: World):
    account = world.spare_key.address
    good = registration(world, account)
    x, y = int.from_bytes(good.public_key[:32], "big"), int.from_bytes(good.public_key[32:], "big")
    r = int.from_bytes(good.proof[:32], "big")
    pk, ident, proof = good.public_key, good.distinguishing_id, good.proof
    s = int.from_bytes(proof[32:], "big")

    def word(v: int) -> bytes:
        return v.to_bytes(32, "big")

    cases = [
        ((b"\x04" + pk, ident, proof, b""), "TrustRegistryInvalidSm2KeyLength", {"length": 65}),
        ((pk, b"i" * 65, proof, b""), "TrustRegistryInvalidSm2IdLength", {"length": 65}),
        ((pk, b"", proof, b""), "TrustRegistryInvalidSm2IdLength", {"length": 0}),
        ((pk, ident, proof[:63], b""), "TrustRegistryInvalidSm2ProofLength", {"length": 63}),
        ((pk, ident, proof, b"0" * 2049), "TrustRegistrySm2CertificateTooLong", {"length": 2049, "maximum": 2048}),
        ((word(SM2_P) + word(y), ident, proof, b""), "TrustRegistrySm2CoordinateOutOfRange", {"x": SM2_P, "y": y}),
        ((word(x) + word(y + 1), ident, proof, b""), "TrustRegistrySm2KeyNotOnCurve", {"x": x, "y": y + 1}),
        ((b"\x00" * 64, ident, proof, b""), "TrustRegistrySm2KeyNotOnCurve", {"x": 0, "y": 0}),
        ((pk, ident, word(r) + word(SM2_N), b""), "TrustRegistrySm2ProofOutOfRange", {"r": r, "s": SM2_N}),
        ((pk, ident, word(0) + proof[32:], b""), "TrustRegistrySm2ProofOutOfRange", {"r": 0, "s": s}),
    ]
    for raw, name, arguments in cases:
        with pytest.raises(InvalidArgumentError) as info:
            _raw_add(world, world.authority_a, raw, account)
        assert (info.value.error_name, info.value.arguments) == (name, arguments)
        assert explain(info.value).endswith(f"({name})")
        # and the client refuses the same registration before sending anything
        with pytest.raises(ConfigurationError):
            Sm2KeyRegistration(public_key=raw[0], distinguishing_id=raw[1], proof=raw[2], certificate=raw[3])
    assert world.client.get_key(account) is None
    assert "not a point of the SM2 curve" in explain(
        InvalidArgumentError("TrustRegistrySm2KeyNotOnCurve", {"x": 1, "y": 1})
    )


def test_acceptance_and_access_refusals_map_to_their_domain_errors(world: World):
    c, account = world.client, world.spare_key
    reg = registration(world, account.address)
    other = registration(world, account.address)
    bad = {
        "by another account": eth_acceptance(world, world.stranger, ISSUER_A, account.address, reg),
        "over another SM2 key": eth_acceptance(world, account, ISSUER_A, account.address, other),
        "for another issuer": eth_acceptance(world, account, ISSUER_B, account.address, reg),
        "the plain KeyAcceptance": c.key_acceptance(account, ISSUER_A),
    }
    for kind, acceptance in bad.items():
        with pytest.raises(Sm2KeyNotAcceptedError) as info:
            c.add_sm2_key(
                world.authority_a, ISSUER_A, account.address, reg, valid_from=world.start, acceptance=acceptance
            )
        assert isinstance(info.value, KeyNotAcceptedError | UnauthorizedError), kind
        assert info.value.arguments == {"issuer_id": ISSUER_A, "key": account.address, "key_hash": reg.key_hash}
        assert info.value.key_hash == reg.key_hash
        assert "has not accepted to be a key of this issuer bound to this SM2 key" in str(info.value)
        assert f"account {account.address} has not accepted" in explain(info.value)
    # a department (the issuer's own key), another region's authority, a stranger: not authorities
    for sender in (world.key_a, world.authority_b, world.stranger):
        with pytest.raises(UnauthorizedError) as info:
            c.add_sm2_key(sender, ISSUER_A, account, reg, valid_from=world.start)
        assert (info.value.error_name, info.value.arguments) == (
            "TrustRegistryNotRegionAuthority",
            {"region": REGION_A, "account": sender.address},
        )
    # rotation by someone who is neither the old key nor an authority
    for sender in (world.stranger, world.key_b, world.authority_b):
        with pytest.raises(UnauthorizedError) as info:
            c.rotate_sm2_key(sender, ISSUER_A, world.key_a.address, account, reg)
        assert info.value.error_name == "TrustRegistryNotIssuerOrAuthority"
    # an account in use
    with pytest.raises(ConflictError) as info:
        c.add_sm2_key(world.authority_a, ISSUER_A, world.key_b, registration(world, world.key_b.address), valid_from=0)
    assert info.value.arguments == {"key": world.key_b.address, "issuer_id": ISSUER_B}
    assert c.get_key(account.address) is None
    assert c.get_sm2_key(account.address) is None


def test_the_client_checks_registrations_and_arguments_before_sending(world: World):
    c = world.client
    good = registration(world, world.spare_key.address)
    refusals = {
        "64 bytes X || Y": {"public_key": b"\x04" + good.public_key},
        "1 to 64 bytes": {"distinguishing_id": b""},
        "r || s (not DER)": {"proof": b"\x30" * 70},
        "at most 2048 bytes": {"certificate": b"\x30" * 2049},
        "below the field prime": {"public_key": SM2_P.to_bytes(32, "big") + good.public_key[32:]},
        "not a point of the SM2 curve": {"public_key": good.public_key[:32] + (1).to_bytes(32, "big")},
        "[1, n - 1]": {"proof": b"\x00" * 32 + good.proof[32:]},
        "must be bytes": {"certificate": "pem text"},
    }
    for expected, change in refusals.items():
        fields = {
            "public_key": good.public_key,
            "proof": good.proof,
            "distinguishing_id": good.distinguishing_id,
            "certificate": b"",
        }
        fields.update(change)
        with pytest.raises(ConfigurationError, match=re.escape(expected)):
            Sm2KeyRegistration(**fields)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="Sm2KeyRegistration"):
        c.add_sm2_key(world.authority_a, ISSUER_A, world.spare_key, good.as_abi(), valid_from=0)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="not both"):
        c.add_sm2_key(world.authority_a, ISSUER_A, world.spare_key, good, valid_from=0, acceptance=b"\x01" * 65)
    with pytest.raises(ConfigurationError, match="needs its acceptance"):
        c.rotate_sm2_key(world.key_a, ISSUER_A, world.key_a.address, world.spare_key.address, good)
    with pytest.raises(ConfigurationError, match="at most 64 bytes"):
        c.sm2_key_acceptance_digest(ISSUER_A, world.spare_key.address, b"\x01" * 65)


def test_a_mirror_syncs_past_a_binding_and_keeps_the_accounts_window(world: World, tmp_path):
    """Consumers of key windows (the verifier's mirror) keep working: the SM2-bound account's
    KeyAdded and KeyRetired are indexed as any key's, and the new event breaks nothing."""
    c, account = world.client, world.spare_key
    c.add_sm2_key(world.authority_a, ISSUER_A, account, registration(world, account.address), valid_from=world.start)
    retired = c.retire_key(account, ISSUER_A, account.address)
    mirror = Mirror.at(tmp_path / "mirror.db", c.deployment, confirmations=1)
    try:
        report = mirror.sync(c)
        assert report.to_block == report.head
        window = mirror.index.key(account.address)
        assert window is not None
        assert (window.issuer_id, window.valid_from, window.valid_until) == (
            ISSUER_A,
            world.start,
            retired.events[0].valid_until,  # type: ignore[attr-defined]
        )
    finally:
        mirror.close()
