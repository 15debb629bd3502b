"""The event store: eventsourcing's application recorder (SQLite or PostgreSQL), one ordered log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import sqlalchemy as sa
from eventsourcing.persistence import ApplicationRecorder, InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment

from domain.events import Event
from infra.codec import Meta, Recorded, decode, encode
from infra.settings import Settings

EVENTS_TABLE = "stored_events"


@dataclass(frozen=True)
class NewEvent:
    stream_id: UUID
    version: int
    meta: Meta
    event: Event


class EventStore:
    def __init__(self, settings: Settings, engine: sa.Engine) -> None:
        self.settings = settings
        env = Environment(env=settings.eventsourcing_env())
        self.factory = InfrastructureFactory.construct(env)
        self.recorder: ApplicationRecorder = self.factory.application_recorder()
        self.engine = engine
        column = "notification_id" if settings.is_postgres else "rowid"
        self._read_sql = sa.text(
            f"SELECT {column}, originator_id, originator_version, topic, state FROM {EVENTS_TABLE} "
            f"WHERE {column} > :after ORDER BY {column} LIMIT :limit"
        )
        if settings.is_postgres:
            self._position_sql = sa.text(
                f"SELECT notification_id FROM {EVENTS_TABLE} WHERE originator_id = :sid AND originator_version = :v"
            )
        else:
            self._position_sql = sa.text(
                f"SELECT rowid FROM {EVENTS_TABLE} WHERE originator_id = :sid AND originator_version = :v"
            )

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
        return list(self.recorder.insert_events(stored) or [])

    def load(self, stream_id: UUID, after: int = 0, upto: int | None = None) -> list[Recorded]:
        rows = self.recorder.select_events(stream_id, gt=after or None, lte=upto)
        out = []
        for row in rows:
            meta, event = decode(row.topic, row.state)
            out.append(
                Recorded(stream_id=stream_id, version=row.originator_version, topic=row.topic, meta=meta, event=event)
            )
        return out

    def read(self, after: int, limit: int) -> list[Recorded]:
        """The global log after `after`, oldest first (decoded lazily).

        Reads the recorder's table with one plain SQL query rather than through
        `select_notifications`, which builds a UUID per row; see docs/decisions/0004.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(self._read_sql, {"after": after, "limit": limit}).all()
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

    def head(self) -> int:
        return int(self.recorder.max_notification_id() or 0)

    def position_of(self, stream_id: UUID, version: int) -> int:
        sid: object = stream_id if self.settings.is_postgres else stream_id.hex
        with self.engine.connect() as conn:
            value = conn.execute(self._position_sql, {"sid": sid, "v": version}).scalar()
        return int(value or 0)
