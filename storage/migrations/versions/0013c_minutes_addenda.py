"""Meeting notes: addenda to approved minutes

Approved minutes are frozen; a chair's later change is a note flagged `addendum`, which the
minutes show in a section of its own after the signature.

Revision ID: 0013c_minutes_addenda
Revises: 0013e_outbox_retention
Create Date: 2026-11-30 06:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013c_minutes_addenda"
down_revision: str | Sequence[str] | None = "0013e_outbox_retention"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("meeting_notes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("addendum", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("meeting_notes", schema=None) as batch_op:
        batch_op.drop_column("addendum")
