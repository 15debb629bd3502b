"""Which values a store cannot hold, and which errors say it refused one.

A read model parks an event that makes a row no store can hold (`unstorable`, checked before the
write) and an event whose write the store refuses (`cannot_store`, the driver's own verdict); both are
"cannot apply this event", never "retry later" (that is `infra.eventstore.store.unreachable`).
"""

from __future__ import annotations

import sqlite3

import psycopg
import sqlalchemy as sa

from infra.eventstore.store import unreachable
from projections.base import Row, TableSpec


def printable(text: str) -> str:
    """An error message the store can hold (it may quote the very value the store refused)."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


class UnstorableRowError(ValueError):
    """An event makes a row that no store can hold: its event is parked before anything is written."""


_INT64 = (-(2**63), 2**63 - 1)
_CHECKS: dict[tuple[str, str], list[tuple[str, str, int | None]]] = {}


def _checks(t: TableSpec, table: sa.Table) -> list[tuple[str, str, int | None]]:
    """(column, kind, longest) for the columns a store may refuse a value of: text and integers."""
    found = _CHECKS.get((table.name, t.name))
    if found is None:
        found = []
        for col in t.columns:
            sql_type = table.c[col.name].type
            if col.type == "int":
                found.append((col.name, "int", None))
            elif isinstance(sql_type, sa.String) and not isinstance(sql_type, sa.types.TypeDecorator):
                found.append((col.name, "text", sql_type.length))
        _CHECKS[(table.name, t.name)] = found
    return found


def unstorable(t: TableSpec, table: sa.Table, row: Row) -> str | None:
    """Why `row` cannot be stored in `table` on either store, or None. The same on SQLite and
    PostgreSQL (SQLite would take a NUL or an over-long string), so both park the same events,
    and a rebuild parks what the live read model parked whatever the batch boundaries."""
    for name, kind, longest in _checks(t, table):
        value = row.get(name)
        if value is None:
            continue
        if kind == "int":
            if type(value) is int and not _INT64[0] <= value <= _INT64[1]:
                return f"{table.name}.{name}: {value} does not fit a 64-bit integer"
        elif isinstance(value, str):
            if "\x00" in value:
                return f"{table.name}.{name}: text holds a NUL character (U+0000)"
            if longest is not None and len(value) > longest:
                return f"{table.name}.{name}: {len(value)} characters, the column holds {longest}"
            if not value.isascii():
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError as exc:
                    return f"{table.name}.{name}: not valid text ({exc.reason})"
    return None


_DATA_ERRORS: tuple[type[BaseException], ...] = (
    sa.exc.DataError,
    psycopg.DataError,
    sqlite3.DataError,
    OverflowError,  # SQLite: an integer beyond 64 bits
    UnicodeError,  # text that is not valid UTF-8 (a lone surrogate), both drivers
)


def cannot_store(exc: BaseException) -> bool:
    """Whether the store refused a value of the write (NUL in text, a number out of range, a string
    too long for its column, text it cannot encode): retrying cannot help, the event is parked.
    A store that cannot be reached, a lock, a conflict or a bug are not this: those are retried."""
    if unreachable(exc):
        return False
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _DATA_ERRORS):
            return True
        if isinstance(current, sqlite3.InterfaceError | sqlite3.ProgrammingError) and "binding" in str(current):
            return True  # SQLite: a value of a type it cannot bind
        current = current.__cause__ or getattr(current, "orig", None)
    return False
