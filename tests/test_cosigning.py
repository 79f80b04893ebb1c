"""Co-signing keys (BLS12-381, docs/joint.md): the attacks first (rogue keys, wrong aggregates, bad
encodings, hostile input), then arkworks against py-ecc's reference byte for byte, then keystores."""

from __future__ import annotations

import hashlib
import json
import pickle
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py_arkworks_bls12381 import G1Point, G2Point, Scalar
from py_ecc.bls import G2ProofOfPossession as Reference
from py_ecc.bls.g2_primitives import G2_to_signature, pubkey_to_G1, signature_to_G2, subgroup_check
from py_ecc.bls.hash_to_curve import hash_to_field_FQ2, map_to_curve_G2
from py_ecc.optimized_bls12_381 import add, normalize

from signer import (
    CO_SIGNING_KIND,
    CoSigningKey,
    KeystoreError,
    SignerInputError,
    WrongPasswordError,
    aggregate_signatures,
    co_signing_key_id,
    create_co_signing_keystore,
    create_keystore,
    keccak256,
    load_account,
    load_co_signing_key,
    public_key_to_eip2537,
    signature_to_eip2537,
    verify_co_signatures,
    verify_proof_of_possession,
)
from signer._bls import (
    CURVE_ORDER,
    DST_POP,
    DST_SIG,
    FIELD_MODULUS,
    decode_public_key,
    decode_public_key_eip2537,
    decode_signature,
    decode_signature_eip2537,
)

P = FIELD_MODULUS
MESSAGE = keccak256(b"a bundle digest")
FAST = 2**14
PASSWORD = "correct horse battery"


def key(label: str) -> CoSigningKey:
    return CoSigningKey.from_secret(
        (int.from_bytes(keccak256(label.encode()), "big") % CURVE_ORDER).to_bytes(32, "big")
    )


VICTIM, OTHER = key("victim department"), key("other department")


def _g1_off_subgroup() -> bytes:
    """Compressed encoding of a point on the G1 curve outside the prime-order subgroup."""
    x = 1
    while True:
        rhs = (x**3 + 4) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs and not G1Point.from_compressed_bytes_unchecked(_compress_g1(x, y)).is_in_subgroup():
            return _compress_g1(x, y)
        x += 1


def _g1_off_curve() -> bytes:
    x = 1
    while True:
        rhs = (x**3 + 4) % P
        if pow(rhs, (P - 1) // 2, P) != 1:
            return _compress_g1(x, 0)
        x += 1


def _compress_g1(x: int, y: int) -> bytes:
    raw = bytearray(x.to_bytes(48, "big"))
    raw[0] |= 0x80 | (0x20 if y > (P - 1) // 2 else 0)
    return bytes(raw)


def _g2_off_subgroup() -> bytes:
    """A curve point of G2 without the cofactor cleared (SSWU and the isogeny only): not in the subgroup."""
    u0, _ = hash_to_field_FQ2(b"off subgroup", 2, DST_SIG, hashlib.sha256)
    return G2_to_signature(map_to_curve_G2(u0))


def _g2_off_curve() -> bytes:
    for c0 in range(1, 100):
        raw = bytearray(96)
        raw[48:] = c0.to_bytes(48, "big")
        raw[0] |= 0x80
        try:
            G2Point.from_compressed_bytes_unchecked(bytes(raw))
        except ValueError:
            return bytes(raw)
    raise AssertionError("no x without a curve point")


# -- attacks -----------------------------------------------------------------------------------


def test_rogue_key_forges_a_plain_aggregate_but_cannot_prove_possession():
    """pk_rogue = g1*x - pk_victim makes a 'joint' signature alone; its proof of possession fails."""
    x = 0x1234567890ABCDEF
    rogue_point = G1Point() * Scalar(x) - decode_public_key(VICTIM.public_key)
    rogue = rogue_point.to_compressed_bytes()
    forged = (G2Point.hash_to_curve(MESSAGE, DST_SIG) * Scalar(x)).to_compressed_bytes()
    # the attack works against FastAggregateVerify alone, in both implementations
    assert verify_co_signatures([VICTIM.public_key, rogue], MESSAGE, forged)
    assert Reference.FastAggregateVerify([VICTIM.public_key, rogue], MESSAGE, forged)
    # the proofs the attacker can make (with x, or the victim's proof replayed) fail
    attempts = [
        (G2Point.hash_to_curve(rogue, DST_POP) * Scalar(x)).to_compressed_bytes(),
        VICTIM.proof_of_possession(),
        forged,
    ]
    for proof in attempts:
        assert not verify_proof_of_possession(rogue, proof)
        assert not Reference.PopVerify(rogue, proof)


def test_a_proof_of_possession_is_bound_to_its_key_and_its_domain():
    assert verify_proof_of_possession(VICTIM.public_key, VICTIM.proof_of_possession())
    assert not verify_proof_of_possession(OTHER.public_key, VICTIM.proof_of_possession())
    # a signature of the key's bytes under the signing DST is not a proof (separate domains)
    assert not verify_proof_of_possession(VICTIM.public_key, VICTIM.sign(VICTIM.public_key))
    # and a proof is not a signature of the key's bytes
    assert not verify_co_signatures([VICTIM.public_key], VICTIM.public_key, VICTIM.proof_of_possession())


def test_wrong_aggregates_fail():
    both = aggregate_signatures([VICTIM.sign(MESSAGE), OTHER.sign(MESSAGE)])
    keys = [VICTIM.public_key, OTHER.public_key]
    assert verify_co_signatures(keys, MESSAGE, both)
    assert not verify_co_signatures(keys, MESSAGE, VICTIM.sign(MESSAGE))  # one signature missing
    assert not verify_co_signatures(keys, keccak256(b"another"), both)  # another message
    assert not verify_co_signatures([VICTIM.public_key], MESSAGE, both)  # a key missing
    assert not verify_co_signatures([*keys, key("third").public_key], MESSAGE, both)  # a key too many
    twice = aggregate_signatures([VICTIM.sign(MESSAGE), VICTIM.sign(MESSAGE)])
    assert not verify_co_signatures(keys, MESSAGE, twice)
    assert not verify_co_signatures(keys, MESSAGE, bytes([0xC0]) + bytes(95))  # infinity


def test_keys_that_cancel_out_verify_nothing():
    """pk and -pk sum to infinity: with the infinity signature the pairing equation holds, but the
    aggregate key fails KeyValidate, as in the reference."""
    negated = bytes([VICTIM.public_key[0] ^ 0x20]) + VICTIM.public_key[1:]
    infinity = bytes([0xC0]) + bytes(95)
    assert not verify_co_signatures([VICTIM.public_key, negated], MESSAGE, infinity)
    assert not Reference.FastAggregateVerify([VICTIM.public_key, negated], MESSAGE, infinity)


BAD_KEYS = [
    (b"", "must be 48 bytes, got 0"),
    (VICTIM.public_key[:47], "must be 48 bytes, got 47"),
    (VICTIM.public_key + b"\x00", "must be 48 bytes, got 49"),
    ("ab" * 48, "must be 48 bytes, got str"),
    (bytes([VICTIM.public_key[0] & 0x7F]) + VICTIM.public_key[1:], "compressed form"),
    (bytes([0xC0]) + bytes(47), "must not be the point at infinity"),
    (bytes([0xE0]) + bytes(47), "infinity is encoded 0xc0"),
    (bytes([0xC0]) + bytes(46) + b"\x01", "infinity is encoded 0xc0"),
    (_compress_g1(P, 0), "not below the field modulus"),
    (bytes([VICTIM.public_key[0] ^ 0x20]) + VICTIM.public_key[1:], None),  # the other root: -pk, a valid key
    (_g1_off_curve(), "not a point of the BLS12-381 G1 curve"),
    (_g1_off_subgroup(), "not in the prime-order subgroup of G1"),
]


@pytest.mark.parametrize(("data", "error"), BAD_KEYS, ids=[str(e) for _, e in BAD_KEYS])
def test_public_key_decoding_is_strict(data, error):
    if error is None:
        assert decode_public_key(data) == -decode_public_key(VICTIM.public_key)
        assert Reference.KeyValidate(data)
        return
    if isinstance(data, bytes):
        assert not Reference.KeyValidate(data)  # the reference refuses it too
    for call in (
        lambda: co_signing_key_id(data),
        lambda: public_key_to_eip2537(data),
        lambda: verify_co_signatures([VICTIM.public_key, data], MESSAGE, VICTIM.sign(MESSAGE)),
        lambda: verify_proof_of_possession(data, VICTIM.proof_of_possession()),
    ):
        with pytest.raises(SignerInputError, match=error):
            call()


BAD_SIGNATURES = [
    (VICTIM.sign(MESSAGE)[:95], "must be 96 bytes, got 95"),
    (bytes([VICTIM.sign(MESSAGE)[0] & 0x7F]) + VICTIM.sign(MESSAGE)[1:], "compressed form"),
    (bytes([0xC0]) + bytes(94) + b"\x01", "infinity is encoded 0xc0"),
    (bytes([0x80]) + bytes(47) + P.to_bytes(48, "big"), "not below the field modulus"),
    (bytes([0x80 | (P + 1) >> 376]) + (P + 1).to_bytes(48, "big")[1:] + bytes(48), "not below the field modulus"),
    (_g2_off_curve(), "not a point of the BLS12-381 G2 curve"),
    (_g2_off_subgroup(), "not in the prime-order subgroup of G2"),
]


@pytest.mark.parametrize(("data", "error"), BAD_SIGNATURES, ids=[e for _, e in BAD_SIGNATURES])
def test_signature_decoding_is_strict(data, error):
    for call in (
        lambda: aggregate_signatures([VICTIM.sign(MESSAGE), data]),
        lambda: verify_co_signatures([VICTIM.public_key], MESSAGE, data),
        lambda: verify_proof_of_possession(VICTIM.public_key, data),
        lambda: signature_to_eip2537(data),
    ):
        with pytest.raises(SignerInputError, match=error):
            call()


def test_eip2537_decoding_is_strict():
    pk, sig = VICTIM.public_key_eip2537, signature_to_eip2537(VICTIM.sign(MESSAGE))
    assert decode_public_key_eip2537(pk).to_compressed_bytes() == VICTIM.public_key
    assert decode_signature_eip2537(sig).to_compressed_bytes() == VICTIM.sign(MESSAGE)
    x, y = normalize(pubkey_to_G1(_g1_off_subgroup()))
    off = bytes(16) + x.n.to_bytes(48, "big") + bytes(16) + y.n.to_bytes(48, "big")
    cases = [
        (decode_public_key_eip2537, pk[:127], "must be 128 bytes"),
        (decode_public_key_eip2537, b"\x01" + pk[1:], "16 zero bytes and a field element below p"),
        (decode_public_key_eip2537, pk[:16] + P.to_bytes(48, "big") + pk[64:], "below p"),
        (decode_public_key_eip2537, bytes(128), "must not be the point at infinity"),
        (decode_public_key_eip2537, pk[:-1] + bytes([pk[-1] ^ 1]), "not a point of the BLS12-381 G1 curve"),
        (decode_public_key_eip2537, off, "not in the prime-order subgroup of G1"),
        (decode_signature_eip2537, sig[:255], "must be 256 bytes"),
        (decode_signature_eip2537, sig[:-1] + bytes([sig[-1] ^ 1]), "not a point of the BLS12-381 G2 curve"),
    ]
    for decode, data, error in cases:
        with pytest.raises(SignerInputError, match=error):
            decode(data)
    assert decode_signature_eip2537(bytes(256)) == G2Point.identity()


def test_hostile_sizes_and_types_are_refused():
    with pytest.raises(SignerInputError, match="1 to 16"):
        verify_co_signatures([], MESSAGE, VICTIM.sign(MESSAGE))
    with pytest.raises(SignerInputError, match="1 to 16"):
        verify_co_signatures([VICTIM.public_key] * 17, MESSAGE, VICTIM.sign(MESSAGE))
    with pytest.raises(SignerInputError, match="1 to 16"):
        aggregate_signatures([])
    with pytest.raises(SignerInputError, match="must be a list"):
        aggregate_signatures(VICTIM.sign(MESSAGE))
    with pytest.raises(SignerInputError, match="at most 1024 bytes"):
        VICTIM.sign(bytes(1025))
    with pytest.raises(SignerInputError, match="must be bytes"):
        VICTIM.sign("text")  # type: ignore[arg-type]
    for secret in (bytes(32), CURVE_ORDER.to_bytes(32, "big"), b"\xff" * 32):
        with pytest.raises(SignerInputError, match="from 1 to r - 1"):
            CoSigningKey.from_secret(secret)
    with pytest.raises(SignerInputError, match="must be 32 bytes, got 31"):
        CoSigningKey.from_secret(bytes(31))


def test_the_secret_never_shows():
    k = CoSigningKey.generate()
    secret = k.secret_bytes()
    for text in (repr(k), str(k), f"{k}"):
        assert secret.hex() not in text
        assert str(int.from_bytes(secret, "big")) not in text
        assert k.key_id.hex() in text
    with pytest.raises(TypeError, match="not pickled"):
        pickle.dumps(k)


def test_generated_keys_differ_and_prove_possession():
    a, b = CoSigningKey.generate(), CoSigningKey.generate()
    assert a.public_key != b.public_key
    assert verify_proof_of_possession(a.public_key, a.proof_of_possession())


# -- arkworks against the reference ------------------------------------------------------------

secrets_st = st.integers(min_value=1, max_value=CURVE_ORDER - 1)
messages_st = st.binary(max_size=64)


def _eip2537_reference_g1(pk: bytes) -> bytes:
    x, y = normalize(pubkey_to_G1(pk))
    return b"".join(bytes(16) + c.n.to_bytes(48, "big") for c in (x, y))


def _eip2537_reference_g2(sig: bytes) -> bytes:
    x, y = normalize(signature_to_G2(sig))
    return b"".join(bytes(16) + c.to_bytes(48, "big") for c in (*x.coeffs, *y.coeffs))


@settings(max_examples=4, deadline=None)
@given(secret=secrets_st, message=messages_st)
def test_key_signature_and_proof_match_the_reference(secret, message):
    k = CoSigningKey.from_secret(secret.to_bytes(32, "big"))
    assert k.public_key == Reference.SkToPk(secret)
    assert k.public_key_eip2537 == _eip2537_reference_g1(k.public_key) == public_key_to_eip2537(k.public_key)
    assert k.key_id == keccak256(Reference.SkToPk(secret)) == co_signing_key_id(k.public_key)
    signature = k.sign(message)
    assert signature == Reference.Sign(secret, message)
    assert signature_to_eip2537(signature) == _eip2537_reference_g2(signature)
    proof = k.proof_of_possession()
    assert proof == Reference.PopProve(secret)
    assert verify_proof_of_possession(k.public_key, proof) is Reference.PopVerify(k.public_key, proof) is True


@settings(max_examples=3, deadline=None)
@given(secrets=st.lists(secrets_st, min_size=1, max_size=4), message=messages_st, flip=st.booleans())
def test_aggregate_and_verify_match_the_reference(secrets, message, flip):
    keys = [CoSigningKey.from_secret(s.to_bytes(32, "big")) for s in secrets]
    signatures = [k.sign(message) for k in keys]
    aggregate = aggregate_signatures(signatures)
    assert aggregate == Reference.Aggregate(signatures)
    checked = message + b"!" if flip else message
    pks = [k.public_key for k in keys]
    expected = Reference.FastAggregateVerify(pks, checked, aggregate)
    assert expected is (not flip)
    assert verify_co_signatures(pks, checked, aggregate) is expected


def _reference_accepts_signature(data: bytes) -> bool:
    try:
        return bool(subgroup_check(signature_to_G2(data)))
    except (ValueError, AssertionError):
        return False


def _accepts(decode, data: bytes) -> bool:
    try:
        decode(data)
    except SignerInputError:
        return False
    return True


@settings(max_examples=40, deadline=None)
@given(bit=st.integers(min_value=0, max_value=48 * 8 - 1))
def test_mutated_public_keys_are_refused_exactly_when_the_reference_refuses_them(bit):
    data = bytearray(VICTIM.public_key)
    data[bit // 8] ^= 0x80 >> (bit % 8)
    assert _accepts(decode_public_key, bytes(data)) is Reference.KeyValidate(bytes(data))


@settings(max_examples=25, deadline=None)
@given(bit=st.integers(min_value=0, max_value=96 * 8 - 1))
def test_mutated_signatures_are_refused_exactly_when_the_reference_refuses_them(bit):
    data = bytearray(VICTIM.sign(MESSAGE))
    data[bit // 8] ^= 0x80 >> (bit % 8)
    assert _accepts(decode_signature, bytes(data)) is _reference_accepts_signature(bytes(data))


def test_point_sums_match_the_reference():
    """The arkworks sum of two keys is py-ecc's sum (an independent check of the group law)."""
    a, b = pubkey_to_G1(VICTIM.public_key), pubkey_to_G1(OTHER.public_key)
    total = decode_public_key(VICTIM.public_key) + decode_public_key(OTHER.public_key)
    x, y = normalize(add(a, b))
    assert total.to_xy_bytes_be() == x.n.to_bytes(48, "big") + y.n.to_bytes(48, "big")


# -- keystores ---------------------------------------------------------------------------------


def test_co_signing_keystore_round_trip(tmp_path):
    path = tmp_path / "keys" / "cosign.json"
    k = create_co_signing_keystore(path, PASSWORD, scrypt_n=FAST)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    document = json.loads(text)
    assert document["kind"] == CO_SIGNING_KIND == "bls12-381-g1"
    assert document["publicKey"] == k.public_key.hex()
    assert "address" not in document
    assert document["crypto"]["kdf"] == "scrypt"
    assert k.secret_bytes().hex() not in text
    loaded = load_co_signing_key(path, PASSWORD)
    assert loaded.public_key == k.public_key
    assert loaded.sign(MESSAGE) == k.sign(MESSAGE)
    given_key = key("stored")
    assert create_co_signing_keystore(tmp_path / "b.json", PASSWORD, key=given_key, scrypt_n=FAST) is given_key
    assert load_co_signing_key(tmp_path / "b.json", PASSWORD).key_id == given_key.key_id
    with pytest.raises(KeystoreError, match="never overwritten"):
        create_co_signing_keystore(path, PASSWORD, scrypt_n=FAST)


def test_co_signing_keystore_refuses_wrong_password_kind_and_tampering(tmp_path):
    path = tmp_path / "cosign.json"
    create_co_signing_keystore(path, PASSWORD, scrypt_n=FAST)
    with pytest.raises(WrongPasswordError, match="does not open"):
        load_co_signing_key(path, PASSWORD + "x")
    with pytest.raises(KeystoreError, match="holds a 'bls12-381-g1' key, not a secp256k1 signing key"):
        load_account(path, PASSWORD)
    secp = tmp_path / "secp.json"
    create_keystore(secp, PASSWORD, scrypt_n=FAST)
    with pytest.raises(KeystoreError, match="holds a secp256k1 signing key, not a co-signing key"):
        load_co_signing_key(secp, PASSWORD)
    document = json.loads(path.read_text())
    for member, value, error in (
        ("kind", "ed25519", "holds a 'ed25519' key"),
        ("publicKey", OTHER.public_key.hex(), "records public key"),
    ):
        altered = tmp_path / f"altered-{member}.json"
        altered.write_text(json.dumps({**document, member: value}))
        with pytest.raises(KeystoreError, match=error):
            load_co_signing_key(altered, PASSWORD)
    with pytest.raises(KeystoreError, match="scrypt_n"):
        create_co_signing_keystore(tmp_path / "weak.json", PASSWORD, scrypt_n=2**10)
