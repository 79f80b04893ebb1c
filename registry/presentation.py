"""Presentations and their QR text: ``LC1:`` + base45(zlib(CBOR)).

The CBOR item is an array of eleven elements::

    [format version, license type number, issuer's credit code (12 bytes, packed),
     serial, version, first valid day, last valid day or null,
     {field number: packed value, ...},           # disclosed fields
     salt tree nodes (17 bytes each, concatenated: depth << 4 | index, then 16 bytes),
     commitments of hidden fields (32 bytes each, concatenated, ascending),
     signature (64 bytes, EIP-2098 compact)]

Decoding is strict and bounded: the text length, the alphabet, the decompressed size, the CBOR
shape and every value are checked, in that order, before any hashing or signature work. Any
problem raises :class:`MalformedPresentationError` with a message saying what was expected.
"""

from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass
from typing import Any

import base45
import cbor2

from registry._base45 import b45decode
from registry.document import (
    FORMAT_VERSION,
    SALT_TREE_DEPTH,
    License,
    LicenseHeader,
    SaltNode,
    commitment,
    derive_salts,
    license_digest,
)
from registry.errors import RegistryError
from registry.identifiers import FieldValueError, LicenseIdentifier, pack_uscc, unpack_uscc
from registry.licensetypes import MAX_FIELDS, LicenseType, get_type_by_number

__all__ = [
    "MAX_DECOMPRESSED",
    "MAX_TEXT_LENGTH",
    "PREFIX",
    "MalformedPresentationError",
    "Presentation",
    "decode_presentation",
    "present",
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


class MalformedPresentationError(RegistryError, ValueError):
    """The text is not a well-formed presentation; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class Presentation:
    """What a QR code carries: the header, some fields, what is needed to check the rest."""

    header: LicenseHeader
    disclosed: dict[str, str | int]  # canonical values, in field order
    nodes: tuple[SaltNode, ...]
    hidden: tuple[bytes, ...]
    signature: bytes

    @property
    def license_type(self) -> LicenseType:
        return self.header.license_type

    def digest(self) -> bytes:
        """The license digest recomputed from what is presented."""
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
        return cbor2.dumps(item)

    def to_text(self) -> str:
        """The QR text."""
        encoded: bytes = base45.b45encode(zlib.compress(self.to_cbor(), 9))
        return PREFIX + encoded.decode("ascii")


def present(license: License, signature: bytes, disclosed: list[str] | None = None) -> Presentation:
    """A presentation of ``license`` disclosing ``disclosed`` fields (default: the type's default)."""
    if len(signature) != _SIGNATURE:
        raise MalformedPresentationError("a signature must be 64 bytes (EIP-2098 compact form)")
    shown, nodes, hidden = license.disclosure(disclosed)
    return Presentation(
        header=license.header,
        disclosed={k: license.fields[k] for k in shown},
        nodes=tuple(nodes),
        hidden=tuple(hidden),
        signature=signature,
    )


def _fail(message: str) -> MalformedPresentationError:
    return MalformedPresentationError(message)


def _int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(f"{what} must be an integer from {low} to {high}")
    return value


def _bytes(value: Any, what: str) -> bytes:
    if not isinstance(value, bytes):
        raise _fail(f"{what} must be a byte string")
    return value


def _decompress(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_DECOMPRESSED)
    except zlib.error:
        raise _fail("the payload is not valid zlib data") from None
    if inflater.unconsumed_tail:
        raise _fail(f"the payload decompresses to more than {MAX_DECOMPRESSED} bytes")
    if not inflater.eof or inflater.unused_data:
        raise _fail("the payload is truncated or has trailing data")
    return out


def decode_presentation(text: object) -> Presentation:
    """Parse QR text into a :class:`Presentation`, strictly (no signature work is done here)."""
    if not isinstance(text, str):
        raise _fail("a presentation is text starting with LC1:")
    if len(text) > MAX_TEXT_LENGTH:
        raise _fail(f"the text has {len(text)} characters; at most {MAX_TEXT_LENGTH} are accepted")
    if not text.startswith(PREFIX):
        if text[:2] == "LC" and text[3:4] == ":":
            raise _fail(f"version {text[:4]!r} is not supported; this verifier reads {PREFIX}")
        raise _fail(f"the text must start with {PREFIX}")
    body = text[len(PREFIX) :]
    if not body or not set(body) <= _B45:
        raise _fail("after LC1: only base45 characters (0-9, A-Z, space, $%*+-./:) are allowed")
    if len(body) % 3 == 1:
        raise _fail("the base45 text has an impossible length (truncated?)")
    try:
        raw = b45decode(body)
    except ValueError:
        raise _fail("the base45 text does not decode") from None
    cbor_bytes = _decompress(raw)
    try:
        item = cbor2.loads(cbor_bytes)
    except Exception:  # noqa: BLE001 - any decoder failure on foreign bytes means "malformed"
        raise _fail("the payload is not valid CBOR") from None
    if cbor2.dumps(item) != cbor_bytes:
        raise _fail("the CBOR payload is not in its canonical encoding")
    return _from_item(item)


def _from_item(item: Any) -> Presentation:  # noqa: PLR0912 - one check per element, in order
    if not isinstance(item, list) or len(item) != 11:
        raise _fail("the payload must be an array of 11 elements")
    fmt, type_no, issuer, serial, version, valid_from, valid_to, disclosed, nodes_raw, hidden_raw, signature = item
    if fmt != FORMAT_VERSION or isinstance(fmt, bool):
        raise _fail(f"format version {fmt!r} is not supported; expected {FORMAT_VERSION}")
    try:
        ltype = get_type_by_number(type_no)
        license_id = LicenseIdentifier(
            ltype.code,
            unpack_uscc(_bytes(issuer, "the issuer code"), field="issuer"),
            _int(serial, "the serial", 1, 10**8 - 1),
            _int(version, "the version", 1, 99),
        )
        header = LicenseHeader(
            license_type=ltype,
            license_id=license_id,
            valid_from=_int(valid_from, "the first valid day", 0, 2**32 - 2),
            valid_to=None if valid_to is None else _int(valid_to, "the last valid day", 0, 2**32 - 2),
        )
    except FieldValueError as exc:
        raise _fail(str(exc)) from None
    if not isinstance(disclosed, dict) or len(disclosed) > MAX_FIELDS:
        raise _fail(f"disclosed fields must be a map of at most {MAX_FIELDS} entries")
    values: dict[str, str | int] = {}
    positions: set[int] = set()
    for number in sorted(disclosed, key=lambda n: n if isinstance(n, int) else -1):
        if isinstance(number, bool) or not isinstance(number, int) or number not in ltype.by_number:
            raise _fail(f"disclosed field number {number!r} is not a field of {ltype.code}")
        spec = ltype.by_number[number]
        try:
            values[spec.key] = spec.unpack(disclosed[number])
        except FieldValueError as exc:
            raise _fail(str(exc)) from None
        positions.add(number - 1)
    nodes_bytes = _bytes(nodes_raw, "the salt nodes")
    if len(nodes_bytes) % _NODE or len(nodes_bytes) > _NODE * MAX_FIELDS:
        raise _fail(f"the salt nodes must be 17-byte entries, at most {MAX_FIELDS}")
    nodes: list[SaltNode] = []
    covered: set[int] = set()
    for offset in range(0, len(nodes_bytes), _NODE):
        tag = nodes_bytes[offset]
        depth, index = tag >> 4, tag & 0x0F
        if depth > SALT_TREE_DEPTH or index >= 2**depth:
            raise _fail(f"salt node {offset // _NODE} has an impossible position")
        node = SaltNode(depth, index, nodes_bytes[offset + 1 : offset + _NODE])
        leaves = set(node.leaves())
        if leaves & covered:
            raise _fail("salt nodes overlap")
        covered |= leaves
        nodes.append(node)
    if not positions <= covered:
        raise _fail("a disclosed field has no salt")
    hidden_bytes = _bytes(hidden_raw, "the hidden commitments")
    if len(hidden_bytes) % _DIGEST or len(hidden_bytes) // _DIGEST + len(values) > len(ltype.fields):
        raise _fail(f"hidden commitments must be 32-byte entries, at most {len(ltype.fields)} fields in all")
    hidden = tuple(hidden_bytes[i : i + _DIGEST] for i in range(0, len(hidden_bytes), _DIGEST))
    if any(a >= b for a, b in itertools.pairwise(hidden)):
        raise _fail("hidden commitments must be in strictly ascending order")
    sig = _bytes(signature, "the signature")
    if len(sig) != _SIGNATURE:
        raise _fail("the signature must be 64 bytes (EIP-2098 compact form)")
    return Presentation(header=header, disclosed=values, nodes=tuple(nodes), hidden=hidden, signature=sig)
