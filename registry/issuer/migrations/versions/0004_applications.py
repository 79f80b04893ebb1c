"""Applications (秒批): decisions with their rules' results, and the presented licenses as evidence.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("decision_id", sa.String(32), nullable=False, unique=True),
        sa.Column("issuer_uscc", sa.String(18), nullable=False, index=True),
        sa.Column("type_code", sa.String(2), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("decided_at", sa.Integer, nullable=False),
        sa.Column("block_number", sa.Integer, nullable=False),
        sa.Column("block_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("block_time", sa.Integer, nullable=False),
        sa.Column("license_id", sa.String(40), sa.ForeignKey("licenses.license_id"), nullable=True),
        sa.Column("digest", sa.LargeBinary(32), nullable=True),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("rules", sa.Text, nullable=False),
    )
    op.create_table(
        "application_prerequisites",
        sa.Column("decision_id", sa.String(32), sa.ForeignKey("applications.decision_id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("checked_block", sa.Integer, nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=True, index=True),
        sa.Column("license_id", sa.String(40), nullable=True),
        sa.Column("license_type", sa.String(2), nullable=True),
        sa.Column("issuer_uscc", sa.String(18), nullable=True),
        sa.Column("issuer_region", sa.Integer, nullable=True),
        sa.Column("valid_from", sa.Integer, nullable=True),
        sa.Column("valid_to", sa.Integer, nullable=True),
        sa.Column("anchor_block", sa.Integer, nullable=True),
        sa.Column("filled", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("application_prerequisites")
    op.drop_table("applications")
