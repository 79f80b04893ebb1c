"""SM2 signatures: properties (Hypothesis) and the attacks a verifier must refuse: altered messages,
signatures, keys or identifiers; out-of-range values; keys off the curve; ECDSA on the SM2 curve."""

from __future__ import annotations

import hashlib
import pickle
import re

import pytest
from gmssl import sm2 as gm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signer import (
    DEFAULT_SM2_ID,
    SignerInputError,
    Sm2SigningKey,
    _sm2,
    check_sm2_public_key,
    check_sm2_signature,
    verify_sm2_signature,
)

KEYS = [Sm2SigningKey.generate(), Sm2SigningKey.generate("税务局".encode()), Sm2SigningKey.generate(b"x" * 64)]
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

keys = st.sampled_from(KEYS)
messages = st.binary(max_size=200)


def _table() -> dict[str, str]:
    return {
        "n": f"{_sm2.N:064x}",
        "p": f"{_sm2.P:064x}",
        "g": f"{_sm2.GX:064x}{_sm2.GY:064x}",
        "a": f"{_sm2.A:064x}",
        "b": f"{_sm2.B:064x}",
    }


def _ecdsa(scalar: int, digest: bytes) -> bytes:
    """ECDSA on the SM2 curve (gmssl's point multiplication): what must never pass as SM2."""
    k = int.from_bytes(hashlib.sha256(digest + scalar.to_bytes(32, "big")).digest(), "big") % (_sm2.N - 1) + 1
    table = _table()
    x1 = int(gm.CryptSM2(private_key=None, public_key="", ecc_table=table)._kg(k, table["g"])[:64], 16) % _sm2.N
    s = pow(k, -1, _sm2.N) * (int.from_bytes(digest, "big") + x1 * scalar) % _sm2.N
    return x1.to_bytes(32, "big") + s.to_bytes(32, "big")


@FAST
@given(key=keys, message=messages)
def test_round_trip(key, message):
    signature = key.sign(message)
    assert len(signature) == 64
    assert verify_sm2_signature(key.public_key, message, signature, key.distinguishing_id)


@FAST
@given(key=keys, message=messages.filter(bool), data=st.data())
def test_any_flipped_bit_of_the_message_fails(key, message, data):
    signature = key.sign(message)
    bit = data.draw(st.integers(0, 8 * len(message) - 1))
    altered = bytearray(message)
    altered[bit // 8] ^= 1 << (bit % 8)
    assert not verify_sm2_signature(key.public_key, bytes(altered), signature, key.distinguishing_id)


@FAST
@given(key=keys, message=messages, bit=st.integers(0, 511))
def test_any_flipped_bit_of_the_signature_fails(key, message, bit):
    signature = bytearray(key.sign(message))
    signature[bit // 8] ^= 1 << (bit % 8)
    assert not verify_sm2_signature(key.public_key, message, bytes(signature), key.distinguishing_id)


@FAST
@given(key=keys, message=messages, bit=st.integers(0, 511))
def test_any_flipped_bit_of_the_key_fails_or_is_refused(key, message, bit):
    signature = key.sign(message)
    public = bytearray(key.public_key)
    public[bit // 8] ^= 1 << (bit % 8)
    x, y = int.from_bytes(public[:32], "big"), int.from_bytes(public[32:], "big")
    if _sm2.is_on_curve(x, y):  # rare: the altered key is another point of the curve
        assert not verify_sm2_signature(bytes(public), message, signature, key.distinguishing_id)
    else:  # almost always: off the curve (or a coordinate not below p), refused outright
        with pytest.raises(SignerInputError, match=r"curve|prime"):
            verify_sm2_signature(bytes(public), message, signature, key.distinguishing_id)


@FAST
@given(key=keys, message=messages, other=st.binary(min_size=1, max_size=64))
def test_another_identifier_fails(key, message, other):
    signature = key.sign(message)
    if other != key.distinguishing_id:
        assert not verify_sm2_signature(key.public_key, message, signature, other)


@FAST
@given(key=keys, message=messages)
def test_ecdsa_on_the_sm2_curve_never_verifies(key, message):
    """The confusion ruled out: ECDSA with the same key over SM3(M), and over e = SM3(Z_A || M)."""
    scalar = int.from_bytes(key.secret_bytes(), "big")
    e = _sm2.message_digest(key.public_key, key.distinguishing_id, message)
    for digest in (_sm2.sm3(message), e):
        assert not verify_sm2_signature(key.public_key, message, _ecdsa(scalar, digest), key.distinguishing_id)


@FAST
@given(key=keys, message=messages)
def test_the_negated_s_twin_fails(key, message):
    """ECDSA's (r, n - s) malleability has no SM2 counterpart: the twin is not a signature."""
    signature = key.sign(message)
    s = int.from_bytes(signature[32:], "big")
    twin = signature[:32] + (_sm2.N - s).to_bytes(32, "big")
    assert not verify_sm2_signature(key.public_key, message, twin, key.distinguishing_id)


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, 1), (1, 0), (_sm2.N, 1), (1, _sm2.N), (2**256 - 1, 1), (1, 2**256 - 1)],
)
def test_out_of_range_r_or_s_is_refused(r, s):
    key = KEYS[0]
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert _sm2.decode_signature(signature) is None
    assert not verify_sm2_signature(key.public_key, b"m", signature)
    with pytest.raises(SignerInputError, match=r"\[1, n - 1\]"):
        check_sm2_signature(signature)


def test_the_public_wire_form_checks_pass_what_a_key_makes():
    key = KEYS[0]
    signature = key.sign(b"m")
    assert check_sm2_public_key(key.public_key) == key.public_key
    assert check_sm2_signature(signature) == signature
    for wrong in (signature[:63], signature + b"\x00", bytearray(signature), "0x" + signature.hex()):
        with pytest.raises(SignerInputError, match=re.escape("64 bytes r || s")):
            check_sm2_signature(wrong)


@pytest.mark.parametrize("length", [0, 63, 65, 128])
def test_signatures_of_the_wrong_length_fail(length):
    assert not verify_sm2_signature(KEYS[0].public_key, b"m", b"\x01" * length)


def test_non_bytes_signature_fails_and_non_bytes_message_is_refused():
    key = KEYS[0]
    assert not verify_sm2_signature(key.public_key, b"m", bytearray(key.sign(b"m")))  # type: ignore[arg-type]
    with pytest.raises(SignerInputError, match="bytes"):
        verify_sm2_signature(key.public_key, "m", key.sign(b"m"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("public_key", "error"),
    [
        (b"\x00" * 64, "not a point of the curve"),  # the point at infinity has no X || Y form
        (_sm2.GX.to_bytes(32, "big") + (_sm2.GY + 1).to_bytes(32, "big"), "not a point of the curve"),
        (_sm2.P.to_bytes(32, "big") + _sm2.GY.to_bytes(32, "big"), "not below the field prime"),
        (_sm2.GX.to_bytes(32, "big") + b"\xff" * 32, "not below the field prime"),
        (b"\x04" + KEYS[0].public_key, "64 bytes"),
        (KEYS[0].public_key[:63], "64 bytes"),
        ("0x" + KEYS[0].public_key.hex(), "64 bytes"),
    ],
    ids=["infinity", "y off the curve", "x is p", "y too large", "65 bytes with 04", "63 bytes", "hex text"],
)
def test_malformed_or_off_curve_public_keys_are_refused(public_key, error):
    with pytest.raises(SignerInputError, match=error):
        verify_sm2_signature(public_key, b"m", KEYS[0].sign(b"m"))
    with pytest.raises(SignerInputError, match=error):
        check_sm2_public_key(public_key)


@pytest.mark.parametrize("identifier", [b"", b"x" * 65, "1234567812345678", None])
def test_identifiers_out_of_shape_are_refused(identifier):
    with pytest.raises(SignerInputError, match="1 to 64 bytes"):
        verify_sm2_signature(KEYS[0].public_key, b"m", KEYS[0].sign(b"m"), identifier)
    with pytest.raises(SignerInputError, match="1 to 64 bytes"):
        Sm2SigningKey.generate(identifier)


def test_the_default_identifier():
    assert DEFAULT_SM2_ID == b"1234567812345678"
    assert Sm2SigningKey.generate().distinguishing_id == DEFAULT_SM2_ID


@pytest.mark.parametrize("scalar", [0, _sm2.N - 1, _sm2.N, 2**256 - 1])
def test_private_scalars_out_of_range_are_refused(scalar):
    with pytest.raises(SignerInputError, match="1 to n - 2"):
        Sm2SigningKey.from_secret(scalar.to_bytes(32, "big"))


def test_signatures_are_randomised_and_messages_bounded():
    key = KEYS[0]
    assert key.sign(b"m") != key.sign(b"m")
    assert len(key.sign(b"x" * 4096)) == 64
    with pytest.raises(SignerInputError, match="at most 4096"):
        key.sign(b"x" * 4097)


def test_the_secret_never_shows_and_is_never_pickled():
    key = KEYS[0]
    secret = key.secret_bytes().hex()
    assert secret not in repr(key)
    assert secret not in str(key)
    assert key.public_key.hex() in repr(key)
    with pytest.raises(TypeError, match="keystore"):
        pickle.dumps(key)


def test_public_key_of_a_secret_matches_and_z_a_is_per_identifier():
    key = KEYS[1]
    again = Sm2SigningKey.from_secret(key.secret_bytes(), key.distinguishing_id)
    assert again.public_key == key.public_key
    assert _sm2.z_a(key.public_key, b"a") != _sm2.z_a(key.public_key, b"b")


def test_bytes_like_keys_and_identifiers_get_the_library_error():
    key = KEYS[0]
    with pytest.raises(SignerInputError, match="64 bytes"):
        verify_sm2_signature(bytearray(key.public_key), b"m", key.sign(b"m"))  # type: ignore[arg-type]
    with pytest.raises(SignerInputError, match="1 to 64 bytes"):
        verify_sm2_signature(key.public_key, b"m", key.sign(b"m"), bytearray(b"id"))  # type: ignore[arg-type]
