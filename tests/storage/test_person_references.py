"""Linking two accounts moves every reference to a person: checked against the schema itself,
so a table added later that points at people cannot be forgotten by `merge_users`."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import PrimaryKeyConstraint, UniqueConstraint

from bot.core.messages import UserRef
from storage import linking, people
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.models import Base, User

NOW = datetime(2021, 6, 10, 8, 0, tzinfo=UTC)


def references_to_people() -> set[tuple[str, str]]:
    return {
        (table.name, fk.parent.name)
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == User.__tablename__ and fk.column.name == "id"
    }


def unique_per_person(table_name: str, column_name: str) -> bool:
    table = Base.metadata.tables[table_name]
    column = table.c[column_name]
    sets = [
        {c.name for c in constraint.columns}
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint | PrimaryKeyConstraint)
    ] + [{c.name for c in index.columns} for index in table.indexes if index.unique]
    return bool(column.unique) or any(column_name in names for names in sets)


def test_merge_walks_every_reference_to_a_person() -> None:
    walked = {(c.table.name, c.name) for c in linking.person_references()}
    assert walked == references_to_people()
    assert ("rsvps", "user_id") in walked and ("poll_votes", "user_id") in walked


@pytest.mark.parametrize("reference", sorted(references_to_people()), ids="{0[0]}.{0[1]}".format)
def test_every_reference_that_can_collide_has_a_decided_rule(reference: tuple[str, str]) -> None:
    """Two accounts may both hold a row about the same thing (both answered a meeting); how
    they become one is decided per table in linking.CONFLICTS, never left to a crash."""
    table, column = reference
    if unique_per_person(table, column):
        assert reference in linking.CONFLICTS, f"{table}.{column}: decide it in CONFLICTS"
    rule = linking.CONFLICTS.get(reference)
    if rule is not None:
        columns = Base.metadata.tables[table].c
        assert all(name in columns for name in rule.key), rule
        assert rule.newer_by is None or rule.newer_by in columns, rule


async def test_a_merge_refuses_a_reference_no_one_decided(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were a rule missing (a table added later), the merge stops instead of losing rows."""
    engine = create_engine(database_url)
    await upgrade_to_head(engine)
    try:
        monkeypatch.delitem(linking.CONFLICTS, ("rsvps", "user_id"))
        async with session_factory(engine)() as session:
            one = await people.upsert_identity(session, UserRef("test", "1", "One"), NOW)
            two = await people.upsert_identity(session, UserRef("other", "2", "Two"), NOW)
            with pytest.raises(linking.UnhandledReference, match=r"rsvps\.user_id"):
                await linking.merge_users(session, keep=one.user, absorb=two.user)
    finally:
        await engine.dispose()
