"""The SQL tables of a read model's generation, and the service's own tables about read models:
which generation is live (`o2c_projections`) and which events were parked (`o2c_parked`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from infra.schema import create_missing, forget, present_columns
from projections.base import Column, ProjectionSpec, TableSpec

metadata = sa.MetaData()
registry = sa.Table(
    "o2c_projections",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
)
parked = sa.Table(
    "o2c_parked",
    metadata,
    sa.Column("projection", sa.String(100), primary_key=True),
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
)

verifications = sa.Table(
    "o2c_verifications",
    metadata,
    sa.Column("verification_id", sa.String(100), primary_key=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("position", sa.BigInteger, nullable=True),
    sa.Column("report", sa.Text, nullable=True),  # JSON: {read_models: {...}, error?}
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
)


class Money(sa.types.TypeDecorator[Decimal]):
    """Money kept as its exact decimal string on every store (SQLite has no exact decimal). Unbounded
    text: a sum over any number of orders or invoices has no fixed width (domain.values)."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else str(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


_TYPES: dict[str, Any] = {
    "str": sa.String(200),
    "int": sa.BigInteger,
    "money": Money(),
    "json": sa.Text,
    "time": sa.DateTime(timezone=True),
    "bool": sa.Boolean,
}


def _column(spec: TableSpec, col: Column) -> sa.Column[Any]:
    return sa.Column(col.name, _TYPES[col.type], primary_key=col.name in spec.key, index=col.index)


class Tables:
    """The SQL tables of one generation of a projection. A verification's scratch copy has a
    `prefix` of its own and a negative generation, which no live generation ever has."""

    def __init__(self, spec: ProjectionSpec, generation: int, prefix: str = "rm") -> None:
        self.spec = spec
        self.generation = generation
        self.metadata = sa.MetaData()
        self.by_name: dict[str, sa.Table] = {
            t.name: sa.Table(f"{prefix}_{t.name}_{abs(generation)}", self.metadata, *(_column(t, c) for c in t.columns))
            for t in spec.tables
        }

    def __getitem__(self, name: str) -> sa.Table:
        return self.by_name[name]

    def create(self, conn: sa.Connection) -> None:
        """Create what is missing. A table made by an older version of its spec gets the columns it
        lacks (NULL in the rows written before: right for a field older events never carried; a
        column derived from older events needs `o2c rebuild <name>`). A tally table that is new beside
        its source table is filled from the source's rows (a tally is a function of them)."""
        before = present_columns(conn, [table.name for table in self.by_name.values()])
        created = set(create_missing(conn, self.metadata, set(before)))
        for t in self.spec.tables:
            source = self.by_name[t.source].name if t.source is not None else None
            if source is not None and self.by_name[t.name].name in created and source not in created:
                self._fill_tally(conn, t)
        for table in self.by_name.values():
            if table.name in created:
                continue  # made just now from the spec: every column is there
            present = before[table.name]
            for column in table.columns:
                if column.name in present:
                    continue
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(sa.text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
                for index in table.indexes:
                    if column.name in index.columns:
                        index.create(conn, checkfirst=True)

    def _fill_tally(self, conn: sa.Connection, t: TableSpec) -> None:
        assert t.source is not None and t.tally is not None
        counts: dict[tuple[Any, ...], int] = {}
        for row in conn.execute(sa.select(self.by_name[t.source])).mappings():
            for key, n in t.tally(dict(row)).items():
                counts[key] = counts.get(key, 0) + n
        found = [{**dict(zip(t.key, key, strict=True)), "n": n} for key, n in counts.items() if n]
        for i in range(0, len(found), 1000):
            conn.execute(self.by_name[t.name].insert(), found[i : i + 1000])

    def drop(self, conn: sa.Connection) -> None:
        self.metadata.drop_all(conn)
        forget(conn, [table.name for table in self.by_name.values()])
