"""The signature suite of each license (secp256k1 or sm2), so a presentation rebuilt from the store
carries the suite its signature was made in. Licenses stored before it are secp256k1.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("licenses") as batch:
        batch.add_column(sa.Column("suite", sa.String(10), nullable=False, server_default="secp256k1"))


def downgrade() -> None:
    with op.batch_alter_table("licenses") as batch:
        batch.drop_column("suite")
