"""Rebuilding read models: generation g+1 is filled from position 0 while g keeps answering, then swapped in.

Rows change in memory and are written once per flush (`FLUSH_ROWS` changed rows, a full cache, or
the end). When the store refuses a value of a flush (`cannot_store`), the rebuild cannot tell which
event made it: it drops what it had not written and redoes that stretch of the log with live
batches (`commit_batch`), which isolate the event and park it, as the live read model did.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from contextlib import ExitStack

import sqlalchemy as sa

from infra.eventstore.codec import Recorded
from infra.readside import batches  # its CACHE_ROWS and FLUSH_ROWS are read at run time (tests lower them)
from infra.readside.batches import apply_batch, commit_batch
from infra.readside.projection import Projection
from infra.readside.rowio import Cache, write_rows
from infra.readside.storable import cannot_store
from infra.readside.tables import Tables, parked, registry
from infra.readside.tracking import save_position

log = logging.getLogger("o2c.projection")
REDO_BATCH = 500  # events per transaction while a refused flush is redone


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
        self.flushed = 0  # the position the written rows stand at
        self.events = 0
        self.cache: Cache = {}
        self.complete = True  # the cache holds every row of the fresh tables, until it starts over
        self.unwritten: Cache = {}  # rows changed since the last write

    def apply(self, records: Sequence[Recorded], upto: int) -> None:
        """Apply a batch in memory; write the changed rows when many wait, the cache is full, or at the end."""
        try:
            self._apply(records, upto)
        except Exception as exc:
            if not cannot_store(exc):
                raise
            log.warning("a rebuild flush was refused; redoing it event by event", extra={"follower": self.spec.name})
            self._redo(upto)

    def _apply(self, records: Sequence[Recorded], upto: int) -> None:
        changes: Cache = {}
        with self.engine.begin() as conn:
            if records:
                apply_batch(
                    conn, self.spec, self.tables, records, self.cache, changes, write=False, complete=self.complete
                )
            self.position = upto
            self.events += len(records)
            for name, rows in changes.items():
                self.unwritten.setdefault(name, {}).update(rows)
            too_big = sum(len(rows) for rows in self.cache.values()) > batches.CACHE_ROWS
            if too_big or not records or sum(len(rows) for rows in self.unwritten.values()) > batches.FLUSH_ROWS:
                write_rows(conn, self.spec, self.tables, self.unwritten)
                save_position(conn, self.tracking, self.position)
                self.unwritten = {}
                self.flushed = self.position
        if too_big:
            self.cache = {}  # safe: everything in it was just written
            self.complete = False

    def _redo(self, upto: int) -> None:
        """Forget the rows not yet written and apply the log after the last flush up to `upto` in
        live batches, each written at once; the event whose rows the store refuses is parked."""
        self.cache, self.unwritten, self.complete = {}, {}, False
        where = (
            parked.c.projection == self.spec.name,
            parked.c.generation == self.generation,
            parked.c.position > self.flushed,
        )
        with self.engine.begin() as conn:
            conn.execute(parked.delete().where(*where))  # parked again below, once
        position = self.flushed
        while position < upto:
            records = [r for r in self.projection.store.read(position, REDO_BATCH) if (r.position or 0) <= upto]
            if not records:
                break
            part_upto = records[-1].position or upto
            commit_batch(
                self.engine, self.spec, self.tables, self.tracking, records, part_upto, None, self.cache, _ignore
            )
            position = part_upto
        self.cache = {}
        self.position = self.flushed = max(position, upto)
        with self.engine.begin() as conn:
            save_position(conn, self.tracking, self.position)

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
        """Keep the generation just replaced (other processes may still read it for a moment). A
        rebuild run beside the process that feeds the projection drops nothing: that feeder may still
        be on an older generation, and drops what it leaves once it follows the swap."""
        if not self.projection.fed_here:
            return
        with self.engine.begin() as conn:
            for stale in range(max(replaced.generation - 1, 1), replaced.generation):
                Tables(self.spec, stale).drop(conn)


def _ignore(changes: Cache, position: int) -> None:
    """A rebuild tells no listener: its tables are not live yet."""


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


def rebuild(
    projection: Projection,
    batch_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    stop: threading.Event | None = None,
) -> dict[str, int]:
    """Fill a fresh generation of one projection from position 0, then swap it in. Queries keep
    answering meanwhile."""
    return rebuild_together([projection], batch_size, progress, stop)[projection.name]


def _result(generation: int, job: _Rebuilding) -> dict[str, int]:
    return {"generation": generation, "events": job.events, "position": job.position}
