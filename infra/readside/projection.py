"""Stores read models in SQL tables and keeps them current from the log, exactly once.

Each projection has a generation; its tables are named `rm_<table>_<generation>` and its tracking
row `<name>@<generation>`. A batch of events is applied in memory to the rows it touches and
written with the new tracking position in ONE transaction (infra/readside/batches.py). An event the read model cannot apply is
parked (recorded in `o2c_parked`) and skipped, so one bad event never halts a read model: one whose
decoding or evolve raises, one that makes a row the store cannot hold (`unstorable`), and one whose
write the store refuses (`cannot_store`: the batch is then split until that event is alone). A store
that cannot be reached parks nothing: the batch is retried. Rebuild (infra/readside/rebuild.py) fills
generation g+1 from position 0 while g keeps answering, then swaps.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from infra.eventstore.codec import Recorded
from infra.eventstore.store import EventStore
from infra.readside.batches import CACHE_ROWS, commit_batch
from infra.readside.rowio import Cache
from infra.readside.tables import Tables, metadata, parked, registry
from infra.readside.tracking import ensure_tables, read_position
from infra.schema import create_missing
from projections.base import ProjectionSpec

log = logging.getLogger("o2c.projection")


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
        create_missing(engine, metadata)
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
