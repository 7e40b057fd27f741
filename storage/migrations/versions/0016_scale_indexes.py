"""Indexes for an organisation's size: a group's meetings in time order, advisors by
e-mail and people by username whatever its case, unreported failed messages (bench/scale.py,
tests/storage/test_query_plans.py)

Revision ID: 0016_scale_indexes
Revises: 0016_feedrev_calendar_revisions
Create Date: 2026-11-30 11:00:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016_scale_indexes"
down_revision: str | Sequence[str] | None = "0016_feedrev_calendar_revisions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index("ix_meetings_group_id_starts_at", "meetings", ["group_id", "starts_at"])
    op.create_index("ix_advisors_email_lower", "advisors", [sa.text("lower(email)")])
    op.create_index("ix_identities_username_lower", "identities", [sa.text("lower(username)")])
    op.create_index(
        "ix_outbox_failed_unreported",
        "outbox",
        ["platform", "status"],
        postgresql_where=sa.text("status = 'failed' AND reported_at IS NULL"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_outbox_failed_unreported", table_name="outbox")
    op.drop_index("ix_identities_username_lower", table_name="identities")
    op.drop_index("ix_advisors_email_lower", table_name="advisors")
    op.drop_index("ix_meetings_group_id_starts_at", table_name="meetings")
