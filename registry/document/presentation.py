"""Presentations and their QR text: ``LC2:`` (the default and the smaller, read by
:mod:`registry.document._compact`) or ``LC1:`` + base45(zlib(CBOR)), which verifiers keep reading.

The ``LC1:`` CBOR item is an array of eleven elements, twelve for a license signed with SM2:
[format version, license type number, issuer's credit code (12 bytes, packed), serial, version,
first valid day, last valid day or null, {field number: packed value}, salt tree nodes (17 bytes
each: depth << 4 | index, then 16 bytes), hidden fields' commitments (32 bytes each, ascending),
signature (64 bytes: EIP-2098 compact for secp256k1, r || s for SM2), suite code (only for SM2: 1)].
Packed: text as text, credit codes as 12 bytes, identity numbers, day numbers since 1970-01-01,
money, enumerations and regions as integers; map keys ascend: one encoding (docs/licenses.md).

Decoding is strict and bounded: the text length, the alphabet, the decompressed size, the CBOR
shape and every value are checked, in that order, before any hashing or signature work, by a
schema-directed reader (:mod:`registry.document._cbor`) in one pass, never decoded into a general
structure nor re-encoded. Any problem raises :class:`MalformedPresentationError`.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import base45
import cbor2

from registry.document._accel import compiled_module
from registry.document._base45 import b45decode
from registry.document._cbor import CBORFormatError, StrictReader
from registry.document._compact import (
    COMPACT_PREFIX,
    CompactFormatError,
    compact_readers,
    encode_body,
    read_body,
    split_body,
)
from registry.document._fields import (
    ValueReader,
    canonical_text,
    compiled_field,
    issuer_code,
    value_reader,
)
from registry.document._inflate import inflate
from registry.document.identifiers import (
    MAX_SERIAL,
    MAX_VERSION,
    FieldValueError,
    LicenseIdentifier,
    pack_uscc,
)
from registry.document.license import (
    FORMAT_VERSION,
    SALT_TREE_DEPTH,
    License,
    LicenseHeader,
    SaltNode,
    commitment,
    commitments_of,
    derive_salts,
    header_digest,
    license_digest,
)
from registry.document.licensetypes import (
    CATALOG,
    LAST_DAY,
    MAX_FIELDS,
    LicenseType,
    get_type_by_number,
)
from registry.document.suites import KNOWN_CODES, SignatureSuite
from registry.errors import RegistryError

__all__ = [
    "MAX_DECOMPRESSED",
    "MAX_TEXT_LENGTH",
    "PREFIX",
    "MalformedPresentationError",
    "Presentation",
    "decode_payload",
    "decode_presentation",
    "present",
    "read_compact",
]

PREFIX = "LC1:"
#: Longest QR text accepted (QR version 25 at level M holds about 1,400 alphanumeric characters).
MAX_TEXT_LENGTH = 1400
#: Largest decompressed CBOR accepted.
MAX_DECOMPRESSED = 4096
_B45 = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_NODE = 17
_DIGEST = 32
_SIGNATURE = 64
_SHAPE = "an array of 11 elements (12 for an SM2 signature, the suite code last)"


class MalformedPresentationError(RegistryError, ValueError):
    """The text is not a well-formed presentation; the message says what was expected."""

    http_status = 422
    title = "Malformed presentation"


@dataclass(frozen=True, slots=True)
class Presentation:
    """What a QR code carries: the header, some fields, what is needed to check the rest."""

    header: LicenseHeader
    disclosed: dict[str, str | int]  # canonical values, in field order
    nodes: tuple[SaltNode, ...]
    hidden: tuple[bytes, ...]
    signature: bytes
    suite: SignatureSuite = SignatureSuite.SECP256K1

    @property
    def license_type(self) -> LicenseType:
        return self.header.license_type

    def digest(self) -> bytes:
        """The license digest recomputed from what is presented: :func:`license_digest` of the
        disclosed fields' :func:`commitment` (salts from :func:`derive_salts`) and the hidden ones,
        computed by the verifier's path (:func:`commitments_of`, :func:`header_digest`)."""
        shown = commitments_of(self.nodes, self.disclosed, _POSITIONS[self.header.license_type.number])
        shown.extend(self.hidden)
        return header_digest(self.header, shown)

    def reference_digest(self) -> bytes:
        """:meth:`digest` by the definitions, step by step (the tests compare the two)."""
        salts = derive_salts(self.nodes)
        specs = self.license_type.by_key
        shown = [commitment(salts[specs[k].number - 1], k, v) for k, v in self.disclosed.items()]
        return license_digest(self.header, [*shown, *self.hidden])

    def to_cbor(self) -> bytes:
        h = self.header
        specs = self.license_type.by_key
        item = [
            FORMAT_VERSION,
            self.license_type.number,
            pack_uscc(h.license_id.issuer_uscc),
            h.license_id.serial,
            h.license_id.version,
            h.valid_from,
            h.valid_to,
            {specs[k].number: specs[k].pack(v) for k, v in self.disclosed.items()},
            b"".join(bytes((n.depth << 4 | n.index,)) + n.value for n in self.nodes),
            b"".join(self.hidden),
            self.signature,
        ]
        if self.suite.code is not None:
            item.append(self.suite.code)
        return cbor2.dumps(item)

    def to_text(self, *, form: Literal["LC2", "LC1"] = "LC2") -> str:
        """The QR text: ``LC2:`` (the default, smaller; ``LC1:`` if its GB 18030 text passes the decoder's
        bound) or ``LC1:`` (what earlier issuers made)."""
        if form not in ("LC2", "LC1"):
            raise MalformedPresentationError(f"the QR form must be LC2 or LC1, got {form!r}")
        parts = self.header, self.disclosed, self.nodes, self.hidden, self.signature, self.suite.code
        body = encode_body(*parts, limit=MAX_DECOMPRESSED) if form == "LC2" else None
        if body is None:
            return PREFIX + bytes(base45.b45encode(zlib.compress(self.to_cbor(), 9))).decode("ascii")
        return COMPACT_PREFIX + bytes(base45.b45encode(body)).decode("ascii")


def present(
    license: License,
    signature: bytes,
    disclosed: list[str] | None = None,
    *,
    suite: SignatureSuite = SignatureSuite.SECP256K1,
) -> Presentation:
    """A presentation of ``license`` disclosing ``disclosed`` fields (default: the type's default),
    with its ``signature`` made in ``suite``."""
    if not isinstance(suite, SignatureSuite):
        raise MalformedPresentationError(f"the suite must be a SignatureSuite, got {suite!r}")
    if len(signature) != _SIGNATURE:
        raise MalformedPresentationError("a signature must be 64 bytes (EIP-2098 compact form, or r || s for SM2)")
    shown, nodes, hidden = license.disclosure(disclosed)
    return Presentation(
        header=license.header,
        disclosed={k: license.fields[k] for k in shown},
        nodes=tuple(nodes),
        hidden=tuple(hidden),
        signature=signature,
        suite=suite,
    )


def _fail(message: str) -> MalformedPresentationError:
    return MalformedPresentationError(message)


def _decompress(data: bytes) -> bytes:
    return inflate(data, MalformedPresentationError, MAX_DECOMPRESSED)


def decode_presentation(text: object) -> Presentation:
    """Parse QR text (``LC2:`` or ``LC1:``) into a :class:`Presentation`, strictly (no signature work)."""
    if not isinstance(text, str):
        raise _fail("a presentation is text starting with LC2: or LC1:")
    if len(text) > MAX_TEXT_LENGTH:
        raise _fail(f"the text has {len(text)} characters; at most {MAX_TEXT_LENGTH} are accepted")
    prefix = text[:4]
    if prefix not in (PREFIX, COMPACT_PREFIX):
        if text[:2] == "LC" and text[3:4] == ":":
            raise _fail(f"version {prefix!r} is not supported; this verifier reads {COMPACT_PREFIX} and {PREFIX}")
        raise _fail(f"the text must start with {COMPACT_PREFIX} or {PREFIX}")
    body = text[4:]
    try:
        raw = b45decode(body)  # checks the alphabet, the length and every group
    except ValueError:
        raw = b""
    if not raw:  # say which of the checks failed, in this order
        if not body or not set(body) <= _B45:
            raise _fail(f"after {prefix} only base45 characters (0-9, A-Z, space, $%*+-./:) are allowed")
        if len(body) % 3 == 1:
            raise _fail("the base45 text has an impossible length (truncated?)")
        raise _fail("the base45 text does not decode")
    if prefix == COMPACT_PREFIX:
        return _decode_compact(raw)
    return decode_payload(_decompress(raw))


def _decode_compact(raw: bytes) -> Presentation:
    """The presentation an ``LC2:`` body carries (:mod:`registry.document._compact`)."""
    try:
        return read_compact(*split_body(raw, MAX_DECOMPRESSED))
    except (CompactFormatError, CBORFormatError, FieldValueError) as exc:
        raise _fail(str(exc)) from None


def read_compact(number: int, struct: bytes, tail: bytes) -> Presentation:
    """The presentation of an ``LC2:`` body's parts (:func:`~registry.document._compact.split_body`):
    the compiled reader's when it reads them, else the strict reader's, which raises saying why."""
    if _FAST is not None:
        found: Presentation | None = _FAST.read_compact(number, struct, tail)  # None: the strict reader decides
        if found is not None:
            return found
    return Presentation(*read_body(number, struct, tail, _COMPACT_READERS))


def decode_payload(data: bytes) -> Presentation:
    """Parse the CBOR payload of a QR text (after base45 and zlib) into a :class:`Presentation`.

    The payload is read as this format's fixed schema and nothing else, by a strict reader: one
    pass, every value's type, encoding (canonical only: no tags, no indefinite lengths, shortest
    heads, map keys ascending) and range checked where it is read. Nothing foreign is decoded into
    a general structure or re-encoded, so any input is decided in time linear in its length.
    """
    if _FAST is not None:
        found: Presentation | None = _FAST.read_presentation(
            data
        )  # None: not plainly well-formed; the strict reader says why
        if found is not None:
            return found
    try:
        return _read(StrictReader(data))
    except CBORFormatError as exc:
        raise _fail(str(exc)) from None
    except FieldValueError as exc:
        raise _fail(str(exc)) from None


def _read(r: StrictReader) -> Presentation:
    at = r.pos
    count = r.array_head(12, "the payload", _SHAPE)
    if count < 11:
        raise _fail(f"the payload must be {_SHAPE}; found an array of {count} elements at byte {at}")
    fmt = r.uint("the format version")
    if fmt != FORMAT_VERSION:
        raise _fail(f"format version {fmt!r} is not supported; expected {FORMAT_VERSION}")
    ltype = get_type_by_number(r.uint("the license type number"))
    issuer = issuer_code(r.byte_string("the issuer code"))
    serial = r.uint("the serial", 1, MAX_SERIAL)
    version = r.uint("the version", 1, MAX_VERSION)
    valid_from = r.uint("the first valid day", 0, LAST_DAY)
    valid_to = None if r.null() else r.uint("the last valid day", 0, LAST_DAY)
    header = LicenseHeader(
        license_type=ltype,
        license_id=LicenseIdentifier(ltype.code, issuer, serial, version),
        valid_from=valid_from,
        valid_to=valid_to,
    )
    values, positions = _read_fields(r, ltype)
    nodes_bytes = r.byte_string("the salt nodes")
    if len(nodes_bytes) % _NODE or len(nodes_bytes) > _NODE * MAX_FIELDS:
        raise _fail(f"the salt nodes must be 17-byte entries, at most {MAX_FIELDS}")
    nodes: list[SaltNode] = []
    covered = 0  # bit i: leaf i is below a node
    for offset in range(0, len(nodes_bytes), _NODE):
        tag = nodes_bytes[offset]
        depth, index = tag >> 4, tag & 0x0F
        if depth > SALT_TREE_DEPTH or index >= 1 << depth:
            raise _fail(f"salt node {offset // _NODE} has an impossible position")
        width = 1 << (SALT_TREE_DEPTH - depth)
        leaves = ((1 << width) - 1) << (index * width)
        if leaves & covered:
            raise _fail("salt nodes overlap")
        covered |= leaves
        nodes.append(SaltNode(depth, index, nodes_bytes[offset + 1 : offset + _NODE]))
    if positions & ~covered:
        raise _fail("a disclosed field has no salt")
    hidden_bytes = r.byte_string("the hidden commitments")
    if len(hidden_bytes) % _DIGEST or len(hidden_bytes) // _DIGEST + len(values) > len(ltype.fields):
        raise _fail(f"hidden commitments must be 32-byte entries, at most {len(ltype.fields)} fields in all")
    hidden = tuple(hidden_bytes[i : i + _DIGEST] for i in range(0, len(hidden_bytes), _DIGEST))
    if any(a >= b for a, b in itertools.pairwise(hidden)):
        raise _fail("hidden commitments must be in strictly ascending order")
    signature = r.byte_string("the signature")
    if len(signature) != _SIGNATURE:
        raise _fail("the signature must be 64 bytes (EIP-2098 compact form, or r || s for SM2)")
    suite = SignatureSuite.SECP256K1
    if count == 12:
        code = r.uint("the signature suite code")
        found = SignatureSuite.from_code(code)
        if found is None:
            raise _fail(f"signature suite code {code} is not known; the known suites are {KNOWN_CODES}")
        suite = found
    r.end("the payload's array")
    return Presentation(
        header=header, disclosed=values, nodes=tuple(nodes), hidden=hidden, signature=signature, suite=suite
    )


def _read_fields(r: StrictReader, ltype: LicenseType) -> tuple[dict[str, str | int], int]:
    """The disclosed-fields map: canonical values by key, in field order, and a bit per position."""
    readers = _FIELD_READERS[ltype.number]
    most = len(ltype.fields)
    count = r.map(most, "disclosed fields", f"a map of at most {most} entries")
    values: dict[str, str | int] = {}
    positions = 0
    previous = 0
    for _ in range(count):
        at = r.pos
        number = r.uint("a disclosed field number")
        entry = readers.get(number)
        if entry is None:
            raise _fail(f"disclosed field number {number!r} is not a field of {ltype.code}")
        if number <= previous:
            raise _fail(
                f"disclosed field numbers must be in strictly ascending order (canonical map order); "
                f"{number} follows {previous} at byte {at}"
            )
        previous = number
        key, read = entry
        values[key] = read(r)
        positions |= 1 << (number - 1)
    return values, positions


#: Leaf of each field in the salt tree (0-based), by license type number.
_POSITIONS: dict[int, dict[str, int]] = {
    t.number: {spec.key: spec.number - 1 for spec in t.fields} for t in CATALOG.values()
}
_FIELD_READERS: dict[int, dict[int, tuple[str, ValueReader]]] = {
    t.number: {spec.number: (spec.key, value_reader(spec)) for spec in t.fields} for t in CATALOG.values()
}

#: The same readers for ``LC2:``, where text is GB 18030 bytes.
_COMPACT_READERS = compact_readers(value_reader, canonical_text)


def _compiled_reader() -> ModuleType | None:
    """The compiled readers (``_speedups.read_presentation`` for LC1, ``read_compact`` for LC2),
    configured with this format."""
    module = compiled_module()
    if module is None:
        return None
    module.configure(
        (
            FORMAT_VERSION,
            MAX_SERIAL,
            MAX_VERSION,
            LAST_DAY,
            issuer_code,
            LicenseHeader,
            LicenseIdentifier,
            SaltNode,
            Presentation,
            SignatureSuite.from_code,
            SignatureSuite.SECP256K1,
        ),
        {
            t.number: (t, len(t.fields), {spec.number: compiled_field(spec) for spec in t.fields})
            for t in CATALOG.values()
        },
        {
            t.number: (t, len(t.fields), {spec.number: compiled_field(spec, compact=True) for spec in t.fields})
            for t in CATALOG.values()
        },
    )
    return module


_FAST = _compiled_reader()
