"""eventsourcing's PostgreSQL application recorder, with its insert sent as four arrays of plain
types instead of one array of a composite type.

The library binds a write as one array of `stored_events` composites. psycopg renders each
composite as text in Python (`_dump_text_sequence`), which was 14% of the web process's samples
under order intake (bench/RESULTS.md, 2026-12-04). Four arrays of uuid, bigint, text and bytea are
dumped by psycopg's C dumpers. The statement is otherwise the library's: the same table, the same
columns in the same order through `unnest`, `RETURNING notification_id`, and the same table lock
and NOTIFY before it (`_lock_table`, `_notify_channel`), so commit order is still notification
order. Chosen through the factory's documented `APPLICATION_RECORDER_TOPIC` (infra/eventstore/store.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier


class PlainArraysRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.insert_plain_arrays = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state)"
            " SELECT * FROM unnest(%s::{originator_id_type}[], %s::bigint[], %s::text[], %s::bytea[])"
            " RETURNING notification_id"
        ).format(
            schema=Identifier(datastore.schema),
            table=Identifier(self.events_table_name),
            originator_id_type=Identifier(datastore.originator_id_type),
        )

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **_: Any) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        curs.execute(
            self.insert_plain_arrays,
            (
                [e.originator_id for e in stored_events],
                [e.originator_version for e in stored_events],
                [e.topic for e in stored_events],
                [e.state for e in stored_events],
            ),
        )
