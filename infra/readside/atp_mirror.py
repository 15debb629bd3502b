"""ATP in memory in a process that does not run the ATP projection (a web process beside `o2c worker`,
or one whose peer holds the ATP lock), so its ATP reads never touch the database.

The mirror loads the ATP tables and their tracking position at one snapshot. After that it applies
the log's events with the projection's own evolvers (projections/atp.py, through `apply_batch`,
never writing), and never past the position the tables have committed. Up to that position the
events the projection parked are known, and the mirror skips them. So the mirror holds exactly the
tables' rows as of its position, and that position is what its answers report. A rebuild elsewhere
that swaps in a new generation is followed by loading again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from infra.eventstore.store import EventStore
from infra.readside.atp_rows import AtpMemory, AtpRows
from infra.readside.batches import apply_batch
from infra.readside.projection import Projection
from infra.readside.rowio import Cache, _normalise, rows
from infra.readside.tables import parked
from infra.readside.tracking import read_position

log = logging.getLogger("o2c.projection")

BATCH = 2000  # events read from the log per step
INTERVAL = 0.02  # seconds between steps, unless a step left more to read at once


@contextmanager
def snapshot(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection whose reads all see one committed state of the database."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        else:  # pysqlite opens no transaction for reads; in WAL mode one read transaction is one snapshot
            conn.exec_driver_sql("BEGIN")
        yield conn


class AtpMirror:
    def __init__(self, projection: Projection, store: EventStore, here: Callable[[], bool]) -> None:
        """`here`: whether this process runs the ATP projection now (then the mirror stands by)."""
        self.projection = projection
        self.store = store
        self.here = here
        self.memory = AtpMemory(projection, listen=False)
        self.cache: Cache = {}  # every row of every ATP table: `apply_batch`'s complete cache
        self.position = 0
        self.ready = False  # holds the tables as of `position`, of the projection's live generation

    def load(self) -> None:
        p = self.projection
        p.refresh(max_age=0)
        generation, tables = p.generation, p.tables
        with snapshot(p.engine) as conn:
            position = read_position(conn, f"{p.name}@{generation}")
            loaded = {
                t.name: [_normalise(r, tables[t.name]) or r for r in rows(conn, tables[t.name])] for t in p.spec.tables
            }
        self.cache = {t.name: {tuple(r[k] for k in t.key): r for r in loaded[t.name]} for t in p.spec.tables}
        self.memory.fill(loaded, generation)
        self.position = position
        self.ready = True

    def step(self) -> bool:
        """Catch up with what the tables have committed, by at most BATCH events. True when there may
        be more to take at once (it loaded, or read a full batch): `run` waits INTERVAL otherwise, so
        under steady intake it takes the log in batches 20 ms apart, not one query round per commit."""
        p = self.projection
        if self.here():
            self.ready = False  # this process's own ATP memory answers; load again when it stops
            return False
        p.refresh()
        if not self.ready or self.memory.generation != p.generation:
            self.load()
            return True
        tracking = f"{p.name}@{self.memory.generation}"
        with p.engine.connect() as conn:
            committed = read_position(conn, tracking)
            if committed <= self.position:
                return False
            read = self.store.read(self.position, BATCH)
            records = [r for r in read if (r.position or 0) <= committed]
            upto = committed if len(read) < BATCH or len(records) < len(read) else records[-1].position or committed
            skipped = set(
                conn.execute(
                    sa.select(parked.c.position).where(
                        parked.c.projection == p.name,
                        parked.c.generation == self.memory.generation,
                        parked.c.position > self.position,
                        parked.c.position <= upto,
                    )
                ).scalars()
            )
            records = [r for r in records if r.position not in skipped]
            changes: Cache = {}
            failed = apply_batch(
                conn, p.spec, p.tables, records, self.cache, changes, write=False, complete=True, record_parked=False
            )
        if failed:  # the projection parked these too, unless the two disagree: then the tables win
            log.warning("the ATP mirror could not apply %s event(s) the tables took; loading again", len(failed))
            self.ready = False
            return True
        self.memory.apply(changes)
        self.position = upto
        return len(read) == BATCH and upto < committed

    def rows(self, skus: list[str]) -> AtpRows:
        return self.memory.held(skus)

    def run(self, stop: threading.Event) -> None:
        """Keep current until `stop` is set (the service runs this in a thread of its own)."""
        while not stop.is_set():
            try:
                more = self.step()
            except Exception:
                log.warning("the ATP mirror failed a step; loading again", exc_info=True)
                self.ready = False
                more = False
            if not more:
                stop.wait(INTERVAL)
