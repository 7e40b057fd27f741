"""Outbox through a flaky platform: a message's useful life, and a claim index by age

Revision ID: 0015_outbox_faults
Revises: 0015m_mail_outbound
Create Date: 2026-11-30 08:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015_outbox_faults"
down_revision: str | Sequence[str] | None = "0015m_mail_outbound"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# On PostgreSQL the claim indexes hold only rows still to be sent (or reported).
OPEN_ROWS = sa.text("status IN ('pending', 'sending', 'waiting_for_dm', 'uncertain')")


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_outbox_due", table_name="outbox")
        op.create_index(
            "ix_outbox_due", "outbox", ["status", "next_attempt_at"], postgresql_where=OPEN_ROWS
        )
        op.create_index(
            "ix_outbox_lease", "outbox", ["status", "lease_until"], postgresql_where=OPEN_ROWS
        )
    else:
        op.create_index("ix_outbox_lease", "outbox", ["status", "lease_until"])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_outbox_lease", table_name="outbox")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_outbox_due", table_name="outbox")
        op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
