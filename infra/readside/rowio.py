"""Reading and writing read-model rows in SQL: by key, in chunks, changed rows only, as upserts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from projections.base import Key, ProjectionSpec, Row, TableSpec

if TYPE_CHECKING:
    from infra.readside.tables import Tables

CHUNK = 400
Cache = dict[str, dict[Key, Row | None]]


def _normalise(row: Row | None, table: sa.Table) -> Row | None:
    """Make a row read back from SQL comparable with one built in memory (UTC datetimes)."""
    if row is None:
        return None
    out = dict(row)
    for name, value in out.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            out[name] = value.replace(tzinfo=UTC)
    return out


def _load(conn: sa.Connection, table: sa.Table, t: TableSpec, keys: list[Key]) -> dict[Key, Row]:
    out: dict[Key, Row] = {}
    key_cols = [table.c[k] for k in t.key]
    keys_list = keys
    for i in range(0, len(keys_list), CHUNK):
        chunk = keys_list[i : i + CHUNK]
        where = key_cols[0].in_([k[0] for k in chunk]) if len(key_cols) == 1 else sa.tuple_(*key_cols).in_(chunk)
        for row in conn.execute(sa.select(table).where(where)).mappings():
            normalised = _normalise(dict(row), table)
            assert normalised is not None
            out[tuple(row[k] for k in t.key)] = normalised
    return out


def write_rows(conn: sa.Connection, spec: ProjectionSpec, tables: Tables, rows: Cache) -> None:
    """Write rows as they are now: None deletes, anything else is upserted."""
    for t in spec.tables:
        pending = rows.get(t.name)
        if pending:
            _write(conn, tables[t.name], t, dict.fromkeys(pending, _UNKNOWN), pending)


_UNKNOWN: Row = {}  # "whatever is stored": compares unequal to every real row, so it is written


def _columns(t: TableSpec, row: Row) -> Row:
    """The stored columns of a row (keys starting with '_' are in-memory helpers)."""
    return {c.name: row[c.name] for c in t.columns}


def _write(
    conn: sa.Connection,
    table: sa.Table,
    t: TableSpec,
    original: dict[Key, Row | None],
    current: dict[Key, Row | None],
) -> None:
    """Write what changed: deletes by key, the rest as multi-row upserts."""
    upserts: list[Row] = []
    deletes: list[Key] = []
    for key, row in current.items():
        before = original.get(key)
        if row is None:
            if before is not None:
                deletes.append(key)
            continue
        if row is before:
            continue
        stored = _columns(t, t.dump(row) if t.dump else row)
        if before is None or before is _UNKNOWN or stored != _columns(t, t.dump(before) if t.dump else before):
            upserts.append(stored)
    key_cols = [table.c[k] for k in t.key]
    for i in range(0, len(deletes), CHUNK):
        chunk = deletes[i : i + CHUNK]
        where = key_cols[0].in_([k[0] for k in chunk]) if len(key_cols) == 1 else sa.tuple_(*key_cols).in_(chunk)
        conn.execute(table.delete().where(where))
    if not upserts:
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table)
    others = {c.name: stmt.excluded[c.name] for c in t.columns if c.name not in t.key}
    upsert = (
        stmt.on_conflict_do_update(index_elements=list(t.key), set_=others) if others else stmt.on_conflict_do_nothing()
    )
    conn.execute(upsert, upserts)  # one compiled statement; the driver batches the rows


def rows(conn: sa.Connection, table: sa.Table, where: Iterable[Any] = (), order: Iterable[Any] = ()) -> list[Row]:
    query = sa.select(table)
    for clause in where:
        query = query.where(clause)
    for clause in order:
        query = query.order_by(clause)
    return [dict(r) for r in conn.execute(query).mappings()]
