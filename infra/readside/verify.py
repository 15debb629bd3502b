"""Verifying the read models against the log while the service keeps answering (decision 0024).

1. Pin: the live read models are captured at ONE position. When this process feeds them, it takes
   their locks (the runner waits, queries and commands do not), brings any that is behind up to the
   furthest one's position with the live batch path, reads every live row, and lets go. When another
   process feeds them, their rows are read between two readings of the tracking rows; the capture
   counts only when no tracking row moved meanwhile (a batch writes its rows and its tracking row
   in one transaction, so the rows are then those of that position) and all stand at one position,
   else it is tried again; after `PIN_TRIES` each read model is compared at its own pinned position.
   Either way the position is at least the head of the log when the verification began, if the
   read models get there.
2. Rebuild: every read model is replayed from position 0 up to its pinned position in ONE pass over
   the log into scratch tables (`vf_<table>_<n>`, a negative generation, a tracking row of its own),
   through the same batch code as the live read model (so an event the live one parked is parked).
3. Compare row by row (by key, every column); then drop the scratch tables and their tracking and
   parked rows, whatever happened.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from infra.eventstore.store import EventStore
from infra.readside.batches import CACHE_ROWS, commit_batch
from infra.readside.projection import Projection
from infra.readside.rowio import Cache, _normalise
from infra.readside.tables import Tables, parked
from infra.readside.tracking import read_position, tracking
from projections.base import Key, ProjectionSpec, Row

log = logging.getLogger("o2c.verify")

MAX_EXAMPLES = 100  # per read model
BATCH = 5000  # events per read of the log
PIN_TRIES = 50  # captures tried while another process feeds the read models
Progress = Callable[[int, int], None]  # (position reached, position to reach)
Snapshot = dict[str, dict[Key, Row]]  # table -> key -> row


@dataclass
class ModelReport:
    position: int
    rows: int = 0
    mismatches: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "rows": self.rows, "mismatches": self.mismatches, "examples": self.examples}


def _read_tables(conn: sa.Connection, spec: ProjectionSpec, tables: Tables) -> Snapshot:
    out: Snapshot = {}
    for t in spec.tables:
        table = tables[t.name]
        found: dict[Key, Row] = {}
        for r in conn.execute(sa.select(table)).mappings():
            row = _normalise(dict(r), table)
            assert row is not None
            found[tuple(row[k] for k in t.key)] = row
        out[t.name] = found
    return out


def _catch_up(projection: Projection, store: EventStore, target: int) -> None:
    """Bring a live read model to `target` the way the runner would (the caller holds its lock)."""
    while projection.position() < target:
        reached = projection.position()
        records = [r for r in store.read(reached, BATCH) if (r.position or 0) <= target]
        projection.process(records, records[-1].position or target if records else target)
        if projection.position() <= reached:
            raise RuntimeError(f"{projection.name} does not move past {reached}")


def pin(projections: Sequence[Projection], store: EventStore) -> tuple[dict[str, int], dict[str, Snapshot]]:
    """The live rows of every read model and the position each stands at: one position, at least the
    head of the log when asked, if it can."""
    head = store.head()
    if all(p.fed_here for p in projections):
        with ExitStack() as locks:
            for p in projections:
                locks.enter_context(p.lock)
            target = max(head, *(p.position() for p in projections))
            for p in projections:
                _catch_up(p, store, target)
            engine = projections[0].engine
            with engine.connect() as conn:
                return {p.name: target for p in projections}, {
                    p.name: _read_tables(conn, p.spec, p.tables) for p in projections
                }
    positions: dict[str, int] = {}
    snapshots: dict[str, Snapshot] = {}
    for _ in range(PIN_TRIES):
        for p in projections:
            p.refresh(0)
        engine = projections[0].engine
        with engine.connect() as conn:
            before = {p.name: read_position(conn, p.tracking_name) for p in projections}
            snapshots = {p.name: _read_tables(conn, p.spec, p.tables) for p in projections}
            positions = {p.name: read_position(conn, p.tracking_name) for p in projections}
        if before == positions and len(set(positions.values())) == 1 and min(positions.values()) >= head:
            break
        time.sleep(0.1)
    else:
        log.warning("read models captured at different positions: %s", positions)
    return positions, snapshots


class _Scratch:
    """One read model replayed into scratch tables up to `upto`."""

    def __init__(self, projection: Projection, tag: int, upto: int) -> None:
        self.spec = projection.spec
        self.engine = projection.engine
        self.tables = Tables(self.spec, -tag, prefix="vf")
        self.tracking = f"verify:{tag}:{self.spec.name}"
        self.upto = upto
        self.position = 0
        self.cache: Cache = {}
        with self.engine.begin() as conn:
            self.tables.drop(conn)
            self.tables.create(conn)

    def apply(self, records: Sequence[Any], position: int) -> None:
        if self.position >= self.upto:
            return
        target = min(position, self.upto)
        mine = [r for r in records if self.position < (r.position or 0) <= target]
        expected = self.position or None
        commit_batch(self.engine, self.spec, self.tables, self.tracking, mine, target, expected, self.cache, _quiet)
        self.position = target
        if sum(len(rows) for rows in self.cache.values()) > CACHE_ROWS:
            self.cache = {}

    def rows(self) -> Snapshot:
        with self.engine.connect() as conn:
            return _read_tables(conn, self.spec, self.tables)

    def drop(self) -> None:
        with self.engine.begin() as conn:
            self.tables.drop(conn)
            conn.execute(tracking.delete().where(tracking.c.name == self.tracking))
            where = (parked.c.projection == self.spec.name, parked.c.generation == self.tables.generation)
            conn.execute(parked.delete().where(*where))


def _quiet(changes: Cache, position: int) -> None:
    """Scratch tables tell no listener."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def compare(spec: ProjectionSpec, live: Snapshot, rebuilt: Snapshot, report: ModelReport) -> None:
    """Count the rows and the mismatches; keep up to MAX_EXAMPLES of them (the columns that differ)."""
    for t in spec.tables:
        mine, theirs = live.get(t.name, {}), rebuilt.get(t.name, {})
        for key in sorted(set(mine) | set(theirs), key=repr):
            report.rows += 1
            a, b = mine.get(key), theirs.get(key)
            if a == b:
                continue
            report.mismatches += 1
            if len(report.examples) >= MAX_EXAMPLES:
                continue
            columns = [c.name for c in t.columns if a is None or b is None or a.get(c.name) != b.get(c.name)]
            report.examples.append(
                {
                    "table": t.name,
                    "key": {k: _plain(v) for k, v in zip(t.key, key, strict=True)},
                    "live": None if a is None else {c: _plain(a.get(c)) for c in columns},
                    "rebuilt": None if b is None else {c: _plain(b.get(c)) for c in columns},
                }
            )


def verify(
    projections: Sequence[Projection], store: EventStore, progress: Progress | None = None
) -> tuple[int, dict[str, ModelReport]]:
    """Pin the live read models, rebuild them in scratch space up to there, compare: (position, reports).
    The position is the one every read model was compared at (the lowest, if they could not be pinned
    at one)."""
    positions, live = pin(projections, store)
    tag = secrets.randbelow(2**31 - 2) + 1
    target = max(positions.values(), default=0)
    jobs: list[_Scratch] = []
    try:
        for p in projections:
            jobs.append(_Scratch(p, tag, positions[p.name]))
        position = 0
        while position < target:
            records = [r for r in store.read(position, BATCH) if (r.position or 0) <= target]
            reached = records[-1].position or target if records else target
            for job in jobs:
                job.apply(records, reached)
            position = reached
            if progress:
                progress(position, target)
        for job in jobs:
            job.apply([], job.upto)  # a read model pinned past the last event still records its position
        reports: dict[str, ModelReport] = {}
        for p, job in zip(projections, jobs, strict=True):
            report = reports[p.name] = ModelReport(positions[p.name])
            compare(p.spec, live[p.name], job.rows(), report)
        if progress:
            progress(target, target)
        return min(positions.values(), default=0), reports
    finally:
        for job in jobs:
            try:
                job.drop()
            except Exception:
                log.exception("could not drop the scratch tables of %s", job.spec.name)
