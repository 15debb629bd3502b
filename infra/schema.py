"""Creating the service's tables at start: one look at the catalog per group of tables, not one per table.

SQLAlchemy's `create_all(checkfirst=True)` asks the database about each table, and its `get_columns`
reflects one table per call (on PostgreSQL about 6 ms each). A start made about 70 such queries,
0.2-0.3 s before the first request on PostgreSQL (docs/decisions/0030). These helpers ask once.
"""

from __future__ import annotations

import weakref

import sqlalchemy as sa

_KNOWN: weakref.WeakKeyDictionary[sa.Engine, set[str]] = weakref.WeakKeyDictionary()

_PG_COLUMNS = sa.text(
    "SELECT c.relname, a.attname FROM pg_attribute a"
    " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE n.nspname = current_schema() AND c.relname = ANY(:names) AND a.attnum > 0 AND NOT a.attisdropped"
)


def _known(bind: sa.Engine | sa.Connection) -> set[str]:
    """The tables this engine has seen exist or has created: the service's tables are created at
    start and only dropped by the process that made them (a rebuild's old generation, a
    verification's scratch copy, through `forget`), so only what is not known yet is looked up."""
    engine = bind if isinstance(bind, sa.Engine) else bind.engine
    return _KNOWN.setdefault(engine, set())


def forget(bind: sa.Engine | sa.Connection, names: list[str]) -> None:
    """These tables were dropped: a later `create_missing` looks for them again."""
    _known(bind).difference_update(names)


def present_tables(conn: sa.Connection, names: list[str]) -> set[str]:
    """Which of `names` exist as tables, in one query."""
    return set(names) & set(sa.inspect(conn).get_table_names())


def create_missing(
    bind: sa.Engine | sa.Connection, metadata: sa.MetaData, present: set[str] | None = None
) -> list[str]:
    """Create the tables of `metadata` that do not exist yet (with their indexes), in dependency
    order; returns their names. `present`: the tables the caller has just seen exist, if it looked.
    Another process may create them at the same moment: the caller that cares catches the
    database's error and looks again."""
    tables = metadata.sorted_tables
    known = _known(bind)
    if all(t.name in known for t in tables):
        return []
    if isinstance(bind, sa.Engine):
        with bind.begin() as conn:
            return create_missing(conn, metadata, present)
    if present is None:
        present = present_tables(bind, [t.name for t in tables if t.name not in known])
    missing = [t for t in tables if t.name not in present and t.name not in known]
    if missing:
        metadata.create_all(bind, tables=missing, checkfirst=False)
    known.update(t.name for t in tables)
    return [t.name for t in missing]


def present_columns(conn: sa.Connection, names: list[str]) -> dict[str, set[str]]:
    """The columns each existing table of `names` has (a table that does not exist is absent)."""
    found: dict[str, set[str]] = {}
    if conn.dialect.name == "postgresql":
        for table, column in conn.execute(_PG_COLUMNS, {"names": names}):
            found.setdefault(table, set()).add(column)
        return found
    inspector = sa.inspect(conn)  # SQLite: a local PRAGMA per table, no round trip to save
    for name in present_tables(conn, names):
        found[name] = {c["name"] for c in inspector.get_columns(name)}
    return found
