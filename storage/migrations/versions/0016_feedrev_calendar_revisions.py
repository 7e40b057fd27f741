"""Calendar revisions: a counter per group that every change to a feed's rows raises

Revision ID: 0016_feedrev_calendar_revisions
Revises: 0016w_links_per_mail
Create Date: 2026-11-30 11:55:00

A feed's ETag was built from aggregates (counts, latest updated_at, title lengths, …): an
edit none of them saw (a title changed to one of the same length) kept the old ETag, and
calendar apps were answered 304 with the old text for good. Now database triggers raise
`calendar_revisions.revision` of the row's group in the writing transaction, for every
insert, delete and change of a field a feed shows (storage/calendar_rows.py lists them),
whoever writes: the ORM, bulk `update()`, raw SQL, ON DELETE CASCADE / SET NULL. The ETag
reads the counters, so any change to what a feed shows is a new ETag.

The column lists below are fixed at this revision; tests/calendar/test_feed_revisions.py
edits every field the feed renders and fails when one is not covered. A later SQLite
migration that rebuilds one of these tables (batch mode) must create the triggers again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0016_feedrev_calendar_revisions"
down_revision: str | Sequence[str] | None = "0016w_links_per_mail"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table: (fields whose change a feed shows, the group of OLD/NEW row as an SQL expression)
_WATCHED: dict[str, tuple[tuple[str, ...], str]] = {
    "meetings": (
        (
            "group_id",
            "number",
            "title",
            "starts_at",
            "ends_at",
            "location",
            "status",
            "description",
            "series_id",
            "recurrence_id",
            "sequence",
            "updated_at",
        ),
        "{row}.group_id",
    ),
    "meeting_series": (
        (
            "group_id",
            "title",
            "rrule",
            "first_starts_at",
            "timezone",
            "duration_minutes",
            "location",
            "description",
            "sequence",
            "ended_at",
            "updated_at",
        ),
        "{row}.group_id",
    ),
    "agenda_items": (
        ("meeting_id", "position", "kind", "status", "title", "presenter_name", "planned_start"),
        "(SELECT group_id FROM meetings WHERE id = {row}.meeting_id)",
    ),
    "action_items": (
        ("group_id", "number", "text", "due_date", "status", "updated_at"),
        "{row}.group_id",
    ),
    "action_item_assignees": (
        ("action_item_id", "user_id", "name"),
        "(SELECT group_id FROM action_items WHERE id = {row}.action_item_id)",
    ),
    "groups": (("name", "timezone", "language"), "{row}.id"),
}

_BUMP = (
    "INSERT INTO calendar_revisions (group_id, revision) SELECT g, 1 FROM (SELECT {group} AS g) "
    "AS changed WHERE g IS NOT NULL "
    "ON CONFLICT (group_id) DO UPDATE SET revision = calendar_revisions.revision + 1"
)


def _changed(fields: tuple[str, ...], distinct: str) -> str:
    return " OR ".join(f"OLD.{field} {distinct} NEW.{field}" for field in fields)


def _sqlite(table: str, fields: tuple[str, ...], group: str) -> list[str]:
    old, new = group.format(row="OLD"), group.format(row="NEW")
    name = f"calendar_revision_{table}"
    return [
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} "
        f"BEGIN {_BUMP.format(group=new)}; END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} "
        f"BEGIN {_BUMP.format(group=old)}; END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} "
        f"WHEN {_changed(fields, 'IS NOT')} "
        f"BEGIN {_BUMP.format(group=old)}; {_BUMP.format(group=new)}; END",
    ]


def _postgresql(table: str, fields: tuple[str, ...], group: str) -> list[str]:
    old, new = group.format(row="OLD"), group.format(row="NEW")
    name = f"calendar_revision_{table}"
    return [
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP <> 'INSERT' THEN {_BUMP.format(group=old)}; END IF; "
        f"IF TG_OP <> 'DELETE' THEN {_BUMP.format(group=new)}; END IF; "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER {name}_insert_delete AFTER INSERT OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {name}()",
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} FOR EACH ROW "
        f"WHEN ({_changed(fields, 'IS DISTINCT FROM')}) EXECUTE FUNCTION {name}()",
    ]


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "calendar_revisions",
        # No foreign key: a group's deletion deletes its meetings, whose triggers still
        # write here; a left-over row is a number.
        sa.Column("group_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_calendar_revisions")),
    )
    op.execute("INSERT INTO calendar_revisions (group_id, revision) SELECT id, 1 FROM groups")
    dialect = op.get_bind().dialect.name
    make = _postgresql if dialect == "postgresql" else _sqlite
    for table, (fields, group) in _WATCHED.items():
        for statement in make(table, fields, group):
            op.execute(statement)


def downgrade() -> None:
    """Downgrade schema."""
    dialect = op.get_bind().dialect.name
    for table in _WATCHED:
        name = f"calendar_revision_{table}"
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER {name}_insert_delete ON {table}")
            op.execute(f"DROP TRIGGER {name}_update ON {table}")
            op.execute(f"DROP FUNCTION {name}()")
        else:
            for suffix in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {name}_{suffix}")
    op.drop_table("calendar_revisions")
