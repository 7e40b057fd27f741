"""Advisors: when and why mail to the registry's address could not be delivered (a bounce
or a permanent SMTP refusal), so the daily run stops writing to a dead address

Revision ID: 0017_advisor_email_unreachable
Revises: 0016_scale_indexes
Create Date: 2026-11-30 14:30:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0017_advisor_email_unreachable"
down_revision: str | Sequence[str] | None = "0016_scale_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema: two nullable columns, added in place (no table rebuild on SQLite,
    so the advisors' expression index stays as it is)."""
    op.add_column(
        "advisors", sa.Column("email_unreachable_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("advisors", sa.Column("email_unreachable_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    """Downgrade schema (ALTER TABLE DROP COLUMN: SQLite 3.35 and later, no rebuild)."""
    op.drop_column("advisors", "email_unreachable_reason")
    op.drop_column("advisors", "email_unreachable_at")
