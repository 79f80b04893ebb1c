"""The batch signature check (``signer/_secp256k1_batch.c``, :func:`signer._secp256k1.signatures_agree`)
and the grouped verification built on it (:meth:`Verifier.check_many`, the batch endpoint's path).

The check must say True only when every signature recovers to exactly its expected key, against
a forger who chooses the signatures: attacks first (a pair whose errors cancel in an unweighted
sum, non-canonical and off-curve signatures, zero weights), then the property against the
one-by-one recovery, then the grouped verifier's answers against ``check`` text by text, through
a key rotation and forged licenses in the same group."""

from __future__ import annotations

import dataclasses
import importlib
import os
import random

import pytest
from _sm2_world import make_world
from coincurve import PrivateKey
from conftest import DEPARTMENT_USCC, Issued, make_issued
from eth_account.signers.local import LocalAccount
from hypothesis import given, settings
from hypothesis import strategies as st

from devkit.devchain import increase_time
from devkit.samples import SampleFactory
from registry import dev_accounts
from registry.document.presentation import decode_presentation
from registry.issuer.department import Department
from registry.issuer.store import IssuerStore
from signer import LicenseSigner, Sm2SigningKey
from signer._eip712 import eip712_hash
from signer._secp256k1 import (
    BATCH_BUILT,
    SECP256K1_N,
    recover_key,
    sign_compact,
    signatures_agree,
)
from verifier import _signers as signers_module
from verifier.pipeline import Outcome
from verifier.results import VerificationResult
from verifier.state import EventIndex

_P = 2**256 - 2**32 - 977  # the field's prime
_secp256k1_batch = importlib.import_module("signer._secp256k1_batch") if BATCH_BUILT else None
_HALF_N = SECP256K1_N // 2


def _public(secret: int) -> bytes:
    return PrivateKey(secret.to_bytes(32, "big")).public_key.format(compressed=False)[1:]


def _keys(n: int, seed: int) -> list[tuple[PrivateKey, bytes]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        key = PrivateKey(rng.randrange(1, SECP256K1_N).to_bytes(32, "big"))
        out.append((key, key.public_key.format(compressed=False)[1:]))
    return out


def _signed(n: int, seed: int, n_keys: int = 3) -> tuple[list[bytes], list[bytes], list[bytes]]:
    keys = _keys(n_keys, seed)
    rng = random.Random(seed + 1)
    hashes = [rng.randbytes(32) for _ in range(n)]
    signatures = [sign_compact(keys[i % n_keys][0], h) for i, h in enumerate(hashes)]
    return hashes, signatures, [keys[i % n_keys][1] for i in range(n)]


def test_the_batch_check_is_built():
    # scripts/setup fetches libsecp256k1's source and builds it; without it every group is recovered
    # one by one (the same answers, at the recovery's cost): this says which one ran
    assert BATCH_BUILT


# -- attacks -----------------------------------------------------------------------------------------


def _cancelling_pair(secret: int) -> tuple[list[bytes], list[bytes]]:
    """Two signatures by the key ``secret`` over two messages, neither valid, whose errors cancel
    when the equations are summed without weights: (z1/s1) G + (r1/s1) Q - R1 = -((z2/s2) G +
    (r2/s2) Q - R2). Built with the key's secret (every point a known multiple of G)."""
    rng = random.Random(secret)
    z1, z2 = rng.randrange(SECP256K1_N), rng.randrange(SECP256K1_N)
    # the second: an arbitrary point R2 = k2 G and an arbitrary s2, so an error e2 G
    while True:
        k2 = rng.randrange(1, SECP256K1_N)
        point = PrivateKey(k2.to_bytes(32, "big")).public_key.format(compressed=False)
        r2, odd2 = int.from_bytes(point[1:33], "big"), point[64] & 1
        s2 = rng.randrange(1, _HALF_N)
        if r2 < SECP256K1_N:
            break
    e2 = ((z2 + r2 * secret) * pow(s2, -1, SECP256K1_N) - k2) % SECP256K1_N
    assert e2 != 0
    # the first: R1 = k1 G and s1 with (z1 + r1 d) / s1 - k1 = -e2
    while True:
        k1 = rng.randrange(1, SECP256K1_N)
        point = PrivateKey(k1.to_bytes(32, "big")).public_key.format(compressed=False)
        r1, odd1 = int.from_bytes(point[1:33], "big"), point[64] & 1
        if r1 >= SECP256K1_N or (k1 - e2) % SECP256K1_N == 0:
            continue
        s1 = (z1 + r1 * secret) * pow((k1 - e2) % SECP256K1_N, -1, SECP256K1_N) % SECP256K1_N
        if 0 < s1 <= _HALF_N:
            break
    signatures = [
        r.to_bytes(32, "big") + ((odd << 255) | s).to_bytes(32, "big") for r, s, odd in ((r1, s1, odd1), (r2, s2, odd2))
    ]
    return [z1.to_bytes(32, "big"), z2.to_bytes(32, "big")], signatures


def test_a_pair_whose_errors_cancel_in_a_plain_sum_is_refused():
    secret = 0x1234567890ABCDEF1234567890ABCDEF1234567890ABCDEF
    key = _public(secret)
    hashes, signatures = _cancelling_pair(secret)
    # neither is a signature by the key
    assert recover_key(hashes[0], signatures[0]) != key
    assert recover_key(hashes[1], signatures[1]) != key
    joined = b"".join(hashes), b"".join(signatures), bytes(4), key
    # with equal weights the errors cancel: the construction is right, and weights are needed
    assert _secp256k1_batch.agree(*joined, (1).to_bytes(16, "big") * 2) is True
    # with weights the forger does not know, refused
    for _ in range(20):
        assert signatures_agree(hashes, signatures, [key, key]) is False


def test_a_zero_weight_cannot_hide_a_signature():
    hashes, signatures, keys = _signed(4, 1, n_keys=1)
    signatures[2] = signatures[1]  # not a signature over hashes[2]
    args = b"".join(hashes), b"".join(signatures), bytes(8), keys[0]
    weights = [os.urandom(16) for _ in range(4)]
    assert _secp256k1_batch.agree(*args, b"".join(weights)) is False
    weights[2] = bytes(16)  # the failing one weighted zero would drop out of the sum
    assert _secp256k1_batch.agree(*args, b"".join(weights)) is False


def test_the_high_s_twin_of_a_valid_signature_is_refused():
    """(r, n - s) with the parity flipped is the same signature with s in the upper half: it
    recovers to the same key, and EIP-2 (as the recovery here reads it) refuses it. In the compact
    form the parity takes the top bit, so only s just above n/2 can be written: the signature is
    built for such an s (the message hash chosen to fit, the key's secret known)."""
    secret = 0xC0FFEE * 2**200 + 12345
    key = _public(secret)
    rng = random.Random(9)
    while True:
        k = rng.randrange(1, SECP256K1_N)
        point = PrivateKey(k.to_bytes(32, "big")).public_key.format(compressed=False)
        r, odd = int.from_bytes(point[1:33], "big"), point[64] & 1
        low = _HALF_N - rng.randrange(2**100)  # n - low is above n/2 and below 2**255
        if r < SECP256K1_N:
            break
    z = (low * k - r * secret) % SECP256K1_N  # so that low = (z + r d) / k
    hashes = [z.to_bytes(32, "big")]
    valid = r.to_bytes(32, "big") + ((odd << 255) | low).to_bytes(32, "big")
    twin = r.to_bytes(32, "big") + (((odd ^ 1) << 255) | (SECP256K1_N - low)).to_bytes(32, "big")
    assert recover_key(hashes[0], valid) == key
    assert signatures_agree(hashes, [valid], [key]) is True
    assert recover_key(hashes[0], twin) is None
    assert signatures_agree(hashes, [twin], [key]) is False


def _non_canonical(signature: bytes) -> dict[str, bytes]:
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big") & ((1 << 255) - 1)
    odd = signature[32] >> 7
    high = SECP256K1_N - s  # the same signature with s in the upper half and the parity flipped
    no_point = next(x for x in range(5, 1000) if pow(x**3 + 7, (_P - 1) // 2, _P) != 1)  # no y for this x
    return {
        "high s": r.to_bytes(32, "big") + (((odd ^ 1) << 255) | high).to_bytes(32, "big"),
        "r zero": bytes(32) + signature[32:],
        "r = n": SECP256K1_N.to_bytes(32, "big") + signature[32:],
        "r all ones": b"\xff" * 32 + signature[32:],
        "s zero": signature[:32] + bytes([signature[32] & 0x80]) + bytes(31),
        "s = n/2 + 1": signature[:32] + ((odd << 255) | (_HALF_N + 1)).to_bytes(32, "big"),
        "r not an x": no_point.to_bytes(32, "big") + signature[32:],
        "parity flipped": signature[:32] + bytes([signature[32] ^ 0x80]) + signature[33:],
        "short": signature[:63],
    }


@pytest.mark.parametrize("case", list(_non_canonical(bytes(64))))
def test_signatures_the_recovery_refuses_are_refused_in_a_batch(case: str):
    hashes, signatures, keys = _signed(30, 2)
    assert signatures_agree(hashes, signatures, keys)
    changed = _non_canonical(signatures[17])[case]
    assert recover_key(hashes[17], changed) != keys[17]
    signatures[17] = changed
    assert signatures_agree(hashes, signatures, keys) is False


def test_malformed_arguments_are_refused_with_what_was_expected():
    hashes, signatures, keys = _signed(2, 3, n_keys=1)
    good = b"".join(hashes), b"".join(signatures), bytes(4), keys[0], os.urandom(32)
    assert _secp256k1_batch.agree(*good) is True
    with pytest.raises(ValueError, match="32-byte hashes"):
        _secp256k1_batch.agree(good[0][:-1], *good[1:])
    with pytest.raises(ValueError, match="32-byte hashes"):
        _secp256k1_batch.agree(*good[:4], good[4][:-1])
    off_curve = keys[0][:32] + (int.from_bytes(keys[0][32:], "big") ^ 1).to_bytes(32, "big")
    with pytest.raises(ValueError, match="not a point on secp256k1"):
        _secp256k1_batch.agree(*good[:3], off_curve, good[4])
    with pytest.raises(ValueError, match="not below p"):
        _secp256k1_batch.agree(*good[:3], b"\xff" * 64, good[4])
    assert _secp256k1_batch.agree(*good[:2], b"\x01\x00" * 2, keys[0], good[4]) is False  # no key 1
    with pytest.raises(ValueError, match="one message hash and one key"):
        signatures_agree(hashes, signatures, keys[:1])


# -- the property: the batch says what recovering each says ------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 40),
    n_keys=st.integers(1, 4),
    seed=st.integers(0, 2**32),
    changes=st.lists(st.tuples(st.integers(0, 39), st.sampled_from(["byte", "key", "hash", "swap"])), max_size=3),
)
def test_the_batch_agrees_exactly_when_every_recovery_does(n, n_keys, seed, changes):
    hashes, signatures, keys = _signed(n, seed, n_keys)
    other = _keys(1, seed + 7)[0][1]
    for position, how in changes:
        i = position % n
        if how == "byte":
            changed = bytearray(signatures[i])
            changed[(seed + i) % 64] ^= 1 << (seed % 8)
            signatures[i] = bytes(changed)
        elif how == "key":
            keys[i] = other
        elif how == "hash":
            hashes[i] = bytes([hashes[i][0] ^ 1]) + hashes[i][1:]
        else:
            j = (i + 1) % n
            signatures[i], signatures[j] = signatures[j], signatures[i]
    expected = all(recover_key(h, s) == k for h, s, k in zip(hashes, signatures, keys, strict=True))
    assert signatures_agree(hashes, signatures, keys) is expected


# -- the grouped verifier answers as check does, text by text -----------------------------------------


@pytest.fixture
def world(tmp_path) -> Issued:
    return make_issued(tmp_path, count=12)


def _resigned(w: Issued, text: str, key: PrivateKey) -> str:
    """The license re-signed by ``key`` (another department's, or any)."""
    p = decode_presentation(text)
    signature = sign_compact(key, eip712_hash(w.verifier.domain, p.digest()))
    return dataclasses.replace(p, signature=signature).to_text()


def _same_answers(w: Issued, texts: list[object], now: float) -> list[VerificationResult]:
    grouped = w.verifier.check_many(texts, now=now)
    for text, result in zip(texts, grouped, strict=True):
        assert result.to_dict() == w.verifier.check(text, now=now).to_dict(), text
    return grouped  # type: ignore[return-value]


def test_a_group_of_valid_forged_altered_and_malformed_texts_answers_as_one_by_one(world: Issued):
    w = world
    rogue = PrivateKey(dev_accounts(w.client.w3)[3].key)
    valid = [w.text(i) for i in range(12)]
    p = decode_presentation(valid[1])
    name = next(k for k, v in p.disclosed.items() if isinstance(v, str))
    altered = dataclasses.replace(p, disclosed=dict(p.disclosed, **{name: "某某公司"})).to_text()
    odd = [_resigned(w, valid[2], rogue), altered, "LC2:###", "", None, 42, "LB1:not a bundle"]
    odd += [dataclasses.replace(p, signature=s).to_text() for s in _non_canonical(p.signature).values() if len(s) == 64]
    texts: list[object] = valid + odd
    random.Random(5).shuffle(texts)
    now = w.client.w3.eth.get_block("latest")["timestamp"] + 60
    _same_answers(w, valid, now)  # learns the department's key; the check confirms the others
    for _ in range(2):  # forged and altered texts make the check fail: every one recovered, same answers
        grouped = _same_answers(w, texts, now)
    statuses = [r.status for r in grouped]
    assert statuses.count(Outcome.VALID) == 12
    assert Outcome.TAMPERED in statuses
    assert Outcome.MALFORMED in statuses


def _counting_recoveries(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many signatures the group path recovers one by one (the real recovery, counted)."""
    calls = [0]
    real = signers_module.recover_key

    def counted(message_hash: bytes, signature: bytes) -> bytes | None:
        calls[0] += 1
        return real(message_hash, signature)

    monkeypatch.setattr(signers_module, "recover_key", counted)
    return calls


def _rotate(w: Issued) -> LocalAccount:
    """The department's key rotated to dev account 5 by its region authority."""
    assert w.department.account is not None
    new_key = dev_accounts(w.client.w3)[5]
    w.client.rotate_key(w.authority, w.department.issuer_id, w.department.account.address, new_key)
    increase_time(w.client.w3, 5)
    return new_key


def _rotate_and_issue(w: Issued, tmp_path, count: int) -> tuple[LocalAccount, list[str]]:
    """The department's key rotated to dev account 5 by its authority, and ``count`` licenses
    issued and anchored with the new key (their QR texts); the state synced."""
    new_key = _rotate(w)
    d = w.client.deployment
    rotated = Department(
        issuer_uscc=DEPARTMENT_USCC,
        store=IssuerStore.at(tmp_path / "rotated.db"),
        signer=LicenseSigner(new_key, chain_id=d.chain_id, license_registry=d.license_registry),
        client=w.client,
        account=new_key,
    )
    rows = rotated.issue_many([SampleFactory(40 + i).business_license() for i in range(count)])
    rotated.anchor_pending()
    w.state.sync()
    return new_key, [rotated.presentation(r.license_id).to_text() for r in rows]


def test_licenses_of_a_rotated_key_and_of_the_new_one_in_one_group(world: Issued, tmp_path, monkeypatch):
    w = world
    calls = _counting_recoveries(monkeypatch)
    now = w.client.w3.eth.get_block("latest")["timestamp"] + 60
    texts = [w.text(i) for i in range(12)]
    _same_answers(w, texts, now)
    assert calls[0] == 1  # the first license's key is learnt; the other eleven are confirmed together
    # the department rotates to a new key and issues with it; what the old key anchored stays valid
    assert w.department.account is not None
    old_address = w.department.account.address
    new_key, fresh = _rotate_and_issue(w, tmp_path, 6)
    rogue = PrivateKey(dev_accounts(w.client.w3)[3].key)
    now = w.client.w3.eth.get_block("latest")["timestamp"] + 60
    # a stock of licenses of both keys: each is expected to be signed by the key that anchored it
    calls[0] = 0
    mixed: list[object] = [*texts[:6], *fresh, *texts[6:]]
    grouped = _same_answers(w, mixed, now)
    assert calls[0] == 1  # the new key learnt from its first license; the rest in one check
    assert [r.status for r in grouped] == [Outcome.VALID] * 18
    assert {r.signer for r in grouped[6:12]} == {new_key.address}
    assert {r.signer for r in grouped[:6] + grouped[12:]} == {old_address}
    # licenses re-signed by a key of no issuer (a forger's), and a forger's altered signature, in a
    # group: that group is recovered one by one, with the same answers
    calls[0] = 0
    forged = [_resigned(w, fresh[0], rogue), _resigned(w, texts[3], rogue)]
    grouped = _same_answers(w, [*mixed, *forged], now)
    assert calls[0] == len(mixed) + len(forged)
    assert [r.status for r in grouped[-2:]] == [Outcome.TAMPERED] * 2
    # and nothing the forger sent changed what the next group expects
    calls[0] = 0
    _same_answers(w, mixed, now)
    assert calls[0] == 0


def test_a_digest_anchored_by_two_keys_and_one_signed_by_a_key_that_did_not_anchor_it(world: Issued, monkeypatch):
    """After a rotation from key A to key B: a license anchored by A and signed by B is
    ``key_not_valid`` (``anchor_key_differs``); a digest anchored by A and again by B, signed by B,
    is valid. Each answers as one by one; the first makes its group fail the check, the second is
    recovered on its own (either key may have signed it) and lets its group pass."""
    w = world
    calls = _counting_recoveries(monkeypatch)
    new_key = _rotate(w)
    differs = _resigned(w, w.text(0), PrivateKey(new_key.key))
    twice = _resigned(w, w.text(1), PrivateKey(new_key.key))
    w.client.anchor(new_key, [decode_presentation(twice).digest()])
    increase_time(w.client.w3, 5)
    w.state.sync()
    now = w.client.w3.eth.get_block("latest")["timestamp"] + 60
    valid = [w.text(i) for i in range(2, 12)]
    _same_answers(w, [*valid, twice], now)  # learns both keys
    calls[0] = 0
    grouped = _same_answers(w, [*valid, twice], now)
    assert grouped[-1].status is Outcome.VALID
    assert grouped[-1].signer == new_key.address
    assert calls[0] == 1  # the twice-anchored one alone
    calls[0] = 0
    grouped = _same_answers(w, [*valid, differs], now)
    assert grouped[-1].status is Outcome.KEY_NOT_VALID
    assert grouped[-1].reasons[0].code == "anchor_key_differs"
    assert calls[0] == len(valid) + 1  # expected to be signed by A: the check fails, each recovered


def test_remembered_keys_stay_within_their_bound(world: Issued, tmp_path, monkeypatch):
    w = world
    monkeypatch.setattr(signers_module, "MAX_REMEMBERED", 1)
    new_key, fresh = _rotate_and_issue(w, tmp_path, 4)
    now = w.client.w3.eth.get_block("latest")["timestamp"] + 60
    mixed: list[object] = [*[w.text(i) for i in range(4)], *fresh]
    for _ in range(3):
        _same_answers(w, mixed, now)
        assert list(w.verifier._group_signers._keys) == [new_key.address]  # the last learnt only


def test_sm2_and_secp256k1_licenses_in_one_group_answer_as_one_by_one(tmp_path):
    """SM2 licenses are left out of the batch check (their signer is found among candidate keys);
    the secp256k1 ones around them keep their own signers, in order; a secp256k1 signature by an
    SM2-bound account (one suite per key) stays tampered."""
    world = make_world(tmp_path)
    account, key = world.accounts[3], Sm2SigningKey.generate()
    world.bind(account, key)
    sm2 = world.sm2_department(account, key)
    plain = world.secp_department(world.setup.key)
    thief = world.secp_department(account)
    texts: list[object] = []
    for department in (sm2, plain, plain, sm2, plain, thief, sm2, plain):
        row = world.issue(department)
        texts.append(department.presentation(row.license_id).to_text())
    verifier, _ = world.verifier()
    now = world.now() + 60
    for _ in range(2):
        grouped = verifier.check_many(texts, now=now)
        for text, result in zip(texts, grouped, strict=True):
            assert result.to_dict() == verifier.check(text, now=now).to_dict()
    assert [r.status for r in grouped] == [Outcome.VALID] * 5 + [Outcome.TAMPERED] + [Outcome.VALID] * 2


def test_a_fault_on_one_license_fails_only_that_license_and_a_fault_finding_signers_fails_none(
    world: Issued, monkeypatch
):
    """A fault deep in the pipeline for one license answers that license ``malformed`` in a group as
    alone; a fault while finding the group's signers sends every license to its own recovery."""
    w = world
    texts = [w.text(i) for i in range(8)]
    target = decode_presentation(texts[3]).digest()
    real_status = EventIndex.status

    def status(self, issuer_id: bytes, digest: bytes):
        if digest == target:
            raise OverflowError("a value out of range")
        return real_status(self, issuer_id, digest)

    monkeypatch.setattr(EventIndex, "status", status)
    now = w.client.w3.eth.get_block("latest")["timestamp"] + 60
    grouped = _same_answers(w, texts, now)
    assert [r.status for r in grouped] == [Outcome.VALID] * 3 + [Outcome.MALFORMED] + [Outcome.VALID] * 4

    def broken(*_: object) -> list[str | None]:
        raise MemoryError("finding signers failed")

    monkeypatch.setattr(w.verifier._group_signers, "find", broken)
    grouped = _same_answers(w, texts, now)
    assert [r.status for r in grouped] == [Outcome.VALID] * 3 + [Outcome.MALFORMED] + [Outcome.VALID] * 4
