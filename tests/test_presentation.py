"""Presentations: selective disclosure keeps the digest; decoding is strict and bounded; no change
to a QR text ever verifies as valid."""

from __future__ import annotations

import io
import zlib

import base45
import cbor2
import pytest
from conftest import Issued
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from registry.document.presentation import (
    MAX_DECOMPRESSED,
    MAX_TEXT_LENGTH,
    MalformedPresentationError,
    decode_presentation,
)
from registry.document.qr import qr_info, render_png, render_svg
from verifier.pipeline import Outcome
from verifier.qr import QrImageError, read_qr_image


def _text(item: object) -> str:
    return "LC1:" + base45.b45encode(zlib.compress(cbor2.dumps(item), 9)).decode()


def test_digest_is_the_same_whatever_is_disclosed(issued: Issued):
    row = issued.rows[1]
    lic = issued.department.license_of(row)
    keys = list(lic.fields)
    for disclosed in ([], keys, keys[:1], keys[::2], keys[1:], None):
        p = issued.department.presentation(row.license_id, disclosed)
        decoded = decode_presentation(p.to_text())
        assert decoded.digest() == row.digest
        shown = [s.key for s in lic.license_type.fields if s.disclose_by_default] if disclosed is None else disclosed
        assert set(decoded.disclosed) == set(shown) & set(keys)
        assert len(decoded.hidden) == len(keys) - len(decoded.disclosed)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_disclosures_round_trip(issued: Issued, data):
    row = issued.rows[data.draw(st.integers(0, len(issued.rows) - 1))]
    keys = sorted(row.fields)
    chosen = data.draw(st.lists(st.sampled_from(keys), unique=True))
    text = issued.department.presentation(row.license_id, chosen).to_text()
    decoded = decode_presentation(text)
    assert decoded.digest() == row.digest
    assert set(decoded.disclosed) == set(chosen)
    assert decoded.to_text() == text
    assert issued.verifier.verify(text).status is Outcome.VALID


def test_business_license_qr_fits_version_15_and_reads_back(issued: Issued):
    index = next(i for i, r in enumerate(issued.rows) if r.type_code == "BL")
    text = issued.text(index)
    info = qr_info(text)
    assert info.version <= 15
    assert info.error == "M"
    assert read_qr_image(render_png(text)) == text
    assert render_svg(text).startswith(b"<svg")


def test_image_errors():
    with pytest.raises(QrImageError, match="empty"):
        read_qr_image(b"")
    with pytest.raises(QrImageError, match="not a readable image"):
        read_qr_image(b"\x89PNG\r\n\x1a\nnot really")
    blank = io.BytesIO()
    Image.new("L", (200, 200), 255).save(blank, format="PNG")
    with pytest.raises(QrImageError, match="no QR code"):
        read_qr_image(blank.getvalue())
    with pytest.raises(QrImageError, match="at most"):
        read_qr_image(b"\x00" * (10 * 1024 * 1024 + 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "text starting with LC2: or LC1:"),
        ("", "must start with LC2: or LC1:"),
        ("HC1:ABC", "must start with LC2: or LC1:"),
        ("LC3:ABC", "version 'LC3:' is not supported; this verifier reads LC2: and LC1:"),
        ("LC1:", "only base45 characters"),
        ("LC1:abc", "only base45 characters"),
        ("LC1:ABCD", "impossible length"),
        ("LC1:" + "A" * (MAX_TEXT_LENGTH), "at most 1400"),
        ("LC1:GGW", "does not decode"),
        ("LC1:" + base45.b45encode(b"not zlib").decode(), "not valid zlib"),
        (
            "LC1:" + base45.b45encode(zlib.compress(b"\x00" * (MAX_DECOMPRESSED * 50), 9)).decode(),
            "decompresses to more than",
        ),
        ("LC1:" + base45.b45encode(zlib.compress(cbor2.dumps([1]), 9)[:-3]).decode(), "truncated"),
        ("LC1:" + base45.b45encode(zlib.compress(b"\xff\xff", 9)).decode(), "not valid CBOR"),
        (_text({"a": 1}), "array of 11 elements"),
        (_text([2, 1, b"", 1, 1, 0, None, {}, b"", b"", b""]), "format version 2"),
        (_text([1, 99, b"", 1, 1, 0, None, {}, b"", b"", b""]), "number 99 is not known"),
        (_text([1, 1, b"\x01" * 11, 1, 1, 0, None, {}, b"", b"", b""]), "12 bytes"),
    ],
)
def test_strict_decoding(text, message):
    with pytest.raises(MalformedPresentationError, match=message):
        decode_presentation(text)


def _tamper_item(issued: Issued, change) -> str:
    item = cbor2.loads(zlib.decompress(base45.b45decode(issued.text(1, form="LC1")[4:])))
    change(item)
    return _text(item)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda item: item.__setitem__(3, 0), "serial"),
        (lambda item: item.__setitem__(7, {99: "x"}), "not a field of"),
        (lambda item: item.__setitem__(7, {1: 5}), "name"),
        (lambda item: item.__setitem__(8, item[8] + item[8][:17]), "overlap"),
        (lambda item: item.__setitem__(8, bytes([0x13]) + item[8][1:]), "impossible position"),
        (lambda item: item.__setitem__(8, b""), "no salt"),
        (lambda item: item.__setitem__(9, b"\x01" * 31), "32-byte entries"),
        (
            lambda item: (item[7].pop(max(item[7])), item.__setitem__(9, b"\x02" * 32 + b"\x01" * 32)),
            "strictly ascending",
        ),
        (lambda item: item.__setitem__(10, b"\x01" * 65), "64 bytes"),
        (lambda item: item.__setitem__(5, True), "first valid day"),
        (lambda item: item.__setitem__(6, 1), "before valid_from"),
    ],
)
def test_malformed_content_is_refused_before_signature_work(issued: Issued, change, message):
    text = _tamper_item(issued, change)
    with pytest.raises(MalformedPresentationError, match=message):
        decode_presentation(text)
    assert issued.verifier.verify(text).status is Outcome.MALFORMED


def test_non_canonical_cbor_is_refused(issued: Issued):
    raw = zlib.decompress(base45.b45decode(issued.text(1, form="LC1")[4:]))
    # re-encode the format version 1 as a two-byte integer: same value, other bytes
    assert raw[:2] == b"\x8b\x01"
    text = "LC1:" + base45.b45encode(zlib.compress(b"\x8b\x18\x01" + raw[2:], 9)).decode()
    with pytest.raises(MalformedPresentationError, match="canonical"):
        decode_presentation(text)


ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_any_changed_character_is_tampered_or_malformed(issued: Issued, data):
    text = issued.text(data.draw(st.integers(0, 2)), form=data.draw(st.sampled_from(["LC2", "LC1"])))
    position = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.sampled_from(ALPHABET + "abc\u00e9\u4e2d"))
    if replacement == text[position]:
        return
    changed = text[:position] + replacement + text[position + 1 :]
    status = issued.verifier.verify(changed).status
    if status is Outcome.VALID:
        # the unused padding bits of the deflate stream's last byte are ignored by every inflater:
        # such a text still carries exactly the signed payload, byte for byte
        assert decode_presentation(changed) == decode_presentation(text), (position, replacement)
        return
    assert status in (Outcome.TAMPERED, Outcome.MALFORMED), (position, replacement, status)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_truncated_extended_or_garbage_never_valid(issued: Issued, data):
    text = issued.text(0, form=data.draw(st.sampled_from(["LC2", "LC1"])))
    kind = data.draw(st.sampled_from(["truncate", "extend", "garbage"]))
    if kind == "truncate":
        candidate = text[: data.draw(st.integers(0, len(text) - 1))]
    elif kind == "extend":
        candidate = text + data.draw(st.text(alphabet=ALPHABET, min_size=1, max_size=30))
    else:
        candidate = data.draw(st.one_of(st.text(max_size=2000), st.binary(max_size=100).map(repr)))
    result = issued.verifier.verify(candidate)
    assert result.status is not Outcome.VALID
    assert result.reasons


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_changed_cbor_values_never_verify(issued: Issued, data):
    """Change any decoded element (not only characters): still never valid."""
    item = cbor2.loads(zlib.decompress(base45.b45decode(issued.text(2, form="LC1")[4:])))
    index = data.draw(st.sampled_from([1, 3, 4, 5, 6, 7, 8, 9, 10]))
    value = item[index]
    if isinstance(value, bytes) and value:
        pos = data.draw(st.integers(0, len(value) - 1))
        item[index] = value[:pos] + bytes([value[pos] ^ data.draw(st.integers(1, 255))]) + value[pos + 1 :]
    elif isinstance(value, int) and not isinstance(value, bool):
        item[index] = value + data.draw(st.integers(1, 5))
    elif isinstance(value, dict) and value:
        key = data.draw(st.sampled_from(sorted(value)))
        old = value[key]
        value[key] = old + "改" if isinstance(old, str) else (old + 1 if isinstance(old, int) else old[:-1] + b"\x00")
    else:
        return
    status = issued.verifier.verify(_text(item)).status
    assert status in (Outcome.TAMPERED, Outcome.MALFORMED), (index, status)
