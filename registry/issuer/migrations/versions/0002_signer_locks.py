"""One row per signing key, locked by the anchoring worker that sends with that key, so several
workers never race for a key's nonce.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signer_locks",
        sa.Column("signer", sa.String(42), primary_key=True),
        sa.Column("worker", sa.String(100), nullable=True),
        sa.Column("heartbeat", sa.Integer, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("signer_locks")
