"""Given events, then rows: fold events through a pure TableSpec the way the SQL engine does."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from domain.events import Event
from projections.base import EventInfo, Key, Row, TableSpec

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    """A fixed acceptance/occurrence time, `minutes` after T0."""
    return T0 + timedelta(minutes=minutes)


def stored(table: TableSpec, row: Row) -> Row:
    """A row as the table stores it: the spec's `dump` (if any) fills columns, helper keys go."""
    dump = getattr(table, "dump", None)
    if dump is not None:
        row = dump(dict(row))
    return {k: v for k, v in row.items() if not k.startswith("_")}


def fold(table: TableSpec, events: Iterable[Event], rows: dict[Key, Row] | None = None) -> dict[Key, Row]:
    """Apply events in order (positions 1, 2, ...) to {key: row}; a None row is deleted.
    Answers the rows as stored (see `stored`); `rows` may be such stored rows to go on from."""
    out = dict(rows or {})
    for position, event in enumerate(events, start=1):
        info = EventInfo(position=position, occurred_at=at(position))
        for key in table.keys_for(event):
            row = table.evolve(out.get(key), key, event, info)
            if row is None:
                out.pop(key, None)
            else:
                out[key] = row
    return {key: stored(table, row) for key, row in out.items()}


def table(spec_tables: Iterable[TableSpec], name: str) -> TableSpec:
    return next(t for t in spec_tables if t.name == name)
