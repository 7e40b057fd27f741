"""Advisors: letters without an exchange before their deadline are marked for the admins;
training institutions get their own summary chat and address

Revision ID: 0015_advisors_institutions
Revises: 0014a_email_addresses
Create Date: 2026-11-30 08:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015_advisors_institutions"
down_revision: str | Sequence[str] | None = "0014a_email_addresses"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("advisor_steps", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("no_exchange", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "advisor_institutions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("chat_platform", sa.String(length=16), nullable=True),
        sa.Column("chat_id", sa.String(length=255), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_advisor_institutions")),
        sa.UniqueConstraint("name", name=op.f("uq_advisor_institutions_name")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("advisor_institutions")
    with op.batch_alter_table("advisor_steps", schema=None) as batch_op:
        batch_op.drop_column("no_exchange")
