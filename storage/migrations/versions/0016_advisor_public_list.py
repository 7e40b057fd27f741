"""Advisors: a region, and the consent which fields the public advisor list may show

Revision ID: 0016_advisor_public_list
Revises: 0015_organisation
Create Date: 2026-11-30 11:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016_advisor_public_list"
down_revision: str | Sequence[str] | None = "0015_organisation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema. Existing advisors publish nothing until their consent is recorded."""
    with op.batch_alter_table("advisors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("region", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("published", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("published_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("advisors", schema=None) as batch_op:
        batch_op.drop_column("published_changed_at")
        batch_op.drop_column("published")
        batch_op.drop_column("region")
