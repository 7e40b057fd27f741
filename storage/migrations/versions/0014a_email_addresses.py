"""E-mail addresses: one per person, confirmed by a code before anything else is sent

Revision ID: 0014a_email_addresses
Revises: 0013d_link_requests
Create Date: 2026-11-30 07:55:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0014a_email_addresses"
down_revision: str | Sequence[str] | None = "0013d_link_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "email_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("address_key", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unreachable_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_email_addresses_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_addresses")),
        sa.UniqueConstraint("address_key", name=op.f("uq_email_addresses_address_key")),
    )
    with op.batch_alter_table("email_addresses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_addresses_user_id"), ["user_id"], unique=True)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("email_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_addresses_user_id"))
    op.drop_table("email_addresses")
