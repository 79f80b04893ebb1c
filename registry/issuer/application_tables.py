"""The issuer store's tables of applications (秒批): each decision with its rules' results, and the
licenses presented as its evidence, declared on the store's ``metadata`` (migration 0004)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table, Text

from registry.issuer.store import metadata

__all__ = ["application_prerequisites", "applications"]

applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),  # the order decisions were recorded in
    Column("decision_id", String(32), nullable=False, unique=True),
    Column("issuer_uscc", String(18), nullable=False, index=True),
    Column("type_code", String(2), nullable=False),
    Column("outcome", String(8), nullable=False),  # accepted | refused
    Column("decided_at", Integer, nullable=False),  # UNIX seconds
    Column("block_number", Integer, nullable=False),  # the chain block the verifier's state was at
    Column("block_hash", LargeBinary(32), nullable=True),
    Column("block_time", Integer, nullable=False),
    Column("license_id", String(40), ForeignKey("licenses.license_id"), nullable=True),  # issued when accepted
    Column("digest", LargeBinary(32), nullable=True),
    Column("request", Text, nullable=False),  # JSON: type, valid_from, valid_to, fields
    Column("rules", Text, nullable=False),  # JSON: every rule's result with its reasons
)

application_prerequisites = Table(
    "application_prerequisites",
    metadata,
    Column("decision_id", String(32), ForeignKey("applications.decision_id"), primary_key=True),
    Column("position", Integer, primary_key=True),  # among the QR texts presented
    Column("status", String(24), nullable=False),  # what the verifier answered
    Column("checked_block", Integer, nullable=False),
    Column("digest", LargeBinary(32), nullable=True, index=True),
    Column("license_id", String(40), nullable=True),
    Column("license_type", String(2), nullable=True),
    Column("issuer_uscc", String(18), nullable=True),
    Column("issuer_region", Integer, nullable=True),
    Column("valid_from", Integer, nullable=True),  # day numbers
    Column("valid_to", Integer, nullable=True),
    Column("anchor_block", Integer, nullable=True),
    Column("filled", Text, nullable=False),  # JSON list of the prerequisites it filled
    Column("text", Text, nullable=False),  # the QR text as presented (re-verifiable at the block)
)
