"""Membership history: who left which chat and the group, when the bot lost a chat

Revision ID: 0013f_membership_history
Revises: 0013c_minutes_addenda
Create Date: 2026-11-30 06:15:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0013f_membership_history"
down_revision: str | Sequence[str] | None = "0013c_minutes_addenda"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("group_chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("gone_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "chat_departures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_chat_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_chat_id"],
            ["group_chats.id"],
            name=op.f("fk_chat_departures_group_chat_id_group_chats"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chat_departures_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_departures")),
        sa.UniqueConstraint(
            "group_chat_id", "user_id", name=op.f("uq_chat_departures_group_chat_id_user_id")
        ),
    )
    with op.batch_alter_table("chat_departures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chat_departures_group_chat_id"), ["group_chat_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_chat_departures_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("chat_departures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_departures_user_id"))
        batch_op.drop_index(batch_op.f("ix_chat_departures_group_chat_id"))
    op.drop_table("chat_departures")
    with op.batch_alter_table("group_chats", schema=None) as batch_op:
        batch_op.drop_column("gone_at")
    with op.batch_alter_table("memberships", schema=None) as batch_op:
        batch_op.drop_column("left_at")
