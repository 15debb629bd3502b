"""Persisted snapshots of long-lived streams, so loading one never replays more than `EVERY` events.

A snapshot is a cache of a fold, never a source of truth: the events stay the record. Loading a
stream that has a snapshot reads the snapshot, then only the events after its version. A snapshot
is written in the background when a stream's version crosses a multiple of `EVERY` (after a commit,
or while tailing the log) and after a load that had to replay `EVERY` events or more.

Each snapshot carries a fingerprint of the domain code that produced it (the source of the module
that evolves the stream, plus the shared value and event modules). A change to that code makes old
snapshots invisible, so a fixed `evolve` can never be bypassed by a state folded by the old one.
See docs/decisions/0011-snapshots.md.
"""

from __future__ import annotations

import hashlib
import inspect
import logging
import pickle
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from infra.schema import create_missing

if TYPE_CHECKING:
    from infra.ledger.kinds import Kind

log = logging.getLogger("o2c.snapshots")

EVERY = 100  # events between snapshots of one stream
FORMAT = 1  # bump to invalidate every stored snapshot
SNAPSHOT_KINDS = frozenset(
    {"position", "backorders", "account", "sequence", "customer", "product", "warehouse-index", "price-list"}
)

metadata = sa.MetaData()
snapshots_table = sa.Table(
    "snapshots",
    metadata,
    sa.Column("stream_id", sa.String(36), primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("state", sa.LargeBinary, nullable=False),
    sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
)

_fingerprints: dict[str, str] = {}


def fingerprint(kind: Kind[Any]) -> str:
    """A hash of the code that folds this kind of stream (and of the snapshot format)."""
    found = _fingerprints.get(kind.name)
    if found is None:
        digest = hashlib.sha256(f"{FORMAT}:{kind.name}:{pickle.HIGHEST_PROTOCOL}".encode())
        modules = {kind.evolve.__module__, "domain.values", "domain.events"}
        for name in sorted(modules):
            module = sys.modules.get(name)
            if module is not None:
                digest.update(inspect.getsource(module).encode())
        found = _fingerprints[kind.name] = digest.hexdigest()
    return found


def crossed(old_version: int, new_version: int) -> bool:
    """Whether going from `old_version` to `new_version` passed a snapshot point."""
    return new_version // EVERY > old_version // EVERY


class Snapshots:
    """Reads snapshots on demand and writes offered ones from a background thread, newest wins."""

    def __init__(self, engine: sa.Engine, flush_interval: float = 0.5) -> None:
        self.engine = engine
        self.flush_interval = flush_interval
        create_missing(engine, metadata)
        self._pending: dict[UUID, tuple[Kind[Any], Any, int]] = {}
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0
        self.loaded = 0
        self.ignored = 0  # found with another fingerprint (older domain code)
        upsert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        stmt = upsert(snapshots_table)
        self._upsert = stmt.on_conflict_do_update(
            index_elements=["stream_id"],
            set_={c: stmt.excluded[c] for c in ("kind", "version", "fingerprint", "state", "taken_at")},
            where=sa.or_(
                snapshots_table.c.version < stmt.excluded.version,
                snapshots_table.c.fingerprint != stmt.excluded.fingerprint,
            ),
        )
        self._select = sa.select(
            snapshots_table.c.version, snapshots_table.c.fingerprint, snapshots_table.c.state
        ).where(snapshots_table.c.stream_id == sa.bindparam("sid"))

    @staticmethod
    def covers(kind: Kind[Any]) -> bool:
        return kind.name in SNAPSHOT_KINDS

    def get(self, sid: UUID, kind: Kind[Any]) -> tuple[Any, int] | None:
        """The newest usable snapshot of a stream: (state, version), or None."""
        with self.engine.connect() as conn:
            row = conn.execute(self._select, {"sid": str(sid)}).first()
        if row is None:
            return None
        if row.fingerprint != fingerprint(kind):
            self.ignored += 1
            return None
        self.loaded += 1
        return pickle.loads(row.state), int(row.version)  # written only by this service

    def offer(self, sid: UUID, kind: Kind[Any], state: Any, version: int) -> None:
        """Queue a snapshot; the writer keeps only the newest per stream."""
        with self._lock:
            current = self._pending.get(sid)
            if current is None or current[2] < version:
                self._pending[sid] = (kind, state, version)
        if self._thread is None:
            self._start()
        self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="o2c-snapshots", daemon=True)
                self._thread.start()

    def flush(self) -> int:
        """Write what is queued now (after any write in progress); returns the number written."""
        with self._flushing:
            return self._flush()

    def _flush(self) -> int:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return 0
        now = datetime.now(UTC)
        rows = [
            {
                "stream_id": str(sid),
                "kind": kind.name,
                "version": version,
                "fingerprint": fingerprint(kind),
                "state": pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL),
                "taken_at": now,
            }
            for sid, (kind, state, version) in pending.items()
        ]
        try:
            with self.engine.begin() as conn:
                for row in rows:  # a handful per flush: one conditional upsert each
                    conn.execute(self._upsert, row)
        except Exception:
            with self._lock:  # keep them for the next flush unless something newer came meanwhile
                for sid, item in pending.items():
                    current = self._pending.get(sid)
                    if current is None or current[2] < item[2]:
                        self._pending[sid] = item
            raise
        self.written += len(rows)
        return len(rows)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # a snapshot is only a cache: log, keep the events as truth
                log.warning("writing snapshots failed; will retry", exc_info=True)
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        try:
            self.flush()
        except Exception:  # closing: losing a cache entry is harmless
            log.warning("final snapshot flush failed", exc_info=True)
