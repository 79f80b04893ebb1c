"""The license document: header, salted field commitments, digest, and disclosure.

- **Header** (always disclosed): format version, license type, license id, issuer id, validity
  window (first and last valid day, the last one inclusive; open-ended when absent).
- **Field commitments**: ``keccak256(salt || cbor([field key, canonical value]))`` with a 16-byte
  salt per field. The salts are the leaves of a 16-leaf tree derived from one 16-byte per-license
  secret (``child = keccak256(node || side)[:16]``), so a presentation reveals the secret when
  every field is disclosed, and otherwise the few tree nodes that cover the disclosed fields and
  none of the hidden ones.
- **Digest**: the EIP-712 struct hash of
  ``License(uint16 formatVersion,bytes32 licenseType,string licenseId,bytes32 issuerId,``
  ``uint32 validFrom,uint32 validTo,bytes32[] fieldCommitments)`` with the commitments sorted;
  days are numbers since 1970-01-01 and an open end is ``0xFFFFFFFF``. It is the same whatever
  is disclosed. The issuer signs ``keccak256(0x1901 || domainSeparator || digest)``, the EIP-712
  hash under the domain ``(name "E-License Registry", version "1", chain id, license registry)``.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

import cbor2
import sha3 as _sha3

from registry.document._accel import compiled_module
from registry.document.identifiers import FieldValueError, LicenseIdentifier
from registry.document.licensetypes import LAST_DAY, MAX_FIELDS, LicenseType, day_number, get_type
from signer import keccak256

__all__ = [
    "FORMAT_VERSION",
    "LICENSE_TYPEHASH",
    "OPEN_END_DAY",
    "SALT_TREE_DEPTH",
    "License",
    "LicenseHeader",
    "SaltNode",
    "commitment",
    "commitments_of",
    "cover_nodes",
    "derive_salts",
    "digest_from_fields_hash",
    "fields_hash",
    "header_digest",
    "license_digest",
    "python_commitments_of",
    "python_header_digest",
]

FORMAT_VERSION = 1
OPEN_END_DAY = 0xFFFFFFFF
SALT_TREE_DEPTH = 4  # 16 leaves = MAX_FIELDS
LICENSE_TYPE_STRING = (
    "License(uint16 formatVersion,bytes32 licenseType,string licenseId,bytes32 issuerId,"
    "uint32 validFrom,uint32 validTo,bytes32[] fieldCommitments)"
)
LICENSE_TYPEHASH = keccak256(LICENSE_TYPE_STRING.encode())
assert 2**SALT_TREE_DEPTH == MAX_FIELDS


# ------------------------------------------------------------------------------------------------
# Salts
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SaltNode:
    """A node of the salt tree: ``depth`` 0 (the secret) to 4 (one field's salt)."""

    depth: int
    index: int
    value: bytes

    def leaves(self) -> range:
        width = 2 ** (SALT_TREE_DEPTH - self.depth)
        return range(self.index * width, (self.index + 1) * width)


def _child(node: bytes, side: int) -> bytes:
    return keccak256(node + bytes((side,)))[:16]


def derive_salts(nodes: Iterable[SaltNode]) -> dict[int, bytes]:
    """Salts of every leaf (0-based field position) below the given nodes."""
    salts: dict[int, bytes] = {}
    for node in nodes:
        level = [node.value]
        for _ in range(SALT_TREE_DEPTH - node.depth):
            level = [_child(v, side) for v in level for side in (0, 1)]
        for offset, salt in zip(node.leaves(), level, strict=True):
            salts[offset] = salt
    return salts


def cover_nodes(secret: bytes, disclosed: set[int], hidden: set[int]) -> list[SaltNode]:
    """The fewest tree nodes whose leaves include every ``disclosed`` position and no ``hidden`` one."""
    result: list[SaltNode] = []

    def visit(depth: int, index: int, value: bytes) -> None:
        width = 2 ** (SALT_TREE_DEPTH - depth)
        leaves = set(range(index * width, (index + 1) * width))
        if not leaves & disclosed:
            return
        if not leaves & hidden:
            result.append(SaltNode(depth, index, value))
            return
        visit(depth + 1, 2 * index, _child(value, 0))
        visit(depth + 1, 2 * index + 1, _child(value, 1))

    visit(0, 0, secret)
    return result


def commitment(salt: bytes, key: str, value: str | int) -> bytes:
    """Commitment to one field."""
    return keccak256(salt + cbor2.dumps([key, value]))


# ------------------------------------------------------------------------------------------------
# Digest and EIP-712
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LicenseHeader:
    """What every presentation discloses."""

    license_type: LicenseType
    license_id: LicenseIdentifier
    valid_from: int  # day number, first valid day
    valid_to: int | None  # day number, last valid day (inclusive); None = open-ended

    def __post_init__(self) -> None:
        if self.license_id.type_code != self.license_type.code:
            raise FieldValueError(
                "license id", f"type {self.license_id.type_code} differs from {self.license_type.code}", "the same type"
            )
        if not 0 <= self.valid_from <= LAST_DAY:
            raise FieldValueError(
                "valid_from", f"day {self.valid_from} is out of range", "a date from 1970-01-01 to 9999-12-31"
            )
        if self.valid_to is not None:
            if self.valid_to > LAST_DAY:
                raise FieldValueError("valid_to", f"day {self.valid_to} is out of range", "a date up to 9999-12-31")
            if self.valid_to < self.valid_from:
                raise FieldValueError("valid_to", "is before valid_from", "a last valid day on or after the first")

    @property
    def issuer_uscc(self) -> str:
        return self.license_id.issuer_uscc

    @property
    def issuer_id(self) -> bytes:
        return self.license_id.issuer_id

    def is_current(self, today: dt.date) -> int:
        """-1 before the window, 0 within, 1 after."""
        day = day_number(today)
        if day < self.valid_from:
            return -1
        if self.valid_to is not None and day > self.valid_to:
            return 1
        return 0


def fields_hash(commitments: Iterable[bytes]) -> bytes:
    """``keccak256`` of the sorted field commitments: the ``fieldCommitments`` member of the digest."""
    return keccak256(b"".join(sorted(commitments)))


def license_digest(header: LicenseHeader, commitments: Iterable[bytes]) -> bytes:
    """EIP-712 struct hash of the license (sorted commitments)."""
    return digest_from_fields_hash(header, fields_hash(commitments))


def digest_from_fields_hash(header: LicenseHeader, fields_hash: bytes) -> bytes:
    """EIP-712 struct hash of the license from its header and :func:`fields_hash` (a joint bundle's
    QR code carries the fields hash only)."""
    if len(fields_hash) != 32:
        raise FieldValueError("fields hash", f"is {len(fields_hash)} bytes", "32 bytes")
    return keccak256(
        LICENSE_TYPEHASH
        + FORMAT_VERSION.to_bytes(32, "big")
        + header.license_type.type_id
        + keccak256(str(header.license_id).encode("ascii"))
        + header.issuer_id
        + header.valid_from.to_bytes(32, "big")
        + (OPEN_END_DAY if header.valid_to is None else header.valid_to).to_bytes(32, "big")
        + fields_hash
    )


# ------------------------------------------------------------------------------------------------
# The verifier's path: the same values as the definitions above (commitment, derive_salts,
# license_digest), with nothing derived twice; tests/test_digest_fast.py compares them.
# ------------------------------------------------------------------------------------------------

_keccak = _sha3.keccak_256
_ITEM_HEADS: dict[str, bytes] = {}  # field key -> CBOR of a 2-array's head and the key
_TYPE_PREFIXES: dict[str, bytes] = {}  # type code -> the digest's constant leading members


def python_commitments_of(
    nodes: Iterable[SaltNode], values: Mapping[str, str | int], positions: Mapping[str, int]
) -> list[bytes]:
    """The commitments of ``values`` (key -> canonical value; ``positions``: key -> 0-based leaf),
    salted from the tree ``nodes``: :func:`commitment` of each with its :func:`derive_salts` salt,
    deriving only the tree nodes on the way to a wanted leaf."""
    wanted = 0
    for key in values:
        wanted |= 1 << positions[key]
    salts: dict[int, bytes] = {}
    for node in nodes:
        width = 1 << (SALT_TREE_DEPTH - node.depth)
        steps, leaves = _derivation(node.depth, node.index, wanted >> (node.index * width) & ((1 << width) - 1))
        derived = [node.value]
        for parent, side in steps:
            derived.append(_keccak(derived[parent] + side).digest()[:16])
        for leaf, slot in leaves:
            salts[leaf] = derived[slot]
    out = []
    for key, value in values.items():
        head = _ITEM_HEADS.get(key)
        if head is None:
            head = _ITEM_HEADS[key] = b"\x82" + cbor2.dumps(key)
        # a definite-length array's encoding is its head followed by its items' encodings
        out.append(_keccak(salts[positions[key]] + head + cbor2.dumps(value)).digest())
    return out


@functools.lru_cache(maxsize=1024)
def _derivation(
    depth: int, index: int, wanted: int
) -> tuple[tuple[tuple[int, bytes], ...], tuple[tuple[int, int], ...]]:
    """How to derive the wanted leaves below the node (``depth``, ``index``): the children to
    compute in order, each as (slot of its parent, side byte), the node itself in slot 0 and each
    child in the next slot; then (leaf position, slot) of each wanted leaf. ``wanted`` has a bit
    per leaf below the node, the first leaf lowest."""
    steps: list[tuple[int, bytes]] = []
    level = [(index, 0)]  # (index at this depth, slot)
    for below in range(SALT_TREE_DEPTH - depth - 1, -1, -1):  # the leaves below a child: 1 << below
        children = []
        for at, slot in level:
            for side in (0, 1):
                child = 2 * at + side
                first = (child << below) - (index << (SALT_TREE_DEPTH - depth))  # its first leaf under the node
                if wanted >> first & ((1 << (1 << below)) - 1):
                    steps.append((slot, bytes((side,))))
                    children.append((child, len(steps)))
        level = children
    return tuple(steps), tuple(level)


def _type_prefix(ltype: LicenseType) -> bytes:
    """The digest's leading members that depend on the type only (type hash, format, type id)."""
    prefix = _TYPE_PREFIXES.get(ltype.code)
    if prefix is None:
        prefix = _TYPE_PREFIXES[ltype.code] = LICENSE_TYPEHASH + FORMAT_VERSION.to_bytes(32, "big") + ltype.type_id
    return prefix


def python_header_digest(header: LicenseHeader, commitments: list[bytes]) -> bytes:
    """:func:`license_digest`, with the members that depend on the type only computed once per type
    (``commitments`` is sorted in place)."""
    prefix = _type_prefix(header.license_type)
    commitments.sort()
    valid_to = OPEN_END_DAY if header.valid_to is None else header.valid_to
    digest: bytes = _keccak(
        prefix
        + _keccak(str(header.license_id).encode("ascii")).digest()
        + header.issuer_id
        + header.valid_from.to_bytes(32, "big")
        + valid_to.to_bytes(32, "big")
        + _keccak(b"".join(commitments)).digest()
    ).digest()
    return digest


def _compiled_header_digest(header: LicenseHeader, commitments: list[bytes]) -> bytes:
    """:func:`python_header_digest` by the compiled hot path."""
    assert _COMPILED is not None
    license_id = header.license_id
    valid_to = header.valid_to
    digest: bytes = _COMPILED.header_digest(
        _type_prefix(header.license_type),
        license_id.text,
        license_id.issuer_id,
        header.valid_from,
        OPEN_END_DAY if valid_to is None else valid_to,
        commitments,
    )
    return digest


_COMPILED = compiled_module()
#: The verifier's path: the compiled twins (:mod:`registry.document._speedups`) when built, else
#: :func:`python_commitments_of` and :func:`python_header_digest`; the same values either way.
commitments_of = python_commitments_of if _COMPILED is None else _COMPILED.commitments_of
header_digest = python_header_digest if _COMPILED is None else _compiled_header_digest


# ------------------------------------------------------------------------------------------------
# The full license (issuer side)
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class License:
    """A license with all its fields and its secret: only the issuer's store holds these."""

    header: LicenseHeader
    fields: Mapping[str, str | int]  # canonical values
    secret: bytes

    def __post_init__(self) -> None:
        if len(self.secret) != 16:
            raise FieldValueError("secret", "is not 16 bytes", "a 16-byte per-license secret")
        unknown = set(self.fields) - set(self.header.license_type.by_key)
        if unknown:
            raise FieldValueError("fields", f"unknown {sorted(unknown)}", "fields of the license type")

    @classmethod
    def create(
        cls,
        *,
        license_type: str | LicenseType,
        license_id: LicenseIdentifier,
        valid_from: dt.date,
        valid_to: dt.date | None,
        fields: Mapping[str, object],
        secret: bytes,
    ) -> License:
        """Validate input values and build the license."""
        ltype = license_type if isinstance(license_type, LicenseType) else get_type(license_type)
        header = LicenseHeader(
            license_type=ltype,
            license_id=license_id,
            valid_from=day_number(valid_from),
            valid_to=None if valid_to is None else day_number(valid_to),
        )
        return cls(header=header, fields=ltype.canonical_fields(fields), secret=secret)

    @property
    def license_type(self) -> LicenseType:
        return self.header.license_type

    @cached_property
    def salts(self) -> dict[int, bytes]:
        return derive_salts([SaltNode(0, 0, self.secret)])

    @cached_property
    def commitments(self) -> dict[str, bytes]:
        specs = self.license_type.by_key
        return {key: commitment(self.salts[specs[key].number - 1], key, value) for key, value in self.fields.items()}

    @cached_property
    def digest(self) -> bytes:
        return license_digest(self.header, self.commitments.values())

    def positions(self, keys: Iterable[str]) -> set[int]:
        specs = self.license_type.by_key
        return {specs[k].number - 1 for k in keys}

    def disclosure(self, disclosed: Iterable[str] | None = None) -> tuple[list[str], list[SaltNode], list[bytes]]:
        """(disclosed keys in field order, salt nodes, commitments of hidden fields sorted) for a
        presentation disclosing ``disclosed`` (default: the type's default disclosure)."""
        if disclosed is None:
            chosen = {s.key for s in self.license_type.fields if s.disclose_by_default}
        else:
            chosen = set(disclosed)
            unknown = chosen - set(self.license_type.by_key)
            if unknown:
                raise FieldValueError(
                    "disclose", f"unknown field(s) {', '.join(sorted(unknown))}", "fields of the license type"
                )
        shown = [s.key for s in self.license_type.fields if s.key in chosen and s.key in self.fields]
        hidden = [k for k in self.fields if k not in chosen]
        nodes = cover_nodes(self.secret, self.positions(shown), self.positions(hidden))
        return shown, nodes, sorted(self.commitments[k] for k in hidden)
