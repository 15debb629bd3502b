"""What a read model is: tables of rows, each row evolved from events by a pure function."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from domain.events import Event

Row = dict[str, Any]
Key = tuple[Any, ...]
ColumnType = Literal["str", "int", "money", "json", "time", "bool"]
Tally = Callable[[Row], dict[Key, int]]


@dataclass(frozen=True)
class EventInfo:
    """Where and when an event was recorded."""

    position: int
    occurred_at: datetime


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    index: bool = False


@dataclass(frozen=True)
class TableSpec:
    """A read-model table: `keys_for` names the rows an event touches; `evolve` computes each new
    row from the old one (None when absent; returning None deletes it). Both are pure."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    keys_for: Callable[[Event], list[Key]]
    evolve: Callable[[Row | None, Key, Event, EventInfo], Row | None]
    events: tuple[type[Event], ...] = ()  # the event classes it reads; others are never decoded
    dump: Callable[[Row], Row] | None = None  # fills stored columns from in-memory helpers ('_' keys)
    # A tally table reads no event: its rows (key columns and an int column `n`) are the sums over the
    # rows of table `source` of `tally(row)`, kept by the change of each source row (infra/readside).
    source: str | None = None
    tally: Tally | None = None


def _no_keys(event: Event) -> list[Key]:
    return []


def _no_evolve(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    raise AssertionError("a tally table is not evolved by events")


def tally_table(name: str, key: tuple[Column, ...], source: str, tally: Tally) -> TableSpec:
    """A table of counts: for each key, the sum of `tally(row)[key]` over the rows of `source` (a key
    whose sum is 0 has no row). A pure function of the source rows, so a rebuild makes the same rows."""
    columns = (*key, Column("n", "int"))
    return TableSpec(name, tuple(c.name for c in key), columns, _no_keys, _no_evolve, (), None, source, tally)


@dataclass(frozen=True)
class ProjectionSpec:
    name: str
    tables: tuple[TableSpec, ...]

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(cls.__name__ for t in self.tables for cls in t.events)
