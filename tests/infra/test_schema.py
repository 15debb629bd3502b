"""The start's table creation (infra/eventstore/schema.py): what is missing is created, what exists
is left as it is, and a table this process dropped is looked for again. Both stores."""

from __future__ import annotations

import sqlalchemy as sa

from infra.eventstore.engine import make_engine
from infra.schema import create_missing, forget, present_columns
from infra.settings import Settings


def _metadata() -> tuple[sa.MetaData, sa.Table, sa.Table]:
    metadata = sa.MetaData()
    parent = sa.Table("t_schema_parent", metadata, sa.Column("id", sa.Integer, primary_key=True))
    child = sa.Table(
        "t_schema_child",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("parent_id", sa.Integer, sa.ForeignKey("t_schema_parent.id"), index=True),
    )
    return metadata, parent, child


def test_missing_tables_are_created_once_and_a_dropped_one_again(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        metadata, parent, child = _metadata()
        assert create_missing(engine, metadata) == ["t_schema_parent", "t_schema_child"]  # in dependency order
        with engine.begin() as conn:
            conn.execute(parent.insert().values(id=1))
            conn.execute(child.insert().values(id=1, parent_id=1))
        assert create_missing(engine, metadata) == []
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(child)).scalar() == 1  # left as it was
            columns = present_columns(conn, ["t_schema_child", "t_schema_absent"])
        assert columns == {"t_schema_child": {"id", "parent_id"}}

        with engine.begin() as conn:
            child.drop(conn)
            forget(conn, ["t_schema_child"])
        assert create_missing(engine, metadata) == ["t_schema_child"]
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(child)).scalar() == 0
            assert {i["name"] for i in sa.inspect(conn).get_indexes("t_schema_child")} == {
                "ix_t_schema_child_parent_id"
            }
    finally:
        engine.dispose()


def test_another_engine_finds_the_tables_an_earlier_one_made(settings: Settings) -> None:
    metadata, _, _ = _metadata()
    first, second = make_engine(settings), make_engine(settings)
    try:
        assert len(create_missing(first, metadata)) == 2
        assert create_missing(second, metadata) == []  # looked up in the catalog, not remembered
    finally:
        first.dispose()
        second.dispose()
