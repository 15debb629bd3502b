"""The ATP read model's rows of some SKUs (positions, backorders, incoming supply), from its tables
or from memory in the process that runs it, and the answers built from them (projections/atp.py)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa

from infra.readside.projection import Projection
from infra.readside.rowio import rows
from infra.readside.tables import Tables
from projections.atp import atp_view, incoming_view
from projections.base import Key, Row


@dataclass
class SkuRows:
    positions: list[Row] = field(default_factory=list)
    waiting: list[Row] = field(default_factory=list)
    incoming: list[Row] = field(default_factory=list)


@dataclass
class AtpRows:
    known: set[str]
    by_sku: dict[str, SkuRows]

    def of(self, sku: str) -> SkuRows:
        return self.by_sku.get(sku) or SkuRows()

    def view(self, sku: str, warehouse_id: str | None, today: date) -> dict[str, Any] | None:
        """GET /v1/atp/{sku}: stock per warehouse, what waits, and `incoming` (past days as today)."""
        if sku not in self.known:
            return None
        found = self.of(sku)
        backordered = sum(w["qty"] for w in found.waiting if warehouse_id in (None, w["warehouse_id"]))
        answer = atp_view(sku, found.positions, backordered, warehouse_id)
        answer["incoming"] = incoming_view(found.incoming, today, warehouse_id)
        return answer


def rows_from_tables(conn: sa.Connection, t: Tables, skus: list[str]) -> AtpRows:
    found = AtpRows({r["sku"] for r in rows(conn, t["skus"], [t["skus"].c.sku.in_(skus)])}, {})
    for table, name in (("positions", "positions"), ("backorders", "waiting"), ("incoming", "incoming")):
        for r in rows(conn, t[table], [t[table].c.sku.in_(skus)]):
            getattr(found.by_sku.setdefault(r["sku"], SkuRows()), name).append(r)
    return found


_TABLES = {"positions": "positions", "backorders": "waiting", "incoming": "incoming"}


class AtpMemory:
    """The ATP read model held in memory by the process that runs it: answers without a database
    round trip. Loaded from the tables, then kept current by the projection's committed batches."""

    def __init__(self, projection: Projection, listen: bool = True) -> None:
        """`listen`: kept current by this process's own batches of the projection; else by whoever
        feeds `apply` (infra/readside/atp_mirror.py)."""
        self.projection = projection
        self.lock = threading.Lock()
        self.generation = -1
        self.tables: dict[str, dict[str, dict[Key, Row]]] = {name: {} for name in _TABLES}  # table -> sku -> key -> row
        self.skus: set[str] = set()
        if listen:
            projection.listeners.append(self.apply)

    def load(self) -> None:
        p = self.projection
        with p.lock, p.engine.connect() as conn:
            loaded = {name: rows(conn, p.tables[name]) for name in (*_TABLES, "skus")}
            generation = p.generation
        self.fill(loaded, generation)

    def fill(self, loaded: dict[str, list[Row]], generation: int) -> None:
        """Hold these rows of every ATP table (by table name, "skus" included) of that generation."""
        keys = {name: spec.key for spec in self.projection.spec.tables for name in _TABLES if spec.name == name}
        with self.lock:
            self.skus = {r["sku"] for r in loaded["skus"]}
            self.tables = {name: {} for name in _TABLES}
            for name in _TABLES:
                for r in loaded[name]:
                    self.tables[name].setdefault(r["sku"], {})[tuple(r[k] for k in keys[name])] = r
            self.generation = generation

    def apply(self, changes: dict[str, dict[Key, Row | None]]) -> None:
        with self.lock:
            for name in _TABLES:
                for key, row in changes.get(name, {}).items():
                    sku = key[0]  # every ATP table is keyed by SKU first
                    if row is None:
                        self.tables[name].get(sku, {}).pop(key, None)
                    else:
                        self.tables[name].setdefault(sku, {})[key] = row
            for (sku,), row in changes.get("skus", {}).items():
                if row is not None:
                    self.skus.add(sku)

    def held(self, skus: list[str]) -> AtpRows:
        """The rows held now, whatever generation they are of."""
        with self.lock:
            found = AtpRows({s for s in skus if s in self.skus}, {})
            for name, attr in _TABLES.items():
                for sku in skus:
                    setattr(
                        found.by_sku.setdefault(sku, SkuRows()), attr, list(self.tables[name].get(sku, {}).values())
                    )
            return found

    def rows(self, skus: list[str]) -> AtpRows:
        if self.generation != self.projection.generation:
            self.load()  # a rebuild swapped in new tables
        return self.held(skus)
