"""The ``LC2:`` form of a presentation's QR text: the same presentation as ``LC1:``, carried in
fewer bytes (the digest, the signature and what is anchored are the same).

``LC2:`` + base45 of::

    type number (1 byte: the license type, which also picks the preset dictionary)
    raw deflate (RFC 1951, no zlib header or checksum) of a CBOR array, with that type's preset
        dictionary (:mod:`registry.document._dictionary`):
        [issuer's credit code (12 bytes, packed), serial, version, first valid day,
         last valid day or null, {field number: packed value, ...},
         suite code (only for SM2: 1)]
    salt tree nodes (17 bytes each: depth << 4 | index, then 16 bytes),
    commitments of hidden fields (32 bytes each, ascending), signature (64 bytes)

The random bytes (salts, commitments, signature) do not compress, so they follow the deflate
stream as they are, in that order; how many nodes and commitments there are follows from their
length ``L`` alone: ``17 n + 32 m = L - 64`` has one solution with ``n < 32``, ``n = 17 (L - 64)
mod 32`` (17 is its own inverse modulo 32). The format version of the digest is 1, implied by the
prefix. Packed values are those of ``LC1:`` except text, which is a byte string of GB 18030 (two
bytes for a Chinese character rather than UTF-8's three), in its one encoding: the decoder refuses
bytes that do not encode back to themselves. Every check ``LC1:`` makes is made here too, in the
same order (text length, alphabet, then the dictionary number, the bounded inflate, the CBOR
schema and values, then the trailing bytes' layout), before any hashing or signature work.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Mapping

import cbor2

from registry.document._cbor import StrictReader
from registry.document._dictionary import dictionary
from registry.document._inflate import deflate_raw, inflate_raw
from registry.document.identifiers import (
    MAX_SERIAL,
    MAX_VERSION,
    FieldValueError,
    LicenseIdentifier,
    pack_uscc,
    unpack_uscc,
)
from registry.document.license import SALT_TREE_DEPTH, LicenseHeader, SaltNode
from registry.document.licensetypes import CATALOG, LAST_DAY, FieldKind, FieldSpec, LicenseType, get_type_by_number
from registry.document.suites import KNOWN_CODES, SignatureSuite

__all__ = [
    "COMPACT_PREFIX",
    "CompactFormatError",
    "FieldReaders",
    "compact_readers",
    "decode_body",
    "encode_body",
    "pack_text",
    "read_body",
    "read_struct",
    "split_body",
    "split_tail",
    "unpack_text",
]

COMPACT_PREFIX = "LC2:"
_NODE = 17
_DIGEST = 32
_SIGNATURE = 64
_SHAPE = "an array of 6 elements (7 for an SM2 signature, the suite code last)"

#: How each disclosed field is read, by field number: its key and a reader of its packed value.
FieldReaders = dict[int, tuple[str, Callable[[StrictReader], str | int]]]


class CompactFormatError(ValueError):
    """The bytes are not an ``LC2:`` body; the message says what was expected."""


def pack_text(text: str) -> bytes:
    """A text field's value as ``LC2:`` carries it: GB 18030 (every Unicode character has one)."""
    return text.encode("gb18030")


def unpack_text(raw: bytes, what: str) -> str:
    """The text of GB 18030 bytes, when they are that text's one encoding."""
    try:
        text = raw.decode("gb18030")
    except UnicodeDecodeError:
        raise FieldValueError(what, "is not valid GB 18030 text", "text encoded in GB 18030") from None
    if text.encode("gb18030") != raw:
        raise FieldValueError(what, "is not in its one GB 18030 encoding", "the text's GB 18030 encoding")
    return text


def encode_body(  # noqa: PLR0917 - the parts of a presentation, in the order it holds them
    header: LicenseHeader,
    disclosed: Mapping[str, str | int],
    nodes: Iterable[SaltNode],
    hidden: Iterable[bytes],
    signature: bytes,
    suite_code: int | None,
    *,
    limit: int,
) -> bytes | None:
    """The bytes base45 carries after ``LC2:``: the type number, the deflated CBOR array, the
    salt nodes, the hidden commitments and the signature; ``None`` when the CBOR array would be
    longer than ``limit``, the most a decoder inflates (text in GB 18030 takes four bytes for a
    character outside GBK where UTF-8 takes three: such a presentation is carried as ``LC1:``)."""
    ltype = header.license_type
    specs = ltype.by_key
    struct: list[object] = [
        pack_uscc(header.license_id.issuer_uscc),
        header.license_id.serial,
        header.license_id.version,
        header.valid_from,
        header.valid_to,
        {
            specs[k].number: pack_text(str(v)) if specs[k].kind is FieldKind.TEXT else specs[k].pack(v)
            for k, v in disclosed.items()
        },
    ]
    if suite_code is not None:
        struct.append(suite_code)
    data = cbor2.dumps(struct)
    if len(data) > limit:
        return None
    tail = b"".join(bytes((n.depth << 4 | n.index,)) + n.value for n in nodes) + b"".join(hidden) + signature
    return bytes((ltype.number,)) + deflate_raw(data, dictionary(ltype.number)) + tail


@functools.cache
def _known_numbers() -> tuple[int, ...]:
    return tuple(sorted(t.number for t in CATALOG.values() if dictionary(t.number)))


def decode_body(
    raw: bytes, limit: int, readers: dict[int, FieldReaders]
) -> tuple[LicenseHeader, dict[str, str | int], tuple[SaltNode, ...], tuple[bytes, ...], bytes, SignatureSuite]:
    """(header, disclosed values, salt nodes, hidden commitments, signature, suite) of an ``LC2:``
    body, its CBOR array inflated with at most ``limit`` bytes of output and read with ``readers``
    (by type number, then field number). Raises :class:`CompactFormatError`, ``CBORFormatError``
    or ``FieldValueError`` saying what was expected."""
    return read_body(*split_body(raw, limit), readers)


def split_body(raw: bytes, limit: int) -> tuple[int, bytes, bytes]:
    """(type number, inflated CBOR array, the bytes after the deflate stream) of an ``LC2:`` body:
    the type (and dictionary) number checked, the stream inflated with at most ``limit`` bytes of
    output. Raises :class:`CompactFormatError` saying what was expected."""
    number = raw[0]
    if number not in _known_numbers():
        raise CompactFormatError(
            f"the license type (and dictionary) number {number} is not known; expected one of {_known_numbers()}"
        )
    struct, tail = inflate_raw(raw[1:], CompactFormatError, limit, dictionary(number))
    return number, struct, tail


def read_body(
    number: int, struct: bytes, tail: bytes, readers: dict[int, FieldReaders]
) -> tuple[LicenseHeader, dict[str, str | int], tuple[SaltNode, ...], tuple[bytes, ...], bytes, SignatureSuite]:
    """:func:`decode_body` after the inflate: the CBOR array ``struct`` and the ``tail`` of type ``number``."""
    ltype = get_type_by_number(number)
    header, values, positions, suite = read_struct(StrictReader(struct), ltype, readers[number])
    nodes, hidden, signature = split_tail(tail, ltype, positions, len(values))
    return header, values, nodes, hidden, signature, suite


def compact_readers(
    value_reader: Callable[[FieldSpec], Callable[[StrictReader], str | int]],
    canonical_text: Callable[[str, str, int], str],
) -> dict[int, FieldReaders]:
    """The field readers of ``LC2:``, by type number: ``value_reader`` (``LC1:``'s) for every kind
    but text, which is GB 18030 bytes here, held to ``canonical_text`` as ``LC1:`` holds text."""

    def reader(spec: FieldSpec) -> Callable[[StrictReader], str | int]:
        if spec.kind is not FieldKind.TEXT:
            return value_reader(spec)
        what, most = f"{spec.key} ({spec.zh})", spec.max_length
        return lambda r: canonical_text(unpack_text(r.byte_string(what, "GB 18030 text"), what), what, most)

    return {t.number: {s.number: (s.key, reader(s)) for s in t.fields} for t in CATALOG.values()}


def read_struct(
    r: StrictReader, ltype: LicenseType, readers: FieldReaders
) -> tuple[LicenseHeader, dict[str, str | int], int, SignatureSuite]:
    """The header, the disclosed values (with a bit per position) and the suite of the CBOR array."""
    at = r.pos
    count = r.array_head(7, "the payload", _SHAPE)
    if count < 6:
        raise CompactFormatError(f"the payload must be {_SHAPE}; found an array of {count} elements at byte {at}")
    issuer = _issuer_code(r.byte_string("the issuer code"))
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
    most = len(ltype.fields)
    entries = r.map(most, "disclosed fields", f"a map of at most {most} entries")
    values: dict[str, str | int] = {}
    positions = 0
    previous = 0
    for _ in range(entries):
        at = r.pos
        number = r.uint("a disclosed field number")
        entry = readers.get(number)
        if entry is None:
            raise CompactFormatError(f"disclosed field number {number!r} is not a field of {ltype.code}")
        if number <= previous:
            raise CompactFormatError(
                f"disclosed field numbers must be in strictly ascending order (canonical map order); "
                f"{number} follows {previous} at byte {at}"
            )
        previous = number
        key, read = entry
        values[key] = read(r)
        positions |= 1 << (number - 1)
    suite = SignatureSuite.SECP256K1
    if count == 7:
        code = r.uint("the signature suite code")
        found = SignatureSuite.from_code(code)
        if found is None:
            raise CompactFormatError(f"signature suite code {code} is not known; the known suites are {KNOWN_CODES}")
        suite = found
    r.end("the payload's array")
    return header, values, positions, suite


def split_tail(
    tail: bytes, ltype: LicenseType, positions: int, disclosed: int
) -> tuple[tuple[SaltNode, ...], tuple[bytes, ...], bytes]:
    """The salt nodes, hidden commitments and signature the trailing bytes hold, checked as
    ``LC1:`` checks them (positions possible, no overlap, every disclosed field salted, hidden
    commitments ascending, no more fields than the type has)."""
    rest = len(tail) - _SIGNATURE
    count = 17 * rest % 32  # the number of salt nodes: 17 count = rest (mod 32)
    hidden_length = rest - _NODE * count
    if rest < 0 or hidden_length < 0 or hidden_length % _DIGEST or count > 1 << SALT_TREE_DEPTH:
        raise CompactFormatError(
            f"after the deflate stream come salt nodes (17 bytes each), hidden commitments (32 bytes each) "
            f"and the signature (64 bytes); {len(tail)} bytes are no such sequence"
        )
    if hidden_length // _DIGEST + disclosed > len(ltype.fields):
        raise CompactFormatError(
            f"hidden commitments must be 32-byte entries, at most {len(ltype.fields)} fields in all"
        )
    nodes: list[SaltNode] = []
    covered = 0  # bit i: leaf i is below a node
    for offset in range(0, _NODE * count, _NODE):
        tag = tail[offset]
        depth, index = tag >> 4, tag & 0x0F
        if depth > SALT_TREE_DEPTH or index >= 1 << depth:
            raise CompactFormatError(f"salt node {offset // _NODE} has an impossible position")
        width = 1 << (SALT_TREE_DEPTH - depth)
        leaves = ((1 << width) - 1) << (index * width)
        if leaves & covered:
            raise CompactFormatError("salt nodes overlap")
        covered |= leaves
        nodes.append(SaltNode(depth, index, tail[offset + 1 : offset + _NODE]))
    if positions & ~covered:
        raise CompactFormatError("a disclosed field has no salt")
    start = _NODE * count
    hidden = tuple(tail[i : i + _DIGEST] for i in range(start, start + hidden_length, _DIGEST))
    if any(a >= b for a, b in itertools.pairwise(hidden)):
        raise CompactFormatError("hidden commitments must be in strictly ascending order")
    return tuple(nodes), hidden, tail[start + hidden_length :]


@functools.lru_cache(maxsize=4096)
def _issuer_code(packed: bytes) -> str:
    return unpack_uscc(packed, field="issuer")
