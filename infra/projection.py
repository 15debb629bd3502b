"""Stores read models in SQL tables and keeps them current from the log, exactly once.

Each projection has a generation; its tables are named `rm_<table>_<generation>` and its tracking
row `<name>@<generation>`. A batch of events is applied in memory to the rows it touches and
written with the new tracking position in ONE transaction. An event whose evolve raises is parked
(recorded in `o2c_parked` in the same transaction) and skipped, so one bad event never halts a read
model. Rebuild fills generation g+1 from position 0 while g keeps answering, then swaps.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from infra.codec import Recorded
from infra.store import EventStore
from infra.tracking import ensure_tables, read_position, save_position
from projections.base import Column, EventInfo, Key, ProjectionSpec, Row, TableSpec

log = logging.getLogger("o2c.projection")

_meta = sa.MetaData()
registry = sa.Table(
    "o2c_projections",
    _meta,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("generation", sa.Integer, nullable=False),
)
parked = sa.Table(
    "o2c_parked",
    _meta,
    sa.Column("projection", sa.String(100), primary_key=True),
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("position", sa.BigInteger, primary_key=True),
    sa.Column("event_type", sa.String(100), nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("parked_at", sa.DateTime(timezone=True), nullable=False),
)


class Money(sa.types.TypeDecorator[Decimal]):
    """Money kept as its exact decimal string on every store (SQLite has no exact decimal)."""

    impl = sa.String(32)
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
CHUNK = 400
CACHE_ROWS = 200_000  # rows kept between batches before the cache starts over
FLUSH_ROWS = 50_000  # a rebuild writes its changed rows once this many are waiting


def _column(spec: TableSpec, col: Column) -> sa.Column[Any]:
    return sa.Column(col.name, _TYPES[col.type], primary_key=col.name in spec.key, index=col.index)


class Tables:
    """The SQL tables of one generation of a projection."""

    def __init__(self, spec: ProjectionSpec, generation: int) -> None:
        self.spec = spec
        self.generation = generation
        self.metadata = sa.MetaData()
        self.by_name: dict[str, sa.Table] = {
            t.name: sa.Table(f"rm_{t.name}_{generation}", self.metadata, *(_column(t, c) for c in t.columns))
            for t in spec.tables
        }

    def __getitem__(self, name: str) -> sa.Table:
        return self.by_name[name]

    def create(self, conn: sa.Connection) -> None:
        self.metadata.create_all(conn)

    def drop(self, conn: sa.Connection) -> None:
        self.metadata.drop_all(conn)


def _normalise(row: Row | None, table: sa.Table) -> Row | None:
    """Make a row read back from SQL comparable with one built in memory (UTC datetimes)."""
    if row is None:
        return None
    out = dict(row)
    for name, value in out.items():
        if isinstance(value, datetime) and value.tzinfo is None:
            out[name] = value.replace(tzinfo=UTC)
    return out


Cache = dict[str, dict[Key, Row | None]]
_BY_TOPIC: dict[str, dict[str, list[TableSpec]]] = {}


def _tables_by_topic(spec: ProjectionSpec) -> dict[str, list[TableSpec]]:
    """Which tables of a projection read each event topic ."""
    found = _BY_TOPIC.get(spec.name)
    if found is None:
        found = {}
        for t in spec.tables:
            for cls in t.events:
                found.setdefault(cls.__name__, []).append(t)
        _BY_TOPIC[spec.name] = found
    return found


def apply_batch(
    conn: sa.Connection,
    spec: ProjectionSpec,
    tables: Tables,
    records: Sequence[Recorded],
    cache: Cache | None = None,
    changes: Cache | None = None,
    write: bool = True,
) -> list[tuple[Recorded, str]]:
    """Apply records to the tables; returns the (record, error) pairs that were parked.

    `cache` holds rows as last written (None = known absent) across batches; it is only valid while
    this process is the sole writer of these tables, and must be dropped if the transaction fails.
    With `write=False` the rows only change in `cache` and `changes`; the caller writes them later
    with `write_rows` (a rebuild, which writes each row once instead of once per batch).
    """
    by_topic = _tables_by_topic(spec)
    touched: dict[str, set[Key]] = {t.name: set() for t in spec.tables}
    work: list[tuple[Recorded, list[tuple[TableSpec, Key]]]] = []
    for record in records:
        readers = by_topic.get(record.topic)
        if not readers:
            continue
        event = record.event
        pairs = [(t, key) for t in readers for key in t.keys_for(event)]
        if pairs:
            work.append((record, pairs))
            for t, key in pairs:
                touched[t.name].add(key)

    cache = cache if cache is not None else {}
    original: dict[str, dict[Key, Row | None]] = {}
    for t in spec.tables:
        known = cache.setdefault(t.name, {})
        missing = [k for k in touched[t.name] if k not in known]
        loaded = _load(conn, tables[t.name], t, missing)
        original[t.name] = {k: (known[k] if k in known else loaded.get(k)) for k in touched[t.name]}
    current: dict[str, dict[Key, Row | None]] = {name: dict(rows) for name, rows in original.items()}

    failures: list[tuple[Recorded, str]] = []
    for record, pairs in work:
        info = EventInfo(position=record.position or 0, occurred_at=record.meta.occurred_at)
        staged: dict[tuple[str, Key], Row | None] = {}
        try:
            for t, key in pairs:
                before = staged.get((t.name, key), current[t.name].get(key))
                staged[(t.name, key)] = t.evolve(before, key, record.event, info)
        except Exception as exc:  # noqa: BLE001 - a bad event is parked, not fatal
            failures.append((record, f"{type(exc).__name__}: {exc}"))
            continue
        for (name, key), row in staged.items():
            current[name][key] = row

    for t in spec.tables:
        if write:
            _write(conn, tables[t.name], t, original[t.name], current[t.name])
        cache[t.name].update(current[t.name])
        if changes is not None:
            changes[t.name] = current[t.name]
    if failures:
        conn.execute(
            parked.insert(),
            [
                {
                    "projection": spec.name,
                    "generation": tables.generation,
                    "position": rec.position,
                    "event_type": rec.topic,
                    "error": error[:2000],
                    "parked_at": datetime.now(UTC),
                }
                for rec, error in failures
            ],
        )
    return failures


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


class Projection:
    """A live projection: the runner feeds it batches; queries read its active tables."""

    def __init__(self, spec: ProjectionSpec, engine: sa.Engine, store: EventStore) -> None:
        self.spec = spec
        self.name = spec.name
        self.engine = engine
        self.store = store
        self.lock = threading.RLock()  # held while a batch is applied, and while a rebuild swaps
        ensure_tables(engine)
        _meta.create_all(engine)
        self.generation = self._active_generation()
        self.tables = Tables(spec, self.generation)
        with engine.begin() as conn:
            self.tables.create(conn)
        self._position: int | None = None
        self._checked_at = 0.0
        self.cache: Cache = {}
        self.listeners: list[Callable[[Cache], None]] = []  # told the rows each committed batch changed

    def _active_generation(self) -> int:
        with self.engine.begin() as conn:
            gen = conn.execute(sa.select(registry.c.generation).where(registry.c.name == self.name)).scalar()
            if gen is None:
                conn.execute(registry.insert().values(name=self.name, generation=1))
                gen = 1
        return int(gen)

    def refresh(self, max_age: float = 1.0) -> None:
        """Follow a swap done by another process (a rebuild elsewhere)."""
        if time.monotonic() - self._checked_at < max_age:
            return
        self._checked_at = time.monotonic()
        gen = self._active_generation()
        if gen != self.generation:
            with self.lock:
                self.generation = gen
                self.tables = Tables(self.spec, gen)
                self._position = None
                self.cache = {}

    @property
    def tracking_name(self) -> str:
        return f"{self.name}@{self.generation}"

    def position(self) -> int:
        if self._position is None:
            with self.engine.connect() as conn:
                self._position = read_position(conn, self.tracking_name)
        return self._position

    def position_known(self) -> bool:
        """Whether `position()` answers from memory (it reads the tracking row after a failed batch)."""
        return self._position is not None

    def stored_position(self) -> int:
        """The tracking position as committed (other processes may run this projection)."""
        with self.engine.connect() as conn:
            return read_position(conn, self.tracking_name)

    def process(self, records: Sequence[Recorded], upto: int) -> None:
        with self.lock:
            expected = self.position()
            if upto <= expected:
                return  # already applied (e.g. a rebuild swapped in while this batch was read)
            records = [r for r in records if (r.position or 0) > expected]
            changes: Cache = {}
            try:
                with self.engine.begin() as conn:
                    apply_batch(conn, self.spec, self.tables, records, self.cache, changes)
                    save_position(conn, self.tracking_name, upto, expected=expected)
            except Exception:
                self.cache = {}
                self._position = None  # re-read: another process may have moved it
                raise
            for listener in self.listeners:
                listener(changes)
            self._position = upto
            if sum(len(rows) for rows in self.cache.values()) > CACHE_ROWS:
                self.cache = {}

    def rebuild(
        self,
        batch_size: int = 5000,
        progress: Callable[[int, int], None] | None = None,
        stop: threading.Event | None = None,
    ) -> dict[str, int]:
        """Fill a fresh generation from position 0, then swap it in. Queries keep answering meanwhile."""
        return rebuild_together([self], batch_size, progress, stop)[self.name]

    def parked(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(parked)
                .where(parked.c.projection == self.name, parked.c.generation == self.generation)
                .order_by(parked.c.position)
            ).mappings()
            return [dict(r) for r in rows]


def rows(conn: sa.Connection, table: sa.Table, where: Iterable[Any] = (), order: Iterable[Any] = ()) -> list[Row]:
    query = sa.select(table)
    for clause in where:
        query = query.where(clause)
    for clause in order:
        query = query.order_by(clause)
    return [dict(r) for r in conn.execute(query).mappings()]


class _Rebuilding:
    """One projection's next generation while a rebuild fills it; rows are written once per flush."""

    def __init__(self, projection: Projection) -> None:
        self.projection = projection
        self.spec = projection.spec
        self.engine = projection.engine
        with self.engine.begin() as conn:
            query = sa.select(registry.c.generation).where(registry.c.name == projection.name)
            self.old_generation = int(conn.execute(query).scalar() or 1)
        self.generation = self.old_generation + 1
        self.tables = Tables(self.spec, self.generation)
        self.tracking = f"{projection.name}@{self.generation}"
        with self.engine.begin() as conn:
            self.tables.drop(conn)
            self.tables.create(conn)
            where = (parked.c.projection == projection.name, parked.c.generation == self.generation)
            conn.execute(parked.delete().where(*where))
            save_position(conn, self.tracking, 0)
        self.position = 0
        self.events = 0
        self.cache: Cache = {}
        self.unwritten: Cache = {}  # rows changed since the last write

    def apply(self, records: Sequence[Recorded], upto: int) -> None:
        """Apply a batch in memory; write the changed rows when many wait, the cache is full, or at the end."""
        changes: Cache = {}
        with self.engine.begin() as conn:
            if records:
                apply_batch(conn, self.spec, self.tables, records, self.cache, changes, write=False)
            self.position = upto
            self.events += len(records)
            for name, rows in changes.items():
                self.unwritten.setdefault(name, {}).update(rows)
            too_big = sum(len(rows) for rows in self.cache.values()) > CACHE_ROWS
            if too_big or not records or sum(len(rows) for rows in self.unwritten.values()) > FLUSH_ROWS:
                write_rows(conn, self.spec, self.tables, self.unwritten)
                save_position(conn, self.tracking, self.position)
                self.unwritten = {}
        if too_big:
            self.cache = {}  # safe: everything in it was just written

    def swap(self) -> Tables:
        """Make the new generation the live one (the caller holds the projection's lock)."""
        p = self.projection
        old = p.tables
        with self.engine.begin() as conn:
            conn.execute(registry.update().where(registry.c.name == p.name).values(generation=self.generation))
        p.generation = self.generation
        p.tables = self.tables
        p._position = self.position
        p.cache = self.cache
        return old

    def drop_older(self, replaced: Tables) -> None:
        """Keep the generation just replaced (other processes may still read it for a moment)."""
        with self.engine.begin() as conn:
            for stale in range(max(replaced.generation - 1, 1), replaced.generation):
                Tables(self.spec, stale).drop(conn)


def rebuild_together(
    projections: Sequence[Projection],
    batch_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> dict[str, dict[str, int]]:
    """Rebuild projections in ONE pass over the log: each batch is read and decoded once for all.

    Each fills a fresh generation from position 0 while its live one keeps answering; at the end the
    live ones pause (their locks) while the new ones take the last events, then all swap.
    """
    store = projections[0].store
    jobs = [_Rebuilding(p) for p in projections]
    head = store.head()
    position = 0

    def step() -> int:
        nonlocal position
        records = store.read(position, batch_size)
        if records:
            position = records[-1].position or position
        for job in jobs:
            job.apply(records, position)
        if progress:
            progress(position, max(head, position))
        return len(records)

    while step() == batch_size:
        if stop is not None and stop.is_set():  # abandoned: the old generations stay active
            return {j.projection.name: _result(j.old_generation, j) for j in jobs}
    with ExitStack() as locks:
        for job in jobs:
            locks.enter_context(job.projection.lock)
        while step():
            pass
        replaced = [job.swap() for job in jobs]
    for job, old in zip(jobs, replaced, strict=True):
        job.drop_older(old)
        log.info("rebuilt %s: generation %s, %s events", job.projection.name, job.generation, job.events)
    return {j.projection.name: _result(j.generation, j) for j in jobs}


def _result(generation: int, job: _Rebuilding) -> dict[str, int]:
    return {"generation": generation, "events": job.events, "position": job.position}
