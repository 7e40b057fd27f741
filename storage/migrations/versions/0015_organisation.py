"""Organisation: group aliases, decision addressees, inbox items, report duties

Revision ID: 0015_organisation
Revises: 0015_outbox_faults
Create Date: 2026-11-30 08:40:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0015_organisation"
down_revision: str | Sequence[str] | None = "0015_outbox_faults"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "group_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=120), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("set_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_group_aliases_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["set_by_user_id"],
            ["users.id"],
            name=op.f("fk_group_aliases_set_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_aliases")),
        sa.UniqueConstraint("key", name=op.f("uq_group_aliases_key")),
    )
    with op.batch_alter_table("group_aliases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_aliases_group_id"), ["group_id"], unique=False)

    op.create_table(
        "decision_addressees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_decision_addressees_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name=op.f("fk_decision_addressees_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_addressees")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_decision_addressees_decision_id")),
    )
    with op.batch_alter_table("decision_addressees", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_decision_addressees_group_id"), ["group_id"], unique=False
        )

    op.create_table(
        "inbox_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receiving_group_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sending_group_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("amends_item_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("agenda_item_id", sa.Integer(), nullable=True),
        sa.Column("action_item_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["action_item_id"],
            ["action_items.id"],
            name=op.f("fk_inbox_items_action_item_id_action_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["agenda_items.id"],
            name=op.f("fk_inbox_items_agenda_item_id_agenda_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["amends_item_id"],
            ["inbox_items.id"],
            name=op.f("fk_inbox_items_amends_item_id_inbox_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_user_id"],
            ["users.id"],
            name=op.f("fk_inbox_items_decided_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_inbox_items_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["receiving_group_id"],
            ["groups.id"],
            name=op.f("fk_inbox_items_receiving_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sending_group_id"],
            ["groups.id"],
            name=op.f("fk_inbox_items_sending_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_items")),
        sa.UniqueConstraint(
            "decision_id",
            "receiving_group_id",
            name=op.f("uq_inbox_items_decision_id_receiving_group_id"),
        ),
        sa.UniqueConstraint(
            "receiving_group_id", "number", name=op.f("uq_inbox_items_receiving_group_id_number")
        ),
    )
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inbox_items_decision_id"), ["decision_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbox_items_receiving_group_id"), ["receiving_group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_inbox_items_sending_group_id"), ["sending_group_id"], unique=False
        )

    op.create_table(
        "report_duties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owing_group_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("receiving_group_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("every_months", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("reminded_for", sa.Date(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_report_duties_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owing_group_id"],
            ["groups.id"],
            name=op.f("fk_report_duties_owing_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["receiving_group_id"],
            ["groups.id"],
            name=op.f("fk_report_duties_receiving_group_id_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_duties")),
        sa.UniqueConstraint(
            "owing_group_id", "number", name=op.f("uq_report_duties_owing_group_id_number")
        ),
    )
    with op.batch_alter_table("report_duties", schema=None) as batch_op:
        batch_op.create_index("ix_report_duties_due_date", ["due_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_report_duties_owing_group_id"), ["owing_group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_duties_receiving_group_id"), ["receiving_group_id"], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("report_duties", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_duties_receiving_group_id"))
        batch_op.drop_index(batch_op.f("ix_report_duties_owing_group_id"))
        batch_op.drop_index("ix_report_duties_due_date")

    op.drop_table("report_duties")
    with op.batch_alter_table("inbox_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_items_sending_group_id"))
        batch_op.drop_index(batch_op.f("ix_inbox_items_receiving_group_id"))
        batch_op.drop_index(batch_op.f("ix_inbox_items_decision_id"))

    op.drop_table("inbox_items")
    with op.batch_alter_table("decision_addressees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_addressees_group_id"))

    op.drop_table("decision_addressees")
    with op.batch_alter_table("group_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_aliases_group_id"))

    op.drop_table("group_aliases")
