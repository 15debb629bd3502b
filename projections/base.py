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


@dataclass(frozen=True)
class ProjectionSpec:
    name: str
    tables: tuple[TableSpec, ...]

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(cls.__name__ for t in self.tables for cls in t.events)
