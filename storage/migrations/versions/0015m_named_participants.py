"""Participants by name and organisation: attendance rows of people not in the chat may be
participants ("Name, Organisation" in the minutes), not only guests

Revision ID: 0015m_named_participants
Revises: 0015_advisors_institutions
Create Date: 2026-11-30 08:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015m_named_participants"
down_revision: str | Sequence[str] | None = "0015_advisors_institutions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: every row recorded so far by name was a guest."""
    with op.batch_alter_table("attendance") as batch:
        batch.add_column(sa.Column("organisation", sa.String(length=200), nullable=True))
        batch.add_column(
            sa.Column("as_guest", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("attendance") as batch:
        batch.drop_column("as_guest")
        batch.drop_column("organisation")
