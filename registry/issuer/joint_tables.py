"""The issuer store's tables of joint applications (联办件): the application, its member licenses
and the departments' co-signatures, declared on the store's ``metadata`` (migration 0003)."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, Table, Text

from registry.issuer.store import metadata

__all__ = ["joint_applications", "joint_cosignatures", "joint_members"]

joint_applications = Table(
    "joint_applications",
    metadata,
    Column("application_id", String(29), primary_key=True),
    Column("lead_uscc", String(18), nullable=False, index=True),
    Column("applicant_uscc", String(18), nullable=False),
    Column("applicant_name", Text, nullable=False),
    Column("applicant_salt", LargeBinary(16), nullable=False),
    Column("co_approvers", Text, nullable=False),  # JSON list of credit codes beyond the members' issuers
    Column("state", String(10), nullable=False),  # open | anchoring | anchored
    Column("created_at", Integer, nullable=False),
    Column("bundle_digest", LargeBinary(32), nullable=True),  # set when anchoring starts
    Column("tx_hash", LargeBinary(32), nullable=True),
    Column("block_number", Integer, nullable=True),
    Column("block_time", Integer, nullable=True),
    Column("gas_used", Integer, nullable=True),
)

joint_members = Table(
    "joint_members",
    metadata,
    Column("application_id", String(29), ForeignKey("joint_applications.application_id"), primary_key=True),
    Column("license_id", String(40), ForeignKey("licenses.license_id"), primary_key=True),
    Column("added_at", Integer, nullable=False),
)

joint_cosignatures = Table(
    "joint_cosignatures",
    metadata,
    Column("application_id", String(29), ForeignKey("joint_applications.application_id"), primary_key=True),
    Column("issuer_uscc", String(18), primary_key=True),
    Column("bundle_digest", LargeBinary(32), nullable=False),  # what was signed: stale once members change
    Column("public_key", LargeBinary(48), nullable=False),
    Column("signature", LargeBinary(96), nullable=False),
    Column("signed_at", Integer, nullable=False),
)
