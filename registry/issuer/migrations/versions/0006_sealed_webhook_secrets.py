"""Subscription secrets sealed at rest: a ``secret_box`` column (AES-256-GCM under the service's
webhook key, see ``api.subscription_secrets``), and ``secret`` (the plain text of databases made by
revision 0005) made nullable. The migration has no key: the service seals the plain secrets left by
0005 on its first start with its webhook key, and clears them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # the table is rebuilt: its old pages (plain secrets) are zeroed when freed, not left behind
        op.execute("PRAGMA secure_delete=ON")
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("secret_box", sa.LargeBinary, nullable=True))
        batch.alter_column("secret", existing_type=sa.String(64), nullable=True)


def downgrade() -> None:
    sealed = op.get_bind().execute(sa.text("SELECT count(*) FROM subscriptions WHERE secret_box IS NOT NULL"))
    if sealed.scalar():
        raise RuntimeError(
            "subscriptions hold sealed secrets, which revision 0005 cannot read: end them (or keep 0006)"
        )
    with op.batch_alter_table("subscriptions") as batch:
        batch.alter_column("secret", existing_type=sa.String(64), nullable=False)
        batch.drop_column("secret_box")
