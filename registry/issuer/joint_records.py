"""What the joint desk (:mod:`registry.issuer.joint`) answers: an application as the store holds it,
its co-signatures, and its errors."""

from __future__ import annotations

from dataclasses import dataclass

from registry.document.identifiers import issuer_id_from_uscc
from registry.document.joint import Applicant, JointBundle
from registry.errors import NotFoundError, RegistryError

__all__ = ["ApplicationNotFoundError", "Cosignature", "JointApplication", "JointStateError"]


class ApplicationNotFoundError(NotFoundError):
    """No joint application with that id in this store."""


class JointStateError(RegistryError):
    """The application cannot do that in its current state (anchored, missing co-signatures, ...)."""

    http_status = 409
    title = "Joint application state conflict"


@dataclass(frozen=True, slots=True)
class Cosignature:
    issuer_uscc: str
    bundle_digest: bytes
    public_key: bytes
    signature: bytes
    signed_at: int


@dataclass(frozen=True, slots=True)
class JointApplication:
    """An application as the store holds it, with its bundle as it stands now."""

    application_id: str
    lead_uscc: str
    applicant: Applicant
    co_approvers: tuple[str, ...]
    state: str
    created_at: int
    license_ids: tuple[str, ...]
    cosignatures: tuple[Cosignature, ...]
    bundle: JointBundle | None  # None while it has no member
    bundle_digest: bytes | None  # of the bundle now (or the one anchored)
    tx_hash: bytes | None = None
    block_number: int | None = None

    @property
    def departments(self) -> tuple[str, ...]:
        """Credit codes of every department that must co-sign (members' issuers and co-approvers)."""
        issuers = {lid[2:20] for lid in self.license_ids} | set(self.co_approvers) | {self.lead_uscc}
        return tuple(sorted(issuers, key=issuer_id_from_uscc))

    @property
    def current_cosignatures(self) -> dict[str, Cosignature]:
        """The co-signatures of the bundle as it stands (stale ones left out)."""
        return {c.issuer_uscc: c for c in self.cosignatures if c.bundle_digest == self.bundle_digest}

    @property
    def missing_cosignatures(self) -> tuple[str, ...]:
        current = self.current_cosignatures
        return tuple(d for d in self.departments if d not in current)
