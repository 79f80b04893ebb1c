"""The compiled hot path (registry/document/_speedups.pyx) is built, runs, and gives exactly what
the pure-Python reference gives: the same bytes for every input, the same error for every bad one.

Compared on random data with Hypothesis: base45 decoding, Keccak-256, salt derivation and field
commitments (against the pure verifier path and against the definitions), the digest, and the
license identifier's check character (against python-stdnum). A run with the compiled path
switched off (``ELICENSE_PURE_PYTHON=1``) gives the same verification results as one with it on.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import base45
import cbor2
import pytest
from conftest import Issued
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum.iso7064 import mod_37_36
from test_digest_fast import licenses
from test_presentation_compact import _LC2_PARTS, lc2_mutations

from devkit.samples import make_uscc
from registry.document import _accel, _base45
from registry.document import license as license_module
from registry.document import presentation as presentation_module
from registry.document._cbor import CBORFormatError, StrictReader
from registry.document._compact import CompactFormatError, read_body, split_body
from registry.document.identifiers import FieldValueError, pack_uscc
from registry.document.license import (
    License,
    SaltNode,
    commitment,
    cover_nodes,
    derive_salts,
    license_digest,
    python_commitments_of,
    python_header_digest,
)
from registry.document.licensetypes import FieldKind, get_type_by_number
from registry.document.presentation import (
    MalformedPresentationError,
    Presentation,
    decode_payload,
    decode_presentation,
    present,
)
from registry.document.suites import SignatureSuite
from signer import keccak256
from verifier.results import DisclosedField

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


def compiled():
    module = _accel.compiled_module()
    assert module is not None, (
        "the compiled hot path is not built: run scripts/setup (it installs the project, which compiles "
        "registry/document/_speedups.pyx)"
    )
    return module


def test_the_compiled_path_is_built_and_is_the_one_the_verifier_runs():
    module = compiled()
    assert _accel.COMPILED
    assert license_module.commitments_of is module.commitments_of
    assert _base45.b45decode is module.b45decode
    assert _accel.path_name() == "compiled"


def _outcome(function, argument):
    try:
        return ("ok", function(argument))
    except ValueError as exc:
        return ("error", str(exc))


@SETTINGS
@given(st.binary(max_size=600))
def test_base45_decodes_what_the_reference_decodes(data: bytes):
    text = base45.b45encode(data).decode()
    assert compiled().b45decode(text) == _base45.reference_b45decode(text) == data


@SETTINGS
@given(
    st.one_of(
        st.text(st.sampled_from(ALPHABET), max_size=40),  # groups over 0xFFFF, lengths of every residue
        st.text(max_size=12),  # any character, non-ASCII included
        st.text(st.sampled_from(ALPHABET + "abc\x00é中"), max_size=12),
    )
)
def test_base45_refuses_what_the_reference_refuses_with_the_same_message(text: str):
    assert _outcome(compiled().b45decode, text) == _outcome(_base45.reference_b45decode, text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("GGW", "invalid base45 group"),  # 65535 + 1 over three characters
        ("::", "invalid base45 group"),  # 2024 > 255 over two
        ("ABCD", "invalid base45 length"),
        ("AB c", "invalid base45 character"),
        ("AB\u00c9", "invalid base45 character"),
    ],
)
def test_base45_errors_say_what_was_wrong(text: str, message: str):
    with pytest.raises(ValueError, match=message):
        compiled().b45decode(text)


@SETTINGS
@given(st.binary(max_size=400))
def test_keccak_equals_the_reference(data: bytes):
    assert compiled().keccak256(data) == keccak256(data)


@SETTINGS
@given(lic=licenses(), data=st.data())
def test_commitments_and_digest_equal_the_pure_path_and_the_definitions(lic: License, data: st.DataObject):
    keys = list(lic.fields)
    disclosed = data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]))
    p = present(lic, bytes(64), disclosed)
    positions = {s.key: s.number - 1 for s in lic.license_type.fields}
    salts = derive_salts(p.nodes)
    reference = [commitment(salts[positions[k]], k, v) for k, v in p.disclosed.items()]
    assert compiled().commitments_of(p.nodes, p.disclosed, positions) == reference
    assert python_commitments_of(p.nodes, p.disclosed, positions) == reference
    everything = compiled().commitments_of([SaltNode(0, 0, lic.secret)], lic.fields, positions)
    assert everything == list(lic.commitments.values())
    assert license_module.header_digest(lic.header, list(everything)) == lic.digest
    assert python_header_digest(lic.header, list(everything)) == license_digest(lic.header, everything)
    assert p.digest() == p.reference_digest() == lic.digest


@SETTINGS
@given(
    secret=st.binary(min_size=16, max_size=16),
    chosen=st.sets(st.integers(0, 15), min_size=1),
    value=st.one_of(
        st.text(max_size=300),  # text heads of 1, 2 and 3 bytes
        st.integers(-(2**70), 2**70),  # every integer head, and beyond 64 bits (cbor2's bignums)
        st.sampled_from([0, 23, 24, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**63 - 1, 2**63, -(2**63), -1]),
        st.booleans(),  # not a field value, but encoded exactly as cbor2 would
        st.none(),
    ),
)
def test_any_value_is_committed_as_cbor2_encodes_it(secret: bytes, chosen: set[int], value: object):
    nodes = cover_nodes(secret, chosen, set(range(16)) - chosen)
    keys = {f"k{position}": position for position in chosen}
    values = dict.fromkeys(keys, value)
    salts = derive_salts(nodes)
    expected = [commitment(salts[keys[k]], k, value) for k in values]  # type: ignore[arg-type]
    assert compiled().commitments_of(nodes, values, keys) == expected


def test_a_leaf_no_node_covers_is_refused_as_the_pure_path_refuses_it():
    secret = bytes(range(16))
    nodes = cover_nodes(secret, {3}, set(range(16)) - {3})
    for function in (compiled().commitments_of, python_commitments_of):
        with pytest.raises(KeyError):
            function(nodes, {"a": "x", "b": "y"}, {"a": 3, "b": 4})


@pytest.mark.parametrize(
    ("node", "positions"),
    [
        (SaltNode(5, 0, bytes(16)), {"a": 0}),  # deeper than the tree
        (SaltNode(2, 4, bytes(16)), {"a": 0}),  # index outside its level
        (SaltNode(0, 0, bytes(15)), {"a": 0}),  # a short secret
        (SaltNode(0, 0, bytes(16)), {"a": 16}),  # a position outside the tree
    ],
)
def test_impossible_nodes_and_positions_are_refused(node: SaltNode, positions: dict[str, int]):
    with pytest.raises(ValueError, match="salt"):
        compiled().commitments_of([node], {"a": "x"}, positions)


@SETTINGS
@given(st.text(st.sampled_from("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"), max_size=60))
def test_the_check_character_equals_python_stdnums(body: str):
    assert compiled().mod_37_36_check_digit(body) == mod_37_36.calc_check_digit(body)


@pytest.mark.parametrize("body", ["BL9111", "bl91", "BL 91", "BL-91", "BL91中"])
def test_a_body_outside_the_alphabet_is_refused(body: str):
    if body == "BL9111":
        assert compiled().mod_37_36_check_digit(body) == mod_37_36.calc_check_digit(body)
        return
    with pytest.raises(ValueError, match="outside 0-9 and A-Z"):
        compiled().mod_37_36_check_digit(body)
    with pytest.raises(ValueError, match="substring not found"):  # python-stdnum: alphabet.index
        mod_37_36.calc_check_digit(body)


_DECODE_ALL = """
import json, sys
from registry.document import _accel
from registry.document.presentation import MalformedPresentationError, decode_presentation
out = {"compiled": _accel.COMPILED, "answers": []}
for text in json.load(sys.stdin):
    try:
        out["answers"].append(decode_presentation(text).digest().hex())
    except MalformedPresentationError as exc:
        out["answers"].append("malformed: " + str(exc))
print(json.dumps(out))
"""


def test_switched_off_the_pure_path_decodes_and_digests_the_same(issued: Issued):
    """Real QR texts (every disclosure from none to all, each license of the fixture) and broken ones
    (a character changed, cut short, outside the alphabet), decoded and digested by a process with
    the compiled path off (``ELICENSE_PURE_PYTHON=1``) and by one with it on: the same answers."""
    texts = []
    for index, row in enumerate(issued.rows):
        texts += [issued.text(index), issued.text(index, []), issued.text(index, list(row.fields))]
    good = texts[0]
    texts += [
        good[:-7],
        good[:5] + ("A" if good[5] != "A" else "B") + good[6:],
        good + "a",
        good[:4] + "GGW" + good[7:],
    ]
    answers = {}
    for pure in ("1", "0"):
        env = {**os.environ, "ELICENSE_PURE_PYTHON": pure, "PYTHONPATH": str(ROOT)}
        run = subprocess.run(
            [sys.executable, "-c", _DECODE_ALL],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        answers[pure] = json.loads(run.stdout)
    assert answers["1"]["compiled"] is False
    assert answers["0"]["compiled"] is True
    assert answers["1"]["answers"] == answers["0"]["answers"]
    digests = [a for a in answers["0"]["answers"] if not a.startswith("malformed")]
    assert len(digests) >= 3 * len(issued.rows)
    assert digests[0] == issued.rows[0].digest.hex()


def _strict(data: bytes) -> Presentation | str:
    """The strict reader's answer: the presentation, or its error message."""
    try:
        return presentation_module._read(StrictReader(data))
    except (CBORFormatError, FieldValueError, MalformedPresentationError) as exc:
        return str(exc)


@SETTINGS
@given(lic=licenses(), data=st.data())
def test_the_compiled_reader_reads_every_presentation_as_the_strict_reader_does(lic: License, data: st.DataObject):
    keys = list(lic.fields)
    disclosed = data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]))
    suite = data.draw(st.sampled_from(list(SignatureSuite)))
    payload = present(lic, data.draw(st.binary(min_size=64, max_size=64)), disclosed, suite=suite).to_cbor()
    found = compiled().read_presentation(payload)
    assert found is not None  # a well-formed payload is read here, not left to the strict reader
    assert found == _strict(payload)
    assert found.digest() == lic.digest


@st.composite
def mutated_payloads(draw: st.DrawFn) -> bytes:
    lic = draw(licenses())
    keys = list(lic.fields)
    disclosed = draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]))
    payload = bytearray(present(lic, bytes(range(64)), disclosed).to_cbor())
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(payload)))
        how = draw(st.sampled_from(["set", "insert", "delete", "cut", "append"]))
        byte = draw(st.sampled_from([0x00, 0x17, 0x18, 0x19, 0x1F, 0x40, 0x5F, 0x60, 0x7F, 0x80, 0xA0, 0xF6, 0xFF]))
        if how == "set" and at < len(payload):
            payload[at] = byte if draw(st.booleans()) else payload[at] ^ (1 << draw(st.integers(0, 7)))
        elif how == "insert":
            payload.insert(at, byte)
        elif how == "delete" and at < len(payload):
            del payload[at]
        elif how == "cut":
            del payload[at:]
        else:
            payload.append(byte)
    return bytes(payload)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.one_of(mutated_payloads(), st.binary(max_size=200)))
def test_the_compiled_reader_accepts_nothing_the_strict_reader_refuses(payload: bytes):
    """Altered payloads (heads changed, bytes inserted, cut, flipped) and random bytes: the compiled
    reader returns what the strict reader returns, or leaves the payload to it (None)."""
    found = compiled().read_presentation(payload)
    strict = _strict(payload)
    if found is not None:
        assert found == strict
    assert decode_payload_answer(payload) == strict


def decode_payload_answer(payload: bytes) -> Presentation | str:
    """What ``decode_payload`` (compiled first, then strict) answers."""
    try:
        return decode_payload(payload)
    except MalformedPresentationError as exc:
        return str(exc)


def test_unusual_payloads_are_left_to_the_strict_reader(issued: Issued):
    """Each kind of defect the strict reader names: the compiled reader answers None, and the
    message users see is the strict reader's."""
    p = decode_presentation(issued.text(0))
    good = p.to_cbor()
    assert compiled().read_presentation(good) == p
    defects = {
        "a 13-element array": b"\x8d" + good[1:],
        "format version 2": good[:1] + b"\x02" + good[2:],
        "a type number in two bytes": good[:2] + b"\x18" + good[2:],
        "trailing bytes": good + b"\x00",
        "cut short": good[:-1],
        "a tag": good[:1] + b"\xc1" + good[1:],
    }
    for name, payload in defects.items():
        assert compiled().read_presentation(payload) is None, name
        assert isinstance(_strict(payload), str), name
        with pytest.raises(MalformedPresentationError):
            decode_payload(payload)


def _strict_compact(number: int, struct: bytes, tail: bytes) -> Presentation | str:
    """The strict LC2 reader's answer: the presentation, or its error message."""
    try:
        return Presentation(*read_body(number, struct, tail, presentation_module._COMPACT_READERS))
    except (CompactFormatError, CBORFormatError, FieldValueError) as exc:
        return str(exc)


@SETTINGS
@given(lic=licenses(), data=st.data())
def test_the_compiled_reader_reads_every_lc2_body_as_the_strict_reader_does(lic: License, data: st.DataObject):
    keys = list(lic.fields)
    disclosed = data.draw(st.lists(st.sampled_from(keys), unique=True) if keys else st.just([]))
    suite = data.draw(st.sampled_from(list(SignatureSuite)))
    text = present(lic, data.draw(st.binary(min_size=64, max_size=64)), disclosed, suite=suite).to_text()
    if not text.startswith("LC2:"):  # text whose GB 18030 form is too long is carried as LC1
        return
    number, struct, tail = split_body(base45.b45decode(text[4:]), presentation_module.MAX_DECOMPRESSED)
    found = compiled().read_compact(number, struct, tail)
    assert found is not None
    assert found == _strict_compact(number, struct, tail) == decode_presentation(text)
    assert found.digest() == lic.digest


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=lc2_mutations())
def test_the_compiled_lc2_reader_accepts_nothing_the_strict_reader_refuses(case: tuple[int, bytes, bytes]):
    """The altered LC2 bodies of tests/test_presentation_compact.py (array bytes, elements, field
    values, the tail, the type number): the same presentation as the strict reader, or None."""
    found = compiled().read_compact(*case)
    if found is not None:
        assert found == _strict_compact(*case)


def test_every_lc2_sample_is_read_by_the_compiled_reader():
    for number, item, tail in _LC2_PARTS:
        struct = cbor2.dumps(item)
        assert compiled().read_compact(number, struct, tail) == _strict_compact(number, struct, tail)
        assert compiled().read_compact(number, struct, tail) is not None


def test_unusual_lc2_bodies_are_left_to_the_strict_reader():
    number, item, tail = _LC2_PARTS[0]
    struct = cbor2.dumps(item)
    defects = {
        "a trailing byte after the array": (number, struct + b"\x00", tail),
        "a 5-element array": (number, b"\x85" + struct[1:], tail),
        "a type without a dictionary": (200, struct, tail),
        "a tail one byte short": (number, struct, tail[:-1]),
        "a tail with one more byte": (number, struct, tail + b"\x00"),
        "text as a CBOR text string": (number, cbor2.dumps([*item[:5], _as_text(item[5])]), tail),
    }
    for name, case in defects.items():
        assert compiled().read_compact(*case) is None, name
        assert isinstance(_strict_compact(*case), str), name


def _as_text(fields: dict[int, object]) -> dict[int, object]:
    """The fields with every GB 18030 byte string as a CBOR text string (as LC1 carries text)."""
    return {k: v.decode("gb18030") if isinstance(v, bytes) and len(v) != 12 else v for k, v in fields.items()}


# ------------------------------------------------------------------------------------------------
# What the compiled readers decide themselves (text, credit codes, the identifier and the header)
# and the instances they and the verifier build (frozen)
# ------------------------------------------------------------------------------------------------


def _same_identifier(found: Presentation, strict: Presentation) -> None:
    """The derived members too (they are not compared by ``==``): the text and the issuer id."""
    assert vars(found.header.license_id) == vars(strict.header.license_id)
    assert found.header.license_id.text == str(strict.header.license_id)


@SETTINGS
@given(
    issuer=st.integers(0, 2**32).map(lambda seed: make_uscc(random.Random(seed), region=310115)),
    serial=st.sampled_from([1, 9, 10, 12345678, 10**8 - 1]) | st.integers(1, 10**8 - 1),
    version=st.integers(1, 99),
    days=st.tuples(st.integers(0, 3_000_000), st.integers(0, 3_000_000) | st.none()),
    sample=st.sampled_from(range(len(_LC2_PARTS))),
)
def test_the_compiled_readers_make_the_identifier_and_header_the_constructors_make(
    issuer: str, serial: int, version: int, days: tuple[int, int | None], sample: int
):
    """Any issuer, serial, version and days (the last possibly before the first, which the header
    refuses): the compiled LC2 and LC1 readers give the strict readers' presentation, identifier
    text and issuer id included, or leave the bytes to them."""
    number, item, tail = _LC2_PARTS[sample]
    struct = cbor2.dumps([pack_uscc(issuer), serial, version, *days, *item[5:]])
    strict = _strict_compact(number, struct, tail)
    found = compiled().read_compact(number, struct, tail)
    assert (found is None) == isinstance(strict, str)
    if found is not None:
        assert found == strict
        _same_identifier(found, strict)
        payload = strict.to_cbor()
        assert compiled().read_presentation(payload) == _strict(payload)
        _same_identifier(compiled().read_presentation(payload), _strict(payload))


def _with_field(sample: int, kind: FieldKind, value: object) -> tuple[int, bytes, bytes] | None:
    """An LC2 sample whose first field of ``kind`` holds ``value`` (None: its type has none)."""
    number, item, tail = _LC2_PARTS[sample]
    spec = next((s for s in get_type_by_number(number).fields if s.kind is kind), None)
    if spec is None:
        return None
    return number, cbor2.dumps([*item[:5], {**item[5], spec.number: value}, *item[6:]]), tail


@settings(max_examples=1000, deadline=None)
@given(
    packed=st.binary(min_size=11, max_size=13)
    | st.integers(0, 2**96 - 1).map(lambda n: n.to_bytes(12, "big"))
    | st.integers(31**18 - 3, 31**18 + 3).map(lambda n: n.to_bytes(12, "big")),
    sample=st.sampled_from(range(len(_LC2_PARTS))),
)
def test_credit_codes_are_unpacked_as_the_reference_unpacks_them(packed: bytes, sample: int):
    case = _with_field(sample, FieldKind.USCC, packed)
    if case is None:
        return
    strict = _strict_compact(*case)
    found = compiled().read_compact(*case)
    assert (found is None) == isinstance(strict, str)
    assert found is None or found == strict


_TEXTS = st.text(
    st.characters(codec="utf-8", categories=["L", "M", "N", "P", "S", "Z", "C"], exclude_characters="\x00"),
    max_size=40,
) | st.sampled_from(["", " a", "a ", "a\u3000", "e\u0301", "\u00e9", "\u1100\u1161", "x" * 101, "中" * 100, "\ufeffa"])


@settings(max_examples=1500, deadline=None)
@given(value=_TEXTS | st.binary(max_size=40), sample=st.sampled_from(range(len(_LC2_PARTS))))
def test_text_is_held_to_the_canonical_form_as_the_reference_holds_it(value: str | bytes, sample: int):
    """Text fields (LC2: GB 18030 bytes, as text or random bytes; LC1: the text): the compiled
    readers accept exactly what the strict readers accept, and read it the same."""
    if isinstance(value, str):
        try:
            value = value.encode("gb18030")
        except UnicodeEncodeError:
            return
    case = _with_field(sample, FieldKind.TEXT, value)
    assert case is not None
    strict = _strict_compact(*case)
    found = compiled().read_compact(*case)
    assert (found is None) == isinstance(strict, str)
    assert found is None or found == strict
    if isinstance(strict, Presentation):  # the same text in LC1 (UTF-8 text strings)
        payload = strict.to_cbor()
        assert compiled().read_presentation(payload) == _strict(payload)


def test_frozen_makes_what_the_constructors_make(issued: Issued):
    p = decode_presentation(issued.text(0))
    field_ = DisclosedField("name", "名称", "Name", "甲公司", "甲公司", "甲公司")
    result = issued.verifier.verify(issued.text(0))
    assert result.disclosed
    node = p.nodes[0]
    for instance in (p, node, field_, result):
        cls = type(instance)
        values = [getattr(instance, f.name) for f in dataclasses.fields(cls)]
        for make in (compiled().frozen, _accel.python_frozen):
            made = make(cls, *values)
            assert type(made) is cls
            assert made == cls(*values) == instance
            assert [getattr(made, f.name) for f in dataclasses.fields(cls)] == values
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(made, dataclasses.fields(cls)[0].name, None)
    with pytest.raises(TypeError, match="not a frozen dataclass without __post_init__"):
        compiled().frozen(type(p.header), *dataclasses.astuple(p.header))
    with pytest.raises(TypeError, match="takes 6 values, got 5"):
        compiled().frozen(DisclosedField, "a", "b", "c", "d", "e")


def test_every_two_byte_gb18030_code_is_read_as_the_codec_reads_it():
    """The compiled LC2 reader decodes one- and two-byte GB 18030 codes itself (a table built from
    Python's codec): every two-byte sequence, alone and between other characters, is read exactly
    as the strict reader (the codec, then its round trip) reads it, or left to it."""
    read = 0
    for first in range(0x80, 0x100):
        for second in range(0x30, 0x100):
            for value in (bytes((first, second)), b"A" + bytes((first, second)) + "中".encode("gb18030")):
                case = _with_field(0, FieldKind.TEXT, value)
                assert case is not None
                strict = _strict_compact(*case)
                found = compiled().read_compact(*case)
                assert found is None or found == strict, value
                read += found is not None
    assert read > 2 * 21000  # nearly every two-byte code is some character's one encoding
