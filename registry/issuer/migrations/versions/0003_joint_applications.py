"""Joint applications (联办件): the application, its member licenses, the departments' co-signatures.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "joint_applications",
        sa.Column("application_id", sa.String(29), primary_key=True),
        sa.Column("lead_uscc", sa.String(18), nullable=False, index=True),
        sa.Column("applicant_uscc", sa.String(18), nullable=False),
        sa.Column("applicant_name", sa.Text, nullable=False),
        sa.Column("applicant_salt", sa.LargeBinary(16), nullable=False),
        sa.Column("co_approvers", sa.Text, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("bundle_digest", sa.LargeBinary(32), nullable=True),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("block_number", sa.Integer, nullable=True),
        sa.Column("block_time", sa.Integer, nullable=True),
        sa.Column("gas_used", sa.Integer, nullable=True),
    )
    op.create_table(
        "joint_members",
        sa.Column(
            "application_id",
            sa.String(29),
            sa.ForeignKey("joint_applications.application_id"),
            primary_key=True,
        ),
        sa.Column("license_id", sa.String(40), sa.ForeignKey("licenses.license_id"), primary_key=True),
        sa.Column("added_at", sa.Integer, nullable=False),
    )
    op.create_table(
        "joint_cosignatures",
        sa.Column(
            "application_id",
            sa.String(29),
            sa.ForeignKey("joint_applications.application_id"),
            primary_key=True,
        ),
        sa.Column("issuer_uscc", sa.String(18), primary_key=True),
        sa.Column("bundle_digest", sa.LargeBinary(32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(48), nullable=False),
        sa.Column("signature", sa.LargeBinary(96), nullable=False),
        sa.Column("signed_at", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("joint_cosignatures")
    op.drop_table("joint_members")
    op.drop_table("joint_applications")
