"""Outbox: when a row's payload was purged (retention, erasure)

Revision ID: 0013e_outbox_retention
Revises: 0012_outbox_reported
Create Date: 2026-11-30 06:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013e_outbox_retention"
down_revision: str | Sequence[str] | None = "0012_outbox_reported"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("payload_purged_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("payload_purged_at")
