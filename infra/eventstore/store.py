"""The event store: eventsourcing's application recorder (SQLite or PostgreSQL), one ordered log."""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
import sqlalchemy as sa
from eventsourcing.persistence import (
    ApplicationRecorder,
    InfrastructureFactory,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.utils import Environment

from domain.events import Event
from infra.eventstore.codec import INTERNAL_TOPICS, Meta, Recorded, decode, encode
from infra.settings import Settings

EVENTS_TABLE = "stored_events"

# What a lost, refused or locked database raises, through each of the three layers that talk to it.
STORE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)
_SQLITE_TRANSIENT = ("locked", "busy", "unable to open", "disk i/o")


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the store cannot be reached right now (as opposed to a bug or a bad query).

    Follows the chain of causes to the driver's error. SQLite raises OperationalError for a missing
    table too, so for SQLite only lock, busy and I/O failures count.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.OperationalError):
            return any(word in str(current).lower() for word in _SQLITE_TRANSIENT)
        if isinstance(current, psycopg.OperationalError | psycopg.InterfaceError | ConnectionError | TimeoutError):
            return True
        if isinstance(current, sa.exc.TimeoutError):
            return True
        current = current.__cause__ or getattr(current, "orig", None)
    # A store error without its driver cause (raised by the library itself): trust its class.
    return isinstance(exc, OperationalError | InterfaceError) and exc.__cause__ is None


def _unretried(recorder: ApplicationRecorder, name: str) -> Callable[..., Any]:
    """The recorder's method without the library's own retry loop (ten attempts, each waiting out
    the pool's connect timeout: almost a minute when the database is gone). The ledger retries
    with its own bounded patience instead, so a client hears 503 in seconds."""
    plain = getattr(getattr(type(recorder), name), "__wrapped__", None)
    return functools.partial(plain, recorder) if plain is not None else getattr(recorder, name)


@dataclass(frozen=True)
class NewEvent:
    stream_id: UUID
    version: int
    meta: Meta
    event: Event


class EventStore:
    def __init__(self, settings: Settings, engine: sa.Engine) -> None:
        self.settings = settings
        chosen = settings.eventsourcing_env()
        if settings.is_postgres:  # its insert as arrays of plain types (infra/eventstore/pg_recorder.py)
            chosen["APPLICATION_RECORDER_TOPIC"] = "infra.eventstore.pg_recorder:PlainArraysRecorder"
        env = Environment(env=chosen)
        self.factory = InfrastructureFactory.construct(env)
        self.engine = engine
        self.use_recorder(self.factory.application_recorder())
        column = "notification_id" if settings.is_postgres else "rowid"
        after, limit = ("%(after)s", "%(limit)s") if settings.is_postgres else (":after", ":limit")
        # the stream id as text: a UUID is built only for a record whose stream id is asked for
        sid = "originator_id::text" if settings.is_postgres else "originator_id"
        self._read_sql = (  # for the driver's own cursor: see read()
            f"SELECT {column}, {sid}, originator_version, topic, state FROM {EVENTS_TABLE} "
            f"WHERE {column} > {after} ORDER BY {column} LIMIT {limit}"
        )
        if settings.is_postgres:
            self._position_sql = sa.text(
                f"SELECT notification_id FROM {EVENTS_TABLE} WHERE originator_id = :sid AND originator_version = :v"
            )
        else:
            self._position_sql = sa.text(
                f"SELECT rowid FROM {EVENTS_TABLE} WHERE originator_id = :sid AND originator_version = :v"
            )

        self._public_head_sql = sa.text(
            f"SELECT {column} FROM {EVENTS_TABLE} WHERE {column} < :before AND topic NOT IN :internal "
            f"ORDER BY {column} DESC LIMIT 1"
        ).bindparams(sa.bindparam("internal", expanding=True))

    def use_recorder(self, recorder: ApplicationRecorder) -> ApplicationRecorder:
        """Write, load and count through `recorder` from now on; returns the one used until now
        (the benchmarks decide a workload in memory this way, then copy it in bulk)."""
        previous: ApplicationRecorder = getattr(self, "recorder", recorder)
        self.recorder = recorder
        self._insert_events = _unretried(recorder, "insert_events")
        self._select_events = _unretried(recorder, "select_events")
        self._max_notification_id = _unretried(recorder, "max_notification_id")
        return previous

    def append(self, events: Sequence[NewEvent]) -> list[int]:
        """Insert all events atomically; raises eventsourcing's IntegrityError on a version clash."""
        stored = [
            StoredEvent(
                originator_id=e.stream_id,
                originator_version=e.version,
                topic=type(e.event).__name__,
                state=encode(e.meta, e.event),
            )
            for e in events
        ]
        return list(self._insert_events(stored) or [])

    def load(self, stream_id: UUID, after: int = 0, upto: int | None = None) -> list[Recorded]:
        rows = self._select_events(stream_id, gt=after or None, lte=upto)
        out = []
        for row in rows:
            meta, event = decode(row.topic, row.state)
            out.append(
                Recorded(stream_id=stream_id, version=row.originator_version, topic=row.topic, meta=meta, event=event)
            )
        return out

    def load_many(self, stream_ids: Sequence[UUID], chunk: int = 500) -> dict[UUID, list[Recorded]]:
        """Every event of many streams, oldest first per stream, in one query per `chunk` streams
        (a command that reads thousands of streams, such as a large reconciliation)."""
        sql = sa.text(
            f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
            "WHERE originator_id IN :sids ORDER BY originator_id, originator_version"
        ).bindparams(sa.bindparam("sids", expanding=True))
        found: dict[UUID, list[Recorded]] = {sid: [] for sid in stream_ids}
        by_key = {(sid if self.settings.is_postgres else sid.hex): sid for sid in stream_ids}
        keys = list(by_key)
        with self.engine.connect() as conn:
            for low in range(0, len(keys), chunk):
                rows = conn.execute(sql, {"sids": keys[low : low + chunk]}).all()  # fetchall: not a fetch per row
                for sid, version, topic, state in rows:
                    stream_id = by_key[sid if self.settings.is_postgres else str(sid)]
                    meta, event = decode(topic, bytes(state))
                    found[stream_id].append(
                        Recorded(stream_id=stream_id, version=version, topic=topic, meta=meta, event=event)
                    )
        return found

    def read(self, after: int, limit: int) -> list[Recorded]:
        """The global log after `after`, oldest first (decoded lazily).

        Reads the recorder's table with one plain SQL query rather than through
        `select_notifications`, which builds a UUID per row; see docs/decisions/0004. The query runs on
        the driver's own cursor: SQLAlchemy's result rows were a sixth of a rebuild's time (bench/RESULTS.md).
        """
        with self.engine.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                cursor.execute(self._read_sql, {"after": after, "limit": limit})
                rows = cursor.fetchall()
            finally:
                cursor.close()
        return [
            Recorded(
                stream_id=sid if isinstance(sid, UUID) else str(sid), version=v, topic=t, state=bytes(st), position=p
            )
            for p, sid, v, t, st in rows
        ]

    def history(self, stream_id: UUID) -> list[Recorded]:
        """A stream's events with their global positions, oldest first."""
        sid: object = stream_id if self.settings.is_postgres else stream_id.hex
        column = "notification_id" if self.settings.is_postgres else "rowid"
        sql = sa.text(
            f"SELECT {column} AS position, originator_version, topic, state FROM {EVENTS_TABLE} "
            "WHERE originator_id = :sid ORDER BY originator_version"
        )
        with self.engine.connect() as conn:
            rows = conn.execute(sql, {"sid": sid}).all()
        out = []
        for row in rows:
            meta, event = decode(row.topic, bytes(row.state))
            out.append(
                Recorded(
                    stream_id=stream_id,
                    version=row.originator_version,
                    topic=row.topic,
                    meta=meta,
                    event=event,
                    position=row.position,
                )
            )
        return out

    def first_event(self, stream_id: UUID) -> Recorded | None:
        """A stream's first event, or None: one query of the same shape whether the stream exists or not."""
        sid: object = stream_id if self.settings.is_postgres else stream_id.hex
        sql = sa.text(f"SELECT topic, state FROM {EVENTS_TABLE} WHERE originator_id = :sid AND originator_version = 1")
        with self.engine.connect() as conn:
            row = conn.execute(sql, {"sid": sid}).first()
        if row is None:
            return None
        meta, event = decode(row.topic, bytes(row.state))
        return Recorded(stream_id=stream_id, version=1, topic=row.topic, meta=meta, event=event)

    def stream_ids(self) -> set[UUID]:
        """Every stream that has at least one event."""
        sql = sa.text(f"SELECT DISTINCT originator_id FROM {EVENTS_TABLE}")
        with self.engine.connect() as conn:
            found = conn.execute(sql).scalars().all()
        return {sid if isinstance(sid, UUID) else UUID(str(sid)) for sid in found}

    def existing(self, stream_ids: Sequence[UUID], chunk: int = 500) -> set[UUID]:
        """Those of `stream_ids` that have at least one event, in one query per `chunk` streams."""
        sql = sa.text(f"SELECT DISTINCT originator_id FROM {EVENTS_TABLE} WHERE originator_id IN :sids").bindparams(
            sa.bindparam("sids", expanding=True)
        )
        by_key = {(sid if self.settings.is_postgres else sid.hex): sid for sid in stream_ids}
        keys = list(by_key)
        found: set[UUID] = set()
        with self.engine.connect() as conn:
            for low in range(0, len(keys), chunk):
                rows = conn.execute(sql, {"sids": keys[low : low + chunk]}).scalars()
                found.update(by_key[sid if self.settings.is_postgres else str(sid)] for sid in rows)
        return found

    def head(self) -> int:
        return int(self._max_notification_id() or 0)

    def public_head(self, before: int | None = None) -> int:
        """The position of the newest public event (one the feed shows) before `before` (default:
        the whole log). Internal records, such as idempotency records, never give a position."""
        limit = before if before is not None else 2**63 - 1
        with self.engine.connect() as conn:
            value = conn.execute(self._public_head_sql, {"before": limit, "internal": sorted(INTERNAL_TOPICS)}).scalar()
        return int(value or 0)

    def position_of(self, stream_id: UUID, version: int) -> int:
        sid: object = stream_id if self.settings.is_postgres else stream_id.hex
        with self.engine.connect() as conn:
            value = conn.execute(self._position_sql, {"sid": sid, "v": version}).scalar()
        return int(value or 0)
