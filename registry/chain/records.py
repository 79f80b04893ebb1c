"""Typed records of the registry's facts, one type per fact: the chain client returns them from the
contracts' views and the verifier's event index builds the same types from the contracts' events."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from registry.errors import ConfigurationError

__all__ = [
    "OPEN_END",
    "Anchor",
    "CoApprovalPolicy",
    "Issuer",
    "JointAnchor",
    "JointMember",
    "KeyWindow",
    "LicenseStatus",
    "Region",
    "Status",
    "TypePermission",
    "co_signing_key_ref",
    "license_type_code",
    "license_type_id",
]

#: End of an open-ended window (``type(uint64).max``).
OPEN_END = 2**64 - 1


class Status(enum.IntEnum):
    """On-chain status of a license (``ILicenseRegistry.Status``)."""

    ACTIVE = 0
    SUSPENDED = 1
    REVOKED = 2
    SUPERSEDED = 3

    @property
    def is_final(self) -> bool:
        return self in (Status.REVOKED, Status.SUPERSEDED)


@dataclass(frozen=True, slots=True)
class Region:
    code: int
    name: str


@dataclass(frozen=True, slots=True)
class Issuer:
    """A registered issuer. ``region_name`` is the name its region was added with, as the event
    index knows it; a read of the trust registry's ``getIssuer`` leaves it empty."""

    issuer_id: bytes
    region: int
    active: bool
    name: str
    profile_hash: bytes
    profile_uri: str
    region_name: str = ""


@dataclass(frozen=True, slots=True)
class KeyWindow:
    """A signing key's window ``[valid_from, valid_until)`` for its issuer."""

    key: str
    issuer_id: bytes
    valid_from: int
    valid_until: int

    def contains(self, at: int) -> bool:
        return self.valid_from <= at < self.valid_until


@dataclass(frozen=True, slots=True)
class TypePermission:
    issuer_id: bytes
    license_type: bytes
    valid_from: int
    valid_until: int

    def contains(self, at: int) -> bool:
        return self.valid_from <= at < self.valid_until


@dataclass(frozen=True, slots=True)
class Anchor:
    """A batch anchored by ``issuer_id``: with which key, when. Anchors are per issuer: another
    issuer's anchor of the same root is a different record. ``valid`` is False when the batch's
    published digests do not rebuild its root: the event index checks every batch it applies; the
    contract's ``getAnchor`` does not publish the digests, so a read leaves it True."""

    root: bytes
    issuer_id: bytes
    key: str
    timestamp: int
    block_number: int
    count: int
    valid: bool = True


@dataclass(frozen=True, slots=True)
class JointMember:
    """One license of a joint anchor: its digest, type and issuer, as the departments co-signed them."""

    digest: bytes
    license_type: bytes
    issuer_id: bytes


@dataclass(frozen=True, slots=True)
class JointAnchor:
    """A bundle of licenses co-signed by several departments and checked on chain (``JointAnchored``):
    the aggregate signature of every department in ``departments`` (with the co-signing keys
    ``key_ids``, in the same order) verified by the contract when it was anchored."""

    bundle_digest: bytes
    application_id: bytes
    submitter: str
    applicant: bytes
    members: tuple[JointMember, ...]
    departments: tuple[bytes, ...]
    key_ids: tuple[bytes, ...]
    timestamp: int
    block_number: int

    def member(self, issuer_id: bytes, digest: bytes) -> JointMember | None:
        return next((m for m in self.members if m.digest == digest and m.issuer_id == issuer_id), None)


@dataclass(frozen=True, slots=True)
class CoApprovalPolicy:
    """The departments whose co-signatures a license type needs in a region, from ``since`` on (an
    empty ``departments`` ends the policy)."""

    region: int
    license_type: bytes
    departments: tuple[bytes, ...]
    since: int


def co_signing_key_ref(key_id: bytes) -> str:
    """How a co-signing key's window is filed beside the signing keys' (an address has 42
    characters, this 66: they never meet)."""
    return "0x" + key_id.hex()


@dataclass(frozen=True, slots=True)
class LicenseStatus:
    status: Status
    reason: int
    replacement: bytes | None
    set_by: str | None = None  # the key or authority that set the status (None: never changed)
    set_at: int = 0


def license_type_id(code: str) -> bytes:
    """The ``bytes32`` id of a license type code: the ASCII code, left-aligned, zero-padded.

    >>> license_type_id("BL").hex()[:8]
    '424c0000'
    """
    if not isinstance(code, str) or not code or len(code) > 32 or not code.isascii() or not code.isprintable():
        raise ConfigurationError(f"license type code must be 1 to 32 printable ASCII characters, got {code!r}")
    return code.encode("ascii").ljust(32, b"\x00")


def license_type_code(type_id: bytes) -> str:
    """Inverse of :func:`license_type_id`."""
    return type_id.rstrip(b"\x00").decode("ascii", errors="replace")
