"""Platform state: the account a per-person record is about, so erasure removes it

Revision ID: 0016_feedfrag_state_account
Revises: 0016_advisor_public_list
Create Date: 2026-11-30 11:00:00

Matrix keeps who reacted how (`reaction:<event>`, `taps:<message>:<account>`) for 90 days;
`/datenloeschen` could not find them. Existing records get their account from the key
(taps) or the stored sender (reactions); a superseded reaction's record names nobody and
expires as before.
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016_feedfrag_state_account"
down_revision: str | Sequence[str] | None = "0016_advisor_public_list"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _account(key: str, value: str) -> str | None:
    if key.startswith("taps:") and ":@" in key:
        return key[key.index(":@") + 1 :]
    if key.startswith("reaction:"):
        try:
            sender = json.loads(value).get("sender")
        except (ValueError, AttributeError):
            return None
        return sender if isinstance(sender, str) else None
    return None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("platform_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("account", sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f("ix_platform_state_account"), ["account"], unique=False)
    state = sa.table(
        "platform_state",
        sa.column("id", sa.Integer()),
        sa.column("key", sa.String()),
        sa.column("value", sa.Text()),
        sa.column("account", sa.String()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(state.c.id, state.c.key, state.c.value).where(
            sa.or_(state.c.key.startswith("taps:"), state.c.key.startswith("reaction:"))
        )
    ).all()
    for row_id, key, value in rows:
        account = _account(key, value)
        if account is not None:
            connection.execute(sa.update(state).where(state.c.id == row_id).values(account=account))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("platform_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_platform_state_account"))
        batch_op.drop_column("account")
