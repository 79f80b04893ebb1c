"""The first schema of the issuer store: licenses, batches, serials, API keys, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "licenses",
        sa.Column("license_id", sa.String(40), primary_key=True),
        sa.Column("digest", sa.LargeBinary(32), nullable=False, unique=True),
        sa.Column("type_code", sa.String(2), nullable=False),
        sa.Column("issuer_uscc", sa.String(18), nullable=False),
        sa.Column("serial", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("valid_from", sa.Integer, nullable=False),
        sa.Column("valid_to", sa.Integer, nullable=True),
        sa.Column("fields", sa.Text, nullable=False),
        sa.Column("secret", sa.LargeBinary(16), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("batch_root", sa.LargeBinary(32), nullable=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("status_reason", sa.Integer, nullable=False),
        sa.Column("superseded_by", sa.String(40), nullable=True),
    )
    op.create_index("ix_licenses_issuer_uscc", "licenses", ["issuer_uscc"])
    op.create_index("ix_licenses_signer", "licenses", ["signer"])
    op.create_index("ix_licenses_batch_root", "licenses", ["batch_root"])
    op.create_table(
        "batches",
        sa.Column("root", sa.LargeBinary(32), primary_key=True),
        sa.Column("signer", sa.String(42), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("tx_hash", sa.LargeBinary(32), nullable=True),
        sa.Column("block_number", sa.Integer, nullable=True),
        sa.Column("block_time", sa.Integer, nullable=True),
        sa.Column("gas_used", sa.Integer, nullable=True),
    )
    op.create_table(
        "serials",
        sa.Column("issuer_uscc", sa.String(18), primary_key=True),
        sa.Column("type_code", sa.String(2), primary_key=True),
        sa.Column("next_serial", sa.Integer, nullable=False),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("issuer_uscc", sa.String(18), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("created_at", sa.Integer, nullable=False),
        sa.Column("revoked", sa.Boolean, nullable=False),
    )
    op.create_index("ix_api_keys_issuer_uscc", "api_keys", ["issuer_uscc"])
    op.create_table(
        "idempotency_keys",
        sa.Column("issuer_uscc", sa.String(18), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=True),
        sa.Column("response", sa.Text, nullable=True),
        sa.Column("created_at", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("idempotency_keys", "api_keys", "serials", "batches", "licenses"):
        op.drop_table(table)
