"""Several processes: handled platform updates and single-holder process leases

Revision ID: 0016p_processes
Revises: 0016_digest
Create Date: 2026-11-30 10:55:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016p_processes"
down_revision: str | Sequence[str] | None = "0016_digest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "handled_updates",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=128), nullable=False),
        sa.Column("lease_until", UTC_DATETIME, nullable=False),
        sa.Column("received_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("platform", "update_id", name=op.f("pk_handled_updates")),
    )
    op.create_index("ix_handled_updates_chat", "handled_updates", ["platform", "chat_id", "state"])
    op.create_index("ix_handled_updates_finished", "handled_updates", ["finished_at"])
    op.create_table(
        "process_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("acquired_at", UTC_DATETIME, nullable=False),
        sa.Column("renewed_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_process_leases")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("process_leases")
    op.drop_index("ix_handled_updates_finished", table_name="handled_updates")
    op.drop_index("ix_handled_updates_chat", table_name="handled_updates")
    op.drop_table("handled_updates")
