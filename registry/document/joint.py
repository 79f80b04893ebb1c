"""Joint issuance (七证联办): the application id, the committed applicant, the bundle of member
licenses its departments co-sign, and the bundle's QR text ``LB1:`` (docs/joint.md).

- **Application id** and **applicant**: :mod:`registry.document.application` (re-exported here).
- **Member**: one license's digest (recomputed from its header and fields hash, exactly as
  :func:`registry.document.license.license_digest` does), its type id and its issuer id.
- **Bundle digest**: EIP-712 typed data ``JointBundle(bytes32 applicationId,bytes32 applicant,
  JointMember[] members,bytes32[] departments)`` under the license registry's domain; members
  ascend by digest, departments (issuer ids) ascend, 1 to 64 members, 1 to 16 departments.

The QR text is ``LB1:`` + base45(zlib(CBOR)), the CBOR item an array of six elements::

    [format version (1), application serial, lead department index,
     [applicant credit code (12 bytes packed), applicant name, salt (16 bytes)],
     [department credit code (12 bytes packed), ...],              # ascending by issuer id
     [[license type number, issuer index, serial, version, first valid day,
       last valid day or null, fields hash (32 bytes)], ...]]      # ascending by member digest

Decoding is strict and bounded like ``LC1:`` (:mod:`registry.document.presentation`): text
length, alphabet, decompressed size, then a schema-directed reader of canonical CBOR that checks
every count and value where it reads it; any problem is a :class:`MalformedBundleError`.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import base45
import cbor2

from registry.document._base45 import b45decode
from registry.document._cbor import CBORFormatError, StrictReader
from registry.document._inflate import inflate
from registry.document.application import MAX_APPLICANT_NAME, Applicant, JointApplicationId, canonical_text
from registry.document.identifiers import (
    MAX_SERIAL,
    MAX_VERSION,
    FieldValueError,
    LicenseIdentifier,
    issuer_id_from_uscc,
    pack_uscc,
    unpack_uscc,
    uscc_from_issuer_id,
)
from registry.document.license import License, LicenseHeader, digest_from_fields_hash, fields_hash
from registry.document.licensetypes import LAST_DAY, LicenseType, get_type_by_number
from registry.document.presentation import MAX_DECOMPRESSED, MAX_TEXT_LENGTH, MalformedPresentationError
from signer import keccak256

__all__ = [
    "BUNDLE_FORMAT_VERSION",
    "JOINT_BUNDLE_TYPEHASH",
    "JOINT_MEMBER_TYPEHASH",
    "MAX_APPLICANT_NAME",
    "MAX_DEPARTMENTS",
    "MAX_MEMBERS",
    "PREFIX",
    "Applicant",
    "JointApplicationId",
    "JointBundle",
    "JointMember",
    "MalformedBundleError",
    "decode_bundle",
    "decode_bundle_payload",
    "present_bundle",
]

PREFIX = "LB1:"
BUNDLE_FORMAT_VERSION = 1
MAX_MEMBERS = 64
MAX_DEPARTMENTS = 16
_DIGEST = 32
JOINT_MEMBER_TYPE = "JointMember(bytes32 digest,bytes32 licenseType,bytes32 issuerId)"
JOINT_BUNDLE_TYPE = (
    "JointBundle(bytes32 applicationId,bytes32 applicant,JointMember[] members,bytes32[] departments)"
    + JOINT_MEMBER_TYPE
)
JOINT_MEMBER_TYPEHASH = keccak256(JOINT_MEMBER_TYPE.encode())
JOINT_BUNDLE_TYPEHASH = keccak256(JOINT_BUNDLE_TYPE.encode())
_B45 = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


class MalformedBundleError(MalformedPresentationError):
    """The text is not a well-formed joint bundle (联办码); the message says what was expected."""

    http_status = 422
    title = "Malformed joint bundle"


# ------------------------------------------------------------------------------------------------
# Members and the bundle
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JointMember:
    """One member license, as the bundle (and its QR code) carries it: its header and fields hash."""

    license_type: LicenseType
    license_id: LicenseIdentifier
    valid_from: int  # day number, first valid day
    valid_to: int | None  # day number, last valid day (inclusive); None = open-ended
    fields_hash: bytes  # keccak256 of the sorted field commitments

    def __post_init__(self) -> None:
        if not isinstance(self.license_type, LicenseType) or not isinstance(self.license_id, LicenseIdentifier):
            raise FieldValueError("member", "lacks its license type or id", "a LicenseType and a LicenseIdentifier")
        days = (self.valid_from, self.valid_from if self.valid_to is None else self.valid_to)
        if any(isinstance(d, bool) or not isinstance(d, int) for d in days):
            raise FieldValueError("member validity", "is not day numbers", "integer day numbers (last one or None)")
        if not isinstance(self.fields_hash, bytes) or len(self.fields_hash) != _DIGEST:
            raise FieldValueError("member fields hash", "is not 32 bytes", "keccak256 of the sorted commitments")
        _ = self.header  # validates the type, id and validity window

    @classmethod
    def from_license(cls, license: License) -> JointMember:
        h = license.header
        return cls(h.license_type, h.license_id, h.valid_from, h.valid_to, fields_hash(license.commitments.values()))

    @cached_property
    def header(self) -> LicenseHeader:
        return LicenseHeader(self.license_type, self.license_id, self.valid_from, self.valid_to)

    @property
    def issuer_id(self) -> bytes:
        return self.license_id.issuer_id

    @cached_property
    def digest(self) -> bytes:
        """The license's digest (EIP-712 struct hash), as anchored."""
        return digest_from_fields_hash(self.header, self.fields_hash)

    @cached_property
    def member_hash(self) -> bytes:
        return keccak256(JOINT_MEMBER_TYPEHASH + self.digest + self.license_type.type_id + self.issuer_id)


def _fail(what: str, problem: str, expected: str) -> FieldValueError:
    return FieldValueError(what, problem, expected)


@dataclass(frozen=True)
class JointBundle:
    """The manifest the departments co-sign. Build one with :meth:`create`; the constructor checks
    the normal form (members ascending by digest, departments ascending, bounds, issuers)."""

    application_id: JointApplicationId
    applicant: Applicant
    members: tuple[JointMember, ...]
    departments: tuple[bytes, ...]  # issuer ids, ascending

    def __post_init__(self) -> None:
        members, departments = self.members, self.departments
        if not isinstance(self.application_id, JointApplicationId) or not isinstance(self.applicant, Applicant):
            raise _fail("bundle", "lacks its application id or applicant", "a JointApplicationId and an Applicant")
        if not (isinstance(members, tuple) and isinstance(departments, tuple)) or not all(
            isinstance(m, JointMember) for m in members
        ):
            raise _fail("bundle", "members or departments are not tuples", "a tuple of JointMember, one of issuer ids")
        if not 1 <= len(members) <= MAX_MEMBERS:
            raise _fail("bundle", f"has {len(members)} members", f"1 to {MAX_MEMBERS} members")
        if not 1 <= len(departments) <= MAX_DEPARTMENTS:
            raise _fail("bundle", f"has {len(departments)} departments", f"1 to {MAX_DEPARTMENTS} departments")
        for department in departments:
            if not isinstance(department, bytes) or uscc_from_issuer_id(department) is None:
                raise _fail("bundle department", f"{department!r} is not an issuer id", "a credit code, zero-padded")
        if any(a >= b for a, b in itertools.pairwise(departments)):
            raise _fail("bundle departments", "are not in strictly ascending order", "ascending issuer ids, no repeats")
        if any(a.digest >= b.digest for a, b in itertools.pairwise(members)):
            raise _fail("bundle members", "are not in strictly ascending order of digest", "ascending, no repeats")
        if len({m.license_id.text for m in members}) != len(members):
            raise _fail("bundle members", "hold one license id twice", "each member license once")
        known = set(departments)
        for member in members:
            if member.issuer_id not in known:
                raise _fail(
                    "bundle member", f"{member.license_id}'s issuer is not a department", "issuers among departments"
                )
        if self.application_id.lead_issuer_id not in known:
            raise _fail("bundle", "the application's lead department is not a department", "the lead among them")

    @classmethod
    def create(
        cls,
        application_id: JointApplicationId,
        applicant: Applicant,
        members: Iterable[JointMember | License],
        co_approvers: Iterable[bytes | str] = (),
    ) -> JointBundle:
        """A bundle of ``members`` (sorted by digest); its departments are the members' issuers plus
        ``co_approvers`` (issuer ids or credit codes of departments that co-approve without
        issuing), ascending."""
        given = list(itertools.islice(members, MAX_MEMBERS + 1))
        if len(given) > MAX_MEMBERS:
            raise _fail("bundle", f"has more than {MAX_MEMBERS} members", f"1 to {MAX_MEMBERS} members")
        items = [m if isinstance(m, JointMember) else JointMember.from_license(m) for m in given]
        extra = [issuer_id_from_uscc(d) if isinstance(d, str) else d for d in co_approvers]
        departments = sorted({*(m.issuer_id for m in items), *extra})
        return cls(application_id, applicant, tuple(sorted(items, key=lambda m: m.digest)), tuple(departments))

    @property
    def department_codes(self) -> list[str]:
        return [str(uscc_from_issuer_id(d)) for d in self.departments]

    @cached_property
    def struct_hash(self) -> bytes:
        return keccak256(
            JOINT_BUNDLE_TYPEHASH
            + self.application_id.chain_id
            + self.applicant.commitment
            + keccak256(b"".join(m.member_hash for m in self.members))
            + keccak256(b"".join(self.departments))
        )

    def digest(self, domain_separator: bytes) -> bytes:
        """The bundle digest each department signs: ``keccak256(0x1901 || domainSeparator ||
        structHash)`` under the license registry's domain."""
        if not isinstance(domain_separator, bytes) or len(domain_separator) != _DIGEST:
            raise _fail("domain separator", "is not 32 bytes", "the license registry's EIP-712 domain separator")
        return keccak256(b"\x19\x01" + domain_separator + self.struct_hash)

    def to_cbor(self) -> bytes:
        index = {d: i for i, d in enumerate(self.departments)}
        a = self.applicant
        return cbor2.dumps(
            [
                BUNDLE_FORMAT_VERSION,
                self.application_id.serial,
                index[self.application_id.lead_issuer_id],
                [pack_uscc(a.credit_code), a.name, a.salt],
                [pack_uscc(code) for code in self.department_codes],
                [
                    [
                        m.license_type.number,
                        index[m.issuer_id],
                        m.license_id.serial,
                        m.license_id.version,
                        m.valid_from,
                        m.valid_to,
                        m.fields_hash,
                    ]
                    for m in self.members
                ],
            ]
        )


# ------------------------------------------------------------------------------------------------
# The QR text
# ------------------------------------------------------------------------------------------------


def present_bundle(bundle: JointBundle) -> str:
    """The bundle's QR text (联办码); refused when it exceeds what one QR code of this project holds."""
    encoded: bytes = base45.b45encode(zlib.compress(bundle.to_cbor(), 9))
    text = PREFIX + encoded.decode("ascii")
    if len(text) > MAX_TEXT_LENGTH:
        raise _fail("bundle", f"its QR text has {len(text)} characters", f"at most {MAX_TEXT_LENGTH} (fewer members)")
    return text


def _malformed(message: str) -> MalformedBundleError:
    return MalformedBundleError(message)


def decode_bundle(text: object) -> JointBundle:
    """Parse a bundle's QR text strictly (length, alphabet, decompressed size, schema, values)."""
    if not isinstance(text, str):
        raise _malformed(f"a joint bundle is text starting with {PREFIX}")
    if len(text) > MAX_TEXT_LENGTH:
        raise _malformed(f"the text has {len(text)} characters; at most {MAX_TEXT_LENGTH} are accepted")
    if not text.startswith(PREFIX):
        if text[:2] == "LB" and text[3:4] == ":":
            raise _malformed(f"version {text[:4]!r} is not supported; this verifier reads {PREFIX}")
        raise _malformed(f"the text must start with {PREFIX}")
    body = text[len(PREFIX) :]
    if not body or not _B45.issuperset(body):
        raise _malformed(f"after {PREFIX} only base45 characters (0-9, A-Z, space, $%*+-./:) are allowed")
    if len(body) % 3 == 1:
        raise _malformed("the base45 text has an impossible length (truncated?)")
    try:
        raw = b45decode(body)
    except ValueError:
        raise _malformed("the base45 text does not decode") from None
    data = inflate(raw, MalformedBundleError, MAX_DECOMPRESSED)
    return decode_bundle_payload(data)


def decode_bundle_payload(data: bytes) -> JointBundle:
    """Parse the CBOR payload (after base45 and zlib) in one pass of a strict, schema-directed reader."""
    try:
        return _read(StrictReader(data))
    except (CBORFormatError, FieldValueError) as exc:
        raise _malformed(str(exc)) from None


def _read(r: StrictReader) -> JointBundle:
    r.array(6, "the bundle", "an array of 6 elements")
    fmt = r.uint("the bundle format version")
    if fmt != BUNDLE_FORMAT_VERSION:
        raise _malformed(f"bundle format version {fmt} is not supported; expected {BUNDLE_FORMAT_VERSION}")
    serial = r.uint("the application serial", 1, MAX_SERIAL)
    lead = r.uint("the lead department index", 0, MAX_DEPARTMENTS - 1)
    r.array(3, "the applicant", "an array of 3 elements: credit code, name, salt")
    code = unpack_uscc(r.byte_string("the applicant credit code", "12 bytes"), field="applicant credit code")
    name = r.text_string("the applicant name", "text")
    salt = r.byte_string("the applicant salt", "16 bytes")
    applicant = Applicant(code, canonical_text(name, "applicant name", MAX_APPLICANT_NAME), salt)
    count = r.array_head(MAX_DEPARTMENTS, "the departments", f"an array of 1 to {MAX_DEPARTMENTS} credit codes")
    if count == 0:
        raise _malformed(f"the departments must be an array of 1 to {MAX_DEPARTMENTS} credit codes; found none")
    codes = [
        unpack_uscc(r.byte_string("a department credit code", "12 bytes"), field="department") for _ in range(count)
    ]
    if lead >= count:
        raise _malformed(f"the lead department index must be below {count} (the departments); found {lead}")
    n = r.array_head(MAX_MEMBERS, "the members", f"an array of 1 to {MAX_MEMBERS} members")
    if n == 0:
        raise _malformed(f"the members must be an array of 1 to {MAX_MEMBERS} members; found none")
    members = [_read_member(r, codes) for _ in range(n)]
    r.end("the bundle's array")
    return JointBundle(
        JointApplicationId(codes[lead], serial),
        applicant,
        tuple(members),
        tuple(issuer_id_from_uscc(c) for c in codes),
    )


def _read_member(r: StrictReader, codes: list[str]) -> JointMember:
    r.array(7, "a member", "an array of 7 elements")
    ltype = get_type_by_number(r.uint("a member's license type number"))
    issuer = r.uint("a member's issuer index", 0, len(codes) - 1)
    serial = r.uint("a member's serial", 1, MAX_SERIAL)
    version = r.uint("a member's version", 1, MAX_VERSION)
    valid_from = r.uint("a member's first valid day", 0, LAST_DAY)
    valid_to = None if r.null() else r.uint("a member's last valid day", 0, LAST_DAY)
    digest = r.byte_string("a member's fields hash", "32 bytes")
    if len(digest) != _DIGEST:
        raise _malformed(f"a member's fields hash must be 32 bytes; found {len(digest)}")
    license_id = LicenseIdentifier(ltype.code, codes[issuer], serial, version)
    return JointMember(ltype, license_id, valid_from, valid_to, digest)
