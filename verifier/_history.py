"""The histories the event index keeps: each license's status changes and each type permission's
grants, with who made them and when, so that the index judges them later (see :mod:`verifier.index`)."""

from __future__ import annotations

from dataclasses import dataclass

from registry.chain.events import LicensesReinstated, LicensesRevoked, LicensesSuperseded, LicensesSuspended
from registry.chain.records import Status, TypePermission

__all__ = ["PermissionGrant", "StatusChange", "record_status_changes"]


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One status change of a license as the chain recorded it: an entry of the license's history,
    kept with who made it and when so the index can judge it later; the status that history results
    in is a :class:`~registry.chain.records.LicenseStatus`."""

    status: Status
    reason: int
    replacement: bytes | None
    actor: str
    time: int
    voiding: bool = False  # a region authority's StatusChangesVoided


@dataclass(frozen=True, slots=True)
class PermissionGrant:
    """One ``LicenseTypePermitted`` event: the window granted (the chain's own record), and when it
    was granted, so that re-granting a type never changes earlier results."""

    granted_at: int
    permission: TypePermission


def record_status_changes(
    event: LicensesSuperseded | LicensesSuspended | LicensesReinstated | LicensesRevoked,
    block_time: int,
    into: dict[tuple[bytes, bytes], list[StatusChange]],
) -> None:
    """Add the status changes ``event`` makes to ``into`` (by issuer and digest), in order."""
    if isinstance(event, LicensesSuperseded):
        for digest, replacement in zip(event.digests, event.replacements, strict=True):
            change = StatusChange(Status.SUPERSEDED, event.reason, replacement, event.actor, block_time)
            into.setdefault((event.issuer_id, digest), []).append(change)
        return
    status = {
        LicensesSuspended: Status.SUSPENDED,
        LicensesReinstated: Status.ACTIVE,
        LicensesRevoked: Status.REVOKED,
    }[type(event)]
    for digest in event.digests:
        change = StatusChange(status, event.reason, None, event.actor, block_time)
        into.setdefault((event.issuer_id, digest), []).append(change)
