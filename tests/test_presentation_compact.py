"""The ``LC2:`` QR form: the same presentation as ``LC1:`` in fewer characters (GB 18030 text, raw
deflate with a pinned per-type dictionary, the random bytes after the stream), decoded as strictly
as ``LC1:``; every ``LC1:`` text keeps verifying with the same result."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import zlib

import base45
import cbor2
import pytest
from conftest import Issued
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc
from test_strict_decoder import ANY_ITEM, SAMPLES, _reference_from_item, _shared

from devkit.joint import seven_requests
from devkit.samples import SampleFactory
from registry.document._cbor import CBORFormatError
from registry.document._compact import CompactFormatError, read_body, unpack_text
from registry.document._dictionary import DICTIONARIES_SHA256, all_dictionaries, dictionary
from registry.document._inflate import deflate_raw
from registry.document.identifiers import FieldValueError, LicenseIdentifier
from registry.document.license import License
from registry.document.licensetypes import CATALOG, FieldKind, get_type, get_type_by_number
from registry.document.presentation import (
    _COMPACT_READERS,
    MAX_DECOMPRESSED,
    MalformedPresentationError,
    Presentation,
    decode_presentation,
    present,
)
from registry.document.qr import qr_info
from registry.document.suites import SignatureSuite
from verifier.pipeline import Outcome

#: The dictionaries are part of the format: an edit makes every LC2 text made with them unreadable.
PINNED = "a3e6368710b61eafeb11f506936137612b1b5c921fc4064e4f8ffdf5dea09f3c"


def _compact(number: int, struct: object, tail: bytes, *, zdict: bytes | None = None) -> str:
    body = bytes((number,)) + deflate_raw(cbor2.dumps(struct), dictionary(number) if zdict is None else zdict)
    return "LC2:" + base45.b45encode(body + tail).decode()


def _parts(text: str) -> tuple[int, list, bytes]:
    raw = base45.b45decode(text[4:])
    inflater = zlib.decompressobj(-15, zdict=dictionary(raw[0]))
    struct = inflater.decompress(raw[1:])
    assert inflater.eof
    return raw[0], cbor2.loads(struct), inflater.unused_data


def _licenses() -> list[License]:
    """A license of every type: the demo's samples and a joint opening's seven."""
    today = dt.date(2026, 12, 3)
    s = SampleFactory(2026, today=today)
    requests = [s.business_license(), s.food_permit(), s.construction_permit(), s.residence_permit()]
    applicant = "91310115MA1K4ABC0"
    requests += seven_requests(applicant + uscc.calc_check_digit(applicant), "上海临港星辰科技有限公司", today).values()
    issuer = "11110000MB0195560"
    issuer += uscc.calc_check_digit(issuer)
    out = []
    for i, req in enumerate(requests):
        ltype = get_type(req.license_type)
        start = req.valid_from if isinstance(req.valid_from, dt.date) else dt.date.fromisoformat(req.valid_from)
        out.append(
            License.create(
                license_type=ltype,
                license_id=LicenseIdentifier(ltype.code, issuer, 1000 + i, 1),
                valid_from=start,
                valid_to=req.valid_to,
                fields=req.fields,
                secret=bytes(range(i, i + 16)),
            )
        )
    return out


LICENSES = _licenses()


# -- the dictionaries --------------------------------------------------------------------------------


def test_the_dictionaries_are_pinned():
    assert hashlib.sha256(all_dictionaries()).hexdigest() == PINNED == DICTIONARIES_SHA256


def test_every_license_type_has_its_dictionary():
    for ltype in CATALOG.values():
        data = dictionary(ltype.number)
        assert 0 < len(data) <= 32 * 1024, ltype.code  # deflate reaches back 32 KiB at most
        assert data.decode("gb18030")  # the form text is carried in
    assert dictionary(0) == dictionary(len(CATALOG) + 1) == b""


def test_gb18030_gives_every_character_one_encoding_that_reads_back():
    for cp in range(0x110000):
        if 0xD800 <= cp < 0xE000:
            continue
        assert chr(cp).encode("gb18030").decode("gb18030") == chr(cp), hex(cp)
    for raw in (b"\x80", b"\xff", b"\xb1", b"\x81\x30\x81", b"\xe3\x32\x9a\x36"):
        with pytest.raises(FieldValueError, match="not valid GB 18030"):
            unpack_text(raw, "name")


# -- the same presentation, fewer characters ----------------------------------------------------------


@pytest.mark.parametrize("lic", LICENSES, ids=lambda lic: f"{lic.license_type.code}-{lic.header.license_id.serial}")
@pytest.mark.parametrize("suite", list(SignatureSuite), ids=lambda s: s.name)
def test_lc2_carries_the_same_presentation_as_lc1_in_fewer_characters(lic: License, suite: SignatureSuite):
    keys = list(lic.fields)
    for disclosed in (None, keys, [], keys[1::2]):
        p = present(lic, os.urandom(64), disclosed, suite=suite)
        old, new = p.to_text(form="LC1"), p.to_text()
        assert old.startswith("LC1:")
        assert new.startswith("LC2:")
        assert decode_presentation(new) == decode_presentation(old) == p
        assert decode_presentation(new).digest() == lic.digest
        assert len(new) < len(old) or not keys  # nothing disclosed: the random bytes dominate
        number, struct, _ = _parts(new)
        assert number == lic.license_type.number
        assert len(struct) == (6 if suite is SignatureSuite.SECP256K1 else 7)


def test_the_business_license_fits_version_12_by_default_and_17_in_full():
    lic = LICENSES[0]
    assert lic.license_type.code == "BL"
    default, full = (present(lic, os.urandom(64), d) for d in (None, list(lic.fields)))
    assert qr_info(default.to_text(form="LC1")).version == 13
    assert qr_info(default.to_text()).version <= 12
    assert qr_info(full.to_text(form="LC1")).version == 19
    assert qr_info(full.to_text()).version <= 17


def test_text_longer_in_gb18030_than_the_decoders_bound_is_carried_as_lc1():
    """CJK extension A takes four bytes in GB 18030 (three in UTF-8): 1,100 of them pass LC1's
    bound of 4,096 inflated bytes and not LC2's, so the issuer makes the LC1 form, which reads back."""
    lic = LICENSES[0]
    fields = {**lic.fields, "business_scope": "\u3400" * 1100}
    wide = License(lic.header, fields, lic.secret)
    p = present(wide, bytes(64), list(fields))
    text = p.to_text()
    assert text.startswith("LC1:")
    assert decode_presentation(text) == p
    narrow = present(
        License(lic.header, {**fields, "business_scope": "中" * 1100}, lic.secret), bytes(64), list(fields)
    )
    assert narrow.to_text().startswith("LC2:")  # the same length in GBK characters fits


def test_to_text_refuses_an_unknown_form():
    with pytest.raises(MalformedPresentationError, match="LC2 or LC1"):
        present(LICENSES[0], bytes(64)).to_text(form="LC3")  # type: ignore[arg-type]


# -- strict and bounded --------------------------------------------------------------------------------

_P = present(LICENSES[0], bytes(range(64)))
_NUMBER, _STRUCT, _TAIL = _parts(_P.to_text())


def _with(index: int, value: object) -> list:
    struct = list(_STRUCT)
    struct[index] = value
    return struct


def _name(raw: bytes) -> list:
    return _with(5, {**_STRUCT[5], 1: raw})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("LC2:", "after LC2: only base45 characters"),
        ("LC2:abc", "after LC2: only base45 characters"),
        ("LC2:ABCD", "impossible length"),
        ("LC2:GGW", "does not decode"),
        ("LC2:" + "A" * 1400, "at most 1400"),
        # the dictionary (type) byte: none such, and an LC1 payload (zlib header 0x78) behind LC2:
        ("LC2:" + base45.b45encode(b"\x00" + deflate_raw(b"\x80", b"")).decode(), "number 0 is not known"),
        ("LC2:" + base45.b45encode(b"\x0a" + deflate_raw(b"\x80", b"")).decode(), "number 10 is not known"),
        ("LC2:" + base45.b45encode(zlib.compress(_P.to_cbor(), 9)).decode(), "number 120 is not known"),
        # a zlib stream (header and checksum) where raw deflate belongs
        ("LC2:" + base45.b45encode(b"\x01" + zlib.compress(cbor2.dumps(_STRUCT), 9) + _TAIL).decode(), "raw deflate"),
        ("LC2:" + base45.b45encode(b"\x01\xff\xff\xff").decode(), "not valid raw deflate"),
        (
            "LC2:" + base45.b45encode(b"\x01" + deflate_raw(b"\x00" * (MAX_DECOMPRESSED * 50), dictionary(1))).decode(),
            "decompresses to more than 4096",
        ),
        ("LC2:" + base45.b45encode(b"\x01" + deflate_raw(cbor2.dumps(_STRUCT), dictionary(1))[:-4]).decode(), "trunc"),
        # the CBOR array
        (_compact(1, {"a": 1}, _TAIL), "array of 6 elements"),
        (_compact(1, _STRUCT[:5], _TAIL), "found an array of 5 elements"),
        (_compact(1, [*_STRUCT, 1, 1], _TAIL), "found an array of 8 elements"),
        (_compact(1, [*_STRUCT, 2], _TAIL), "signature suite code 2 is not known"),
        (_compact(1, _with(0, b"\x01" * 11), _TAIL), "12 bytes"),
        (_compact(1, _with(1, 0), _TAIL), "serial"),
        (_compact(1, _with(3, True), _TAIL), "first valid day"),
        (_compact(1, _with(4, 1), _TAIL), "before valid_from"),
        (_compact(1, _with(5, {99: b"x"}), _TAIL), "not a field of BL"),
        (_compact(1, _with(5, {3: 4, 1: _STRUCT[5][1]}), _TAIL), "strictly ascending"),
        (_compact(1, _name("北京市某某有限公司"), _TAIL), "must be GB 18030 text; found a text string"),
        (_compact(1, _name(b"\xb1\xb1\x80"), _TAIL), "not valid GB 18030"),
        (_compact(1, _name("e\u0301".encode("gb18030")), _TAIL), "canonical form"),
        (_compact(1, _name(b" abc"), _TAIL), "canonical form"),
        (_compact(1, _name(b"a\nb"), _TAIL), "control characters"),
        (_compact(1, _name(b""), _TAIL), "is empty"),
        (_compact(1, _name("名".encode("gb18030") * 101), _TAIL), "at most 100 characters"),
        # the bytes after the stream: salt nodes, hidden commitments, signature
        (_compact(1, _STRUCT, _TAIL[:-1]), "no such sequence"),
        (_compact(1, _STRUCT, _TAIL + b"\x00"), "no such sequence"),
        (_compact(1, _STRUCT, _TAIL[-63:]), "no such sequence"),
        (_compact(1, _STRUCT, _TAIL[:17] + _TAIL[:17] + _TAIL[17:]), "overlap"),
        (_compact(1, _STRUCT, b"\x13" + _TAIL[1:]), "impossible position"),
        (_compact(1, _STRUCT, b"\x42" + _TAIL[1:]), "no salt"),
        (_compact(1, _STRUCT, _TAIL[17:]), "no salt"),
        (_compact(1, _STRUCT, _TAIL[:17] + b"\x02" * 32 + b"\x01" * 32 + _TAIL[-64:]), "at most 9 fields"),
        (_compact(1, _with(5, {}), b"\x02" * 32 + b"\x01" * 32 + _TAIL[-64:]), "strictly ascending"),
    ],
)
def test_strict_decoding(text, message):
    with pytest.raises(MalformedPresentationError, match=message):
        decode_presentation(text)


def test_non_canonical_cbor_and_trailing_items_are_refused():
    body = cbor2.dumps(_STRUCT)
    serial = cbor2.dumps(_STRUCT[1])
    assert body[:2] == b"\x86\x4c"
    longer = body[:14] + b"\x1b" + _STRUCT[1].to_bytes(8, "big") + body[14 + len(serial) :]
    text = "LC2:" + base45.b45encode(b"\x01" + deflate_raw(longer, dictionary(1)) + _TAIL).decode()
    with pytest.raises(MalformedPresentationError, match="canonical"):
        decode_presentation(text)
    text = "LC2:" + base45.b45encode(b"\x01" + deflate_raw(body + b"\x00", dictionary(1)) + _TAIL).decode()
    with pytest.raises(MalformedPresentationError, match="1 bytes follow"):
        decode_presentation(text)


def test_the_same_text_read_with_another_types_dictionary_never_verifies(issued: Issued):
    for index in range(3):
        text = issued.text(index)
        number, struct, tail = _parts(text)
        for other in CATALOG.values():
            if other.number == number:
                continue
            wrong = _compact(number, struct, tail, zdict=dictionary(other.number))
            if wrong == text:
                continue  # the stream used no byte of the dictionary that differs
            assert issued.verifier.verify(wrong).status in (Outcome.MALFORMED, Outcome.TAMPERED)
            swapped = "LC2:" + base45.b45encode(bytes((other.number,)) + base45.b45decode(text[4:])[1:]).decode()
            assert issued.verifier.verify(swapped).status in (Outcome.MALFORMED, Outcome.TAMPERED)


def test_the_lc1_and_lc2_texts_of_a_license_verify_alike(issued: Issued):
    issued.department.revoke([issued.rows[5].license_id], reason=3)
    issued.state.sync()
    for index in (0, 1, 5):
        old, new = issued.text(index, form="LC1"), issued.text(index)
        a, b = issued.verifier.verify(old), issued.verifier.verify(new)
        assert a.status is b.status
        assert a.status is (Outcome.REVOKED if index == 5 else Outcome.VALID)
        assert (a.digest, a.disclosed, a.hidden_fields) == (b.digest, b.disclosed, b.hidden_fields)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(data=st.data())
def test_changed_values_never_verify(issued: Issued, data):
    """Change any element of the CBOR array, or any byte after the stream: never valid."""
    number, struct, tail = _parts(issued.text(data.draw(st.integers(0, 2))))
    expected = {Outcome.TAMPERED, Outcome.MALFORMED}
    if data.draw(st.booleans()):
        pos = data.draw(st.integers(0, len(tail) - 1))
        tail = tail[:pos] + bytes([tail[pos] ^ data.draw(st.integers(1, 255))]) + tail[pos + 1 :]
    else:
        index = data.draw(st.integers(0, len(struct) - 1))
        value = struct[index]
        if index == 0:  # the issuer's code: a change can make another valid code, of no registered issuer
            expected.add(Outcome.UNKNOWN_ISSUER)
        if isinstance(value, bytes):
            pos = data.draw(st.integers(0, len(value) - 1))
            struct[index] = value[:pos] + bytes([value[pos] ^ data.draw(st.integers(1, 255))]) + value[pos + 1 :]
        elif isinstance(value, int):
            struct[index] = value + data.draw(st.integers(1, 5))
        elif isinstance(value, dict):
            key = data.draw(st.sampled_from(sorted(value)))
            old = value[key]
            value[key] = old + 1 if isinstance(old, int) else old[:-2] + "改".encode("gb18030")
        else:
            struct[index] = 0  # an open end made a day
    status = issued.verifier.verify(_compact(number, struct, tail)).status
    assert status in expected, status


# -- the strict reader against a reference, as tests/test_strict_decoder.py does for LC1 ------------


def lc2_reference(number: int, struct: bytes, tail: bytes) -> Presentation | None:
    """The LC2 body read the lenient way: cbor2, the canonical re-encoding must give the same
    bytes, GB 18030 text decoded and encoded back, the tail split by trying every node count;
    then the LC1 reference decoder's checks on the LC1 item this makes. ``None`` when refused."""
    try:
        item = cbor2.loads(struct)
        if _shared(item) or cbor2.dumps(item) != struct:
            return None
    except Exception:  # noqa: BLE001 - any decoder failure is a refusal
        return None
    if number not in {t.number for t in CATALOG.values()} or not isinstance(item, list) or len(item) not in (6, 7):
        return None
    ltype = get_type_by_number(number)
    fields = item[5]
    if not isinstance(fields, dict):
        return None
    for key, value in list(fields.items()):
        spec = ltype.by_number.get(key) if isinstance(key, int) and not isinstance(key, bool) else None
        if spec is not None and spec.kind is FieldKind.TEXT:
            try:
                text = value.decode("gb18030") if isinstance(value, bytes) else None
            except UnicodeDecodeError:
                return None
            if text is None or text.encode("gb18030") != value:
                return None
            fields[key] = text
    splits = [n for n in range(17) if len(tail) - 64 - 17 * n >= 0 and (len(tail) - 64 - 17 * n) % 32 == 0]
    if len(splits) != 1:
        return None
    nodes_end = 17 * splits[0]
    lc1 = [1, number, *item[:5], fields, tail[:nodes_end], tail[nodes_end:-64], tail[-64:], *item[6:]]
    try:
        return _reference_from_item(lc1)
    except (MalformedPresentationError, FieldValueError):
        return None


def check_lc2_against_reference(number: int, struct: bytes, tail: bytes) -> None:
    try:
        strict: Presentation | None = Presentation(*read_body(number, struct, tail, _COMPACT_READERS))
    except (CompactFormatError, CBORFormatError, FieldValueError):
        strict = None
    reference = lc2_reference(number, struct, tail)
    assert strict == reference
    if strict is not None:  # accepted bytes are exactly what the encoder makes
        assert _parts(strict.to_text()) == (number, cbor2.loads(struct), tail)
        assert cbor2.dumps(_parts(strict.to_text())[1]) == struct


_LC2_PARTS = [_parts(p.to_text()) for p in SAMPLES]


@st.composite
def lc2_mutations(draw: st.DrawFn) -> tuple[int, bytes, bytes]:
    number, item, tail = draw(st.sampled_from(_LC2_PARTS))
    struct = bytearray(cbor2.dumps(item))
    how = draw(st.integers(0, 4))
    if how == 0:  # a byte of the CBOR array
        pos = draw(st.integers(0, len(struct) - 1))
        struct[pos] = draw(st.integers(0, 255))
    elif how == 1:  # an element or a field value replaced by any item
        item = list(item)
        if draw(st.booleans()) and item[5]:
            item[5] = {**item[5], draw(st.sampled_from(sorted(item[5]))): draw(ANY_ITEM)}
        else:
            item[draw(st.integers(0, len(item) - 1))] = draw(ANY_ITEM)
        struct = bytearray(cbor2.dumps(item, canonical=draw(st.booleans())))
    elif how == 2:  # bytes inserted or removed in the array
        pos = draw(st.integers(0, len(struct) - 1))
        if draw(st.booleans()):
            struct[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        else:
            del struct[pos : pos + draw(st.integers(1, 4))]
    elif how == 3:  # the tail's bytes or length
        tail = bytearray(tail)
        pos = draw(st.integers(0, len(tail) - 1))
        if draw(st.booleans()):
            tail[pos] = draw(st.integers(0, 255))
        else:
            del tail[pos : pos + draw(st.integers(1, 40))]
        tail = bytes(tail)
    else:  # another type (and dictionary) number
        number = draw(st.integers(0, 12))
    return number, bytes(struct), tail


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=lc2_mutations())
def test_lc2_reader_accepts_only_what_the_reference_accepts(case: tuple[int, bytes, bytes]):
    check_lc2_against_reference(*case)


def test_every_sample_matches_the_reference():
    for number, item, tail in _LC2_PARTS:
        check_lc2_against_reference(number, cbor2.dumps(item), tail)
        assert lc2_reference(number, cbor2.dumps(item), tail) is not None
