"""signer's recovery (``recover_address``, libsecp256k1's functions called directly) answers what
coincurve's own objects answer: the same address for every signature a key makes, ``None`` for
every signature that is not canonical (high s, r or s zero or out of range) or not recoverable.
The compiled recovery the verifier runs (``registry/document/_speedups.pyx``: the EIP-712 hash,
the recovery and the EIP-55 address in C) answers as ``signer.recover_signer`` does."""

from __future__ import annotations

import os

from coincurve import PrivateKey, PublicKey
from eth_utils.address import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.document import _accel
from signer import keccak256, recover_signer
from signer._eip712 import eip712_hash
from signer._secp256k1 import SECP256K1_N, recover_address, sign_compact
from verifier import pipeline

_COMPILED = _accel.compiled_module()

_HALF_N = SECP256K1_N // 2


def reference(message_hash: bytes, signature: bytes) -> str | None:
    """The recovery through coincurve's objects, as recover_address was first written."""
    if len(signature) != 64:
        return None
    r = int.from_bytes(signature[:32], "big")
    vs = int.from_bytes(signature[32:], "big")
    s = vs & ((1 << 255) - 1)
    if not (0 < r < SECP256K1_N and 0 < s <= _HALF_N):
        return None
    recoverable = signature[:32] + s.to_bytes(32, "big") + bytes((vs >> 255,))
    try:
        public = PublicKey.from_signature_and_message(recoverable, message_hash, hasher=None)
    except Exception:  # noqa: BLE001 - libsecp256k1 refuses unrecoverable signatures with various errors
        return None
    return to_checksum_address(keccak256(public.format(compressed=False)[1:])[12:])


_KEYS = [PrivateKey(keccak256(bytes([i]))) for i in range(4)]
_SPECIAL = st.sampled_from(
    [0, 1, _HALF_N - 1, _HALF_N, _HALF_N + 1, SECP256K1_N - 1, SECP256K1_N, SECP256K1_N + 1, 2**256 - 1]
)


@settings(max_examples=400, deadline=None)
@given(key=st.sampled_from(_KEYS), message=st.binary(min_size=32, max_size=32))
def test_every_signature_recovers_to_its_keys_address(key: PrivateKey, message: bytes):
    signature = sign_compact(key, message)
    expected = to_checksum_address(keccak256(key.public_key.format(compressed=False)[1:])[12:])
    assert recover_address(message, signature) == reference(message, signature) == expected


@settings(max_examples=1500, deadline=None)
@given(
    message=st.binary(min_size=31, max_size=33),
    r=_SPECIAL | st.integers(0, 2**256 - 1),
    s=_SPECIAL | st.integers(0, 2**255 - 1),
    parity=st.integers(0, 1),
    extra=st.sampled_from([b"", b"\x00"]),
)
def test_any_other_signature_is_answered_as_the_reference_answers_it(
    message: bytes, r: int, s: int, parity: int, extra: bytes
):
    signature = r.to_bytes(32, "big") + ((parity << 255) | (s % 2**255)).to_bytes(32, "big") + extra
    assert recover_address(message, signature) == reference(message, signature)
    flipped = bytearray(sign_compact(_KEYS[0], bytes(32)))
    flipped[r % 64] ^= 1 << (s % 8)
    assert recover_address(bytes(32), bytes(flipped)) == reference(bytes(32), bytes(flipped))


def compiled_recovery(domain: bytes, digest: bytes, signature: bytes) -> str | None:
    assert _COMPILED is not None, "the compiled hot path is not built"
    assert _COMPILED.SECP256K1, "the compiled recovery did not find libsecp256k1"
    answer: str | None = _COMPILED.recover_signer(domain, digest, signature)
    return answer


def test_the_verifier_runs_the_compiled_recovery():
    if os.environ.get("ELICENSE_PURE_PYTHON") == "1":
        assert pipeline._recover_signer is recover_signer
    else:
        assert _COMPILED is not None
        assert _COMPILED.SECP256K1
        assert pipeline._recover_signer is _COMPILED.recover_signer


@settings(max_examples=400, deadline=None)
@given(
    key=st.sampled_from(_KEYS), domain=st.binary(min_size=32, max_size=32), digest=st.binary(min_size=32, max_size=32)
)
def test_the_compiled_recovery_finds_every_signers_address(key: PrivateKey, domain: bytes, digest: bytes):
    signature = sign_compact(key, eip712_hash(domain, digest))
    expected = to_checksum_address(keccak256(key.public_key.format(compressed=False)[1:])[12:])
    assert compiled_recovery(domain, digest, signature) == recover_signer(domain, digest, signature) == expected


@settings(max_examples=1500, deadline=None)
@given(
    domain=st.binary(min_size=0, max_size=40),
    digest=st.binary(min_size=0, max_size=40),
    r=_SPECIAL | st.integers(0, 2**256 - 1),
    s=_SPECIAL | st.integers(0, 2**255 - 1),
    parity=st.integers(0, 1),
    extra=st.sampled_from([b"", b"\x00"]),
    flip=st.integers(0, 511),
)
def test_the_compiled_recovery_answers_any_other_signature_as_the_reference(
    domain: bytes, digest: bytes, r: int, s: int, parity: int, extra: bytes, flip: int
):
    signature = r.to_bytes(32, "big") + ((parity << 255) | (s % 2**255)).to_bytes(32, "big") + extra
    assert compiled_recovery(domain, digest, signature) == recover_signer(domain, digest, signature)
    flipped = bytearray(sign_compact(_KEYS[1], eip712_hash(domain, digest)))
    flipped[flip // 8] ^= 1 << (flip % 8)  # one bit of r, s or the parity: another signer, or none
    assert compiled_recovery(domain, digest, bytes(flipped)) == recover_signer(domain, digest, bytes(flipped))
