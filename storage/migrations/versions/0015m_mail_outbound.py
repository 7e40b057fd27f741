"""Outbound e-mail: confirmation codes and per-kind channel preferences

Revision ID: 0015m_mail_outbound
Revises: 0015m_named_participants
Create Date: 2026-11-30 08:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015m_mail_outbound"
down_revision: str | Sequence[str] | None = "0015m_named_participants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "email_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("address_key", sa.String(length=320), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_email_codes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_codes")),
    )
    with op.batch_alter_table("email_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_codes_user_id"), ["user_id"], unique=True)
    op.create_table(
        "channel_preferences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_channel_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_preferences")),
        sa.UniqueConstraint("user_id", "kind", name=op.f("uq_channel_preferences_user_id_kind")),
    )
    with op.batch_alter_table("channel_preferences", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_channel_preferences_user_id"), ["user_id"])


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("channel_preferences", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_channel_preferences_user_id"))
    op.drop_table("channel_preferences")
    with op.batch_alter_table("email_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_codes_user_id"))
    op.drop_table("email_codes")
