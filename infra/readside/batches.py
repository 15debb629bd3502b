"""Applying a batch of events to a read model's tables, exactly once: the rows it touches change in
memory and are written with the new tracking position in ONE transaction. An event the read model
cannot apply is parked (`o2c_parked`) and skipped: one whose decoding or evolve raises, one that makes
a row no store can hold (`unstorable`), one whose write the store refuses (`cannot_store`: the batch
is split until that event is alone). A store that cannot be reached parks nothing: the batch is retried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from infra.eventstore.codec import Recorded
from infra.readside.rowio import Cache, _load, _write
from infra.readside.storable import UnstorableRowError, cannot_store, printable, unstorable
from infra.readside.tables import Tables, parked
from infra.readside.tracking import save_position
from projections.base import EventInfo, Key, ProjectionSpec, Row, TableSpec

log = logging.getLogger("o2c.projection")

CACHE_ROWS = 200_000  # rows kept between batches before the cache starts over
FLUSH_ROWS = 50_000  # a rebuild writes its changed rows once this many are waiting


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
    complete: bool = False,
    record_parked: bool = True,
) -> list[tuple[Recorded, str]]:
    """Apply records to the tables; returns the (record, error) pairs that were parked.

    `cache` holds rows as last written (None = known absent) across batches; it is only valid while
    this process is the sole writer of these tables, and must be dropped if the transaction fails.
    With `write=False` the rows only change in `cache` and `changes`; the caller writes them later
    with `write_rows` (a rebuild, which writes each row once instead of once per batch).
    `complete` says the cache holds every row the tables have (a rebuild's fresh tables, until its
    cache starts over): a key it lacks is absent, without a query. With `record_parked=False` the
    parked events are only returned (a reader that follows the tables and never writes them).
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
        missing = [] if complete else [k for k in touched[t.name] if k not in known]
        loaded = _load(conn, tables[t.name], t, missing) if missing else {}
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
        if t.source is not None:
            _tally(conn, t, tables[t.name], cache, original, current)
    for t in spec.tables:
        if write:
            _write(conn, tables[t.name], t, original[t.name], current[t.name])
        cache[t.name].update(current[t.name])
        if changes is not None:
            changes[t.name] = current[t.name]
    if record_parked:
        park(conn, spec.name, tables.generation, failures)
    return failures


def _tally(
    conn: sa.Connection,
    t: TableSpec,
    table: sa.Table,
    cache: Cache,
    original: dict[str, dict[Key, Row | None]],
    current: dict[str, dict[Key, Row | None]],
) -> None:
    """Move a tally table by the change of each source row this batch touched: minus what the row
    counted before, plus what it counts now. A count that comes to 0 deletes its row."""
    assert t.source is not None and t.tally is not None
    deltas: dict[Key, int] = {}
    before_rows = original[t.source]
    for key, after in current[t.source].items():
        before = before_rows.get(key)
        if after is before:
            continue
        for sign, row in ((-1, before), (1, after)):
            if row is not None:
                for k, n in t.tally(row).items():
                    deltas[k] = deltas.get(k, 0) + sign * n
    moved = {k: n for k, n in deltas.items() if n}
    known = cache.setdefault(t.name, {})
    loaded = _load(conn, table, t, [k for k in moved if k not in known])
    was = {k: (known[k] if k in known else loaded.get(k)) for k in moved}
    now: dict[Key, Row | None] = {}
    for k, n in moved.items():
        total = (was[k] or {}).get("n", 0) + n
        now[k] = {**dict(zip(t.key, k, strict=True)), "n": total} if total else None
    original[t.name], current[t.name] = was, now


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
