"""Personal links: one row per link sent, so a person may hold several live links to the
same poll or meeting (each mail's) and a reminder no longer breaks the invitation's link

Revision ID: 0016w_links_per_mail
Revises: 0016_personal_links
Create Date: 2026-11-30 11:50:00

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016w_links_per_mail"
down_revision: str | Sequence[str] | None = "0016_personal_links"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("personal_links", schema=None) as batch_op:
        batch_op.drop_constraint("uq_personal_links_user_id_poll_id", type_="unique")
        batch_op.drop_constraint("uq_personal_links_user_id_meeting_id", type_="unique")


def downgrade() -> None:
    """Downgrade schema: each person's newest link per poll or meeting stays."""
    op.execute(
        "DELETE FROM personal_links WHERE id NOT IN ("
        " SELECT MAX(id) FROM personal_links GROUP BY user_id, poll_id, meeting_id)"
    )
    with op.batch_alter_table("personal_links", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            "uq_personal_links_user_id_meeting_id", ["user_id", "meeting_id"]
        )
        batch_op.create_unique_constraint(
            "uq_personal_links_user_id_poll_id", ["user_id", "poll_id"]
        )
