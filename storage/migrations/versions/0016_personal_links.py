"""Answering without the chat: guests added by a chair, personal links to a poll or meeting

Revision ID: 0016_personal_links
Revises: 0016p_processes
Create Date: 2026-11-30 10:40:19.622992

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016_personal_links"
down_revision: str | Sequence[str] | None = "0016p_processes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "guests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("address_key", sa.String(length=320), nullable=False),
        sa.Column("added_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_user_id"],
            ["users.id"],
            name=op.f("fk_guests_added_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_guests_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guests")),
        sa.UniqueConstraint("address_key", name=op.f("uq_guests_address_key")),
    )
    with op.batch_alter_table("guests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_guests_user_id"), ["user_id"], unique=True)

    op.create_table(
        "personal_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=True),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("outside", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_personal_links_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meetings.id"],
            name=op.f("fk_personal_links_meeting_id_meetings"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_personal_links_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_personal_links_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_personal_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_personal_links_token_hash")),
        sa.UniqueConstraint(
            "user_id", "meeting_id", name=op.f("uq_personal_links_user_id_meeting_id")
        ),
        sa.UniqueConstraint("user_id", "poll_id", name=op.f("uq_personal_links_user_id_poll_id")),
    )
    with op.batch_alter_table("personal_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_personal_links_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_personal_links_meeting_id"), ["meeting_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_personal_links_poll_id"), ["poll_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_personal_links_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("personal_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_personal_links_user_id"))
        batch_op.drop_index(batch_op.f("ix_personal_links_poll_id"))
        batch_op.drop_index(batch_op.f("ix_personal_links_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_personal_links_group_id"))

    op.drop_table("personal_links")
    with op.batch_alter_table("guests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guests_user_id"))

    op.drop_table("guests")
