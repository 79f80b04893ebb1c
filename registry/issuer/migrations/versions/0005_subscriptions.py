"""Status subscriptions: the subscriptions, the delivery outbox and the producer's cursor.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.String(24), primary_key=True),
        sa.Column("subscriber", sa.String(18), nullable=False, index=True),
        sa.Column("target_kind", sa.String(10), nullable=False),
        sa.Column("target", sa.String(66), nullable=False),
        sa.Column("license_id", sa.String(40), nullable=True),
        sa.Column("callback_url", sa.Text, nullable=False),
        sa.Column("secret", sa.String(64), nullable=False),
        sa.Column("after_event", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        sa.Column("subscription_id", sa.String(24), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("license_id", sa.String(40), nullable=True),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("block_number", sa.BigInteger, nullable=False),
        sa.Column("block_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("log_index", sa.Integer, nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float, nullable=True),
        sa.UniqueConstraint("subscription_id", "tx_hash", "event", "digest", name="uq_deliveries_fact"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
    op.create_index("ix_deliveries_subscription", "deliveries", ["subscription_id", "id"])
    op.create_table(
        "webhook_cursor",
        sa.Column("name", sa.String(16), primary_key=True),
        sa.Column("event_id", sa.BigInteger, nullable=False),
        sa.Column("epoch", sa.String(32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_cursor")
    op.drop_index("ix_deliveries_subscription", "deliveries")
    op.drop_index("ix_deliveries_due", "deliveries")
    op.drop_table("deliveries")
    op.drop_table("subscriptions")
