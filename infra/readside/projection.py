"""Stores read models in SQL tables and keeps them current from the log, exactly once.

Each projection has a generation; its tables are named `rm_<table>_<generation>` and its tracking
row `<name>@<generation>`. A batch of events is applied in memory to the rows it touches and
written with the new tracking position in ONE transaction. An event the read model cannot apply is
parked (recorded in `o2c_parked`) and skipped, so one bad event never halts a read model: one whose
decoding or evolve raises, one that makes a row the store cannot hold (`unstorable`), and one whose
write the store refuses (`cannot_store`: the batch is then split until that event is alone). A store
that cannot be reached parks nothing: the batch is retried. Rebuild (infra/rebuild.py) fills
generation g+1 from position 0 while g keeps answering, then swaps.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from infra.eventstore.codec import Recorded
from infra.eventstore.store import EventStore
from infra.readside.rowio import Cache, _load, _write
from infra.readside.rowio import rows as rows  # re-exported: readers import it from here
from infra.readside.rowio import write_rows as write_rows
from infra.readside.storable import UnstorableRowError, cannot_store, printable, unstorable
from infra.readside.tracking import ensure_tables, read_position, save_position
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
    failures: list[tuple[Recorded, str]] = []
    for record in records:
        readers = by_topic.get(record.topic)
        if not readers:
            continue
        try:  # decoding is pure too: an event that cannot be read is parked like one that cannot apply
            event = record.event
            pairs = [(t, key) for t in readers for key in t.keys_for(event)]
        except Exception as exc:  # noqa: BLE001 - a bad event is parked, not fatal
            failures.append((record, f"{type(exc).__name__}: {exc}"))
            continue
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
    current: dict[str, dict[Key, Row | None]] = {name: dict(kept) for name, kept in original.items()}

    for record, pairs in work:
        staged: dict[tuple[str, Key], Row | None] = {}
        try:
            info = EventInfo(position=record.position or 0, occurred_at=record.meta.occurred_at)
            for t, key in pairs:
                before = staged.get((t.name, key), current[t.name].get(key))
                row = t.evolve(before, key, record.event, info)
                reason = None if row is None else unstorable(t, tables[t.name], row)
                if reason is not None:
                    raise UnstorableRowError(reason)
                staged[(t.name, key)] = row
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
    park(conn, spec.name, tables.generation, failures)
    return failures


def park(conn: sa.Connection, name: str, generation: int, failures: Sequence[tuple[Recorded, str]]) -> None:
    """Record events that were skipped in `o2c_parked` (a replayed batch records nothing twice)."""
    if not failures:
        return
    insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    entries = {
        rec.position: {
            "projection": name,
            "generation": generation,
            "position": rec.position,
            "event_type": rec.topic,
            "error": printable(error)[:2000],
            "parked_at": datetime.now(UTC),
        }
        for rec, error in failures
    }
    conn.execute(insert(parked).on_conflict_do_nothing(), list(entries.values()))


Committed = Callable[[Cache, int], None]


def commit_batch(
    engine: sa.Engine,
    spec: ProjectionSpec,
    tables: Tables,
    tracking_name: str,
    records: Sequence[Recorded],
    upto: int,
    expected: int | None,
    cache: Cache,
    committed: Committed,
) -> None:
    """Apply `records` and move the tracking row from `expected` to `upto` in ONE transaction.

    When the store refuses a value of the write, the batch is split in halves, each committed on its
    own, until the event whose rows it refuses is alone: that event is parked (in a transaction of its
    own, with the tracking row) and every other one applies in order. `committed(changes, position)` is
    called after each commit; `cache` is cleared when a transaction fails.
    """
    position = expected

    def attempt(part: Sequence[Recorded], part_upto: int) -> None:
        nonlocal position
        changes: Cache = {}
        try:
            with engine.begin() as conn:
                apply_batch(conn, spec, tables, part, cache, changes)
                save_position(conn, tracking_name, part_upto, expected=position)
        except Exception as exc:
            cache.clear()
            if not cannot_store(exc):
                raise
            if len(part) > 1:
                log.warning("the store refused a value; isolating the event", extra={"follower": spec.name})
                middle = len(part) // 2
                attempt(part[:middle], part[middle - 1].position or 0)
                attempt(part[middle:], part_upto)
                return
            with engine.begin() as conn:
                park(conn, spec.name, tables.generation, [(part[0], f"{type(exc).__name__}: {exc}")])
                save_position(conn, tracking_name, part_upto, expected=position)
            log.error("event parked: the store refused its rows", extra={"follower": spec.name, "position": part_upto})
            changes = {}
        position = part_upto
        committed(changes, part_upto)

    attempt(records, upto)


def _quiet(changes: Cache, position: int) -> None:
    """Catching up tables that are not live yet tells no listener."""


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
        self._swap_checked_at = 0.0
        # True while this process's runner feeds the projection (it holds its lock): then only the
        # feeder follows a swap made elsewhere, after catching the new tables up (see `process`).
        self.fed_here = False
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
        """Readers follow a swap done by another process (a rebuild elsewhere), never backwards: the
        new tables are taken only once they have processed at least as much of the log as the old
        ones, so a read that waited for a position never answers from tables behind it."""
        if self.fed_here or time.monotonic() - self._checked_at < max_age:
            return
        self._checked_at = time.monotonic()
        gen = self._active_generation()
        if gen == self.generation:
            return
        with self.lock, self.engine.connect() as conn:
            if read_position(conn, f"{self.name}@{gen}") < read_position(conn, self.tracking_name):
                return  # its feeder has not caught the new tables up yet: keep answering from these
            self._switch(gen, Tables(self.spec, gen), None, {})

    def _switch(self, generation: int, tables: Tables, position: int | None, cache: Cache) -> None:
        self.generation = generation
        self.tables = tables
        self._position = position
        self.cache = cache

    def _follow_swap(self) -> None:
        """The feeder takes a generation swapped in elsewhere: it first brings the new tables up to
        its own position (under the lock, so no read sees them behind), then feeds them instead.
        Older generations than the one it leaves are dropped: no process reads them any more."""
        if time.monotonic() - self._swap_checked_at < 1.0:
            return
        self._swap_checked_at = time.monotonic()
        gen = self._active_generation()
        if gen == self.generation:
            return
        target = self.position()
        tables = Tables(self.spec, gen)
        tracking = f"{self.name}@{gen}"
        with self.engine.connect() as conn:
            reached = read_position(conn, tracking)
        cache: Cache = {}
        while reached < target:
            records = [r for r in self.store.read(reached, 2000) if (r.position or 0) <= target]
            upto = records[-1].position or target if records else target
            commit_batch(self.engine, self.spec, tables, tracking, records, upto, reached, cache, _quiet)
            reached = upto
        left = self.generation
        self._switch(gen, tables, max(reached, target), cache)
        log.info("following generation %s of %s (left %s)", gen, self.name, left)
        with self.engine.begin() as conn:
            for stale in range(max(left - 5, 1), left):
                Tables(self.spec, stale).drop(conn)

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
            self._follow_swap()
            expected = self.position()
            if upto <= expected:
                return  # already applied (e.g. a rebuild swapped in while this batch was read)
            records = [r for r in records if (r.position or 0) > expected]
            try:
                commit_batch(
                    self.engine,
                    self.spec,
                    self.tables,
                    self.tracking_name,
                    records,
                    upto,
                    expected,
                    self.cache,
                    self._committed,
                )
            except Exception:
                self.cache = {}
                self._position = None  # re-read: another process may have moved it, or part was committed
                raise
            if sum(len(rows) for rows in self.cache.values()) > CACHE_ROWS:
                self.cache = {}

    def _committed(self, changes: Cache, position: int) -> None:
        for listener in self.listeners:
            listener(changes)
        self._position = position

    def rebuild(
        self,
        batch_size: int = 5000,
        progress: Callable[[int, int], None] | None = None,
        stop: threading.Event | None = None,
    ) -> dict[str, int]:
        """Fill a fresh generation from position 0, then swap it in. Queries keep answering meanwhile."""
        from infra.readside.rebuild import rebuild_together

        return rebuild_together([self], batch_size, progress, stop)[self.name]

    def parked(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(parked)
                .where(parked.c.projection == self.name, parked.c.generation == self.generation)
                .order_by(parked.c.position)
            ).mappings()
            return [dict(r) for r in rows]

    def parked_count(self) -> int:
        where = (parked.c.projection == self.name, parked.c.generation == self.generation)
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(parked).where(*where)).scalar() or 0)


def __getattr__(name: str) -> Any:
    """`rebuild_together` and `_Rebuilding` live in infra/rebuild.py; still importable from here."""
    if name in ("rebuild_together", "_Rebuilding"):
        from infra.readside import rebuild

        return getattr(rebuild, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
