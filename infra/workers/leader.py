"""Which process runs which follower: one PostgreSQL session advisory lock per follower name.

Every worker process keeps ONE dedicated, long-lived connection for its locks. It feeds a follower
(a projection or a workflow) only while it holds that follower's lock; the others stand by and try
again every `retry` seconds. When the holder dies its connection closes and PostgreSQL frees its
locks, so a stand-by takes over within about `retry` seconds. The holder checks its lock connection
on every pass (`refresh`); if the connection is gone, it has lost every lock and stops at once.

On SQLite (one machine, embedded) there is nothing to elect: `SoleProcess` holds every name.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa

log = logging.getLogger("o2c.leader")

# First key of the two-key advisory lock: "o2c" in ASCII, so our locks never collide with another
# application's locks in the same database. The second key is derived from the follower name.
NAMESPACE = 0x6F3263
APPLICATION_NAME = "o2c-leader"  # the lock connection shows as `o2c-leader:<os pid>` in pg_stat_activity

Listener = Callable[[str, bool], None]  # (name, held): called when this process gains or loses a name


def lock_key(name: str) -> int:
    """The second lock key for a name: CRC-32 as a signed 32-bit integer (the same in every process
    and Python version, unlike `hash`)."""
    value = zlib.crc32(name.encode())
    return value - 2**32 if value >= 2**31 else value


class Leadership:
    """The names this process may feed. `refresh` is called by the loops before each pass."""

    def __init__(self, names: Sequence[str]) -> None:
        self.names = tuple(names)
        self.listeners: list[Listener] = []
        self._held: set[str] = set()
        self._mutex = threading.RLock()

    def refresh(self) -> frozenset[str]:
        raise NotImplementedError

    def held(self) -> frozenset[str]:
        """What this process holds, as of the last refresh (no I/O)."""
        return frozenset(self._held)

    def close(self) -> None:
        raise NotImplementedError

    def _gain(self, name: str) -> bool:
        """Tell the listeners first, then count the name as held; a listener that fails refuses it."""
        try:
            for listener in self.listeners:
                listener(name, True)
        except Exception:
            log.exception("could not take over %s", name)
            self._notify_lost([name])
            return False
        self._held.add(name)
        log.info("this process now runs %s", name)
        return True

    def _notify_lost(self, names: Iterable[str]) -> None:
        for name in names:
            for listener in self.listeners:
                try:
                    listener(name, False)
                except Exception:
                    log.exception("could not hand over %s", name)


class SoleProcess(Leadership):
    """SQLite: a single process runs everything, as it always has."""

    def refresh(self) -> frozenset[str]:
        with self._mutex:
            for name in self.names:
                if name not in self._held:
                    self._gain(name)
            return frozenset(self._held)

    def close(self) -> None:
        with self._mutex:
            lost, self._held = list(self._held), set()
            self._notify_lost(lost)


class AdvisoryLocks(Leadership):
    """PostgreSQL: `pg_try_advisory_lock(NAMESPACE, lock_key(name))` on a dedicated connection."""

    def __init__(self, conninfo: str, names: Sequence[str], retry: float = 1.0) -> None:
        super().__init__(names)
        self.conninfo = conninfo
        self.retry = retry
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self._next_try = 0.0
        self._closed = False

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend of the lock connection (None when there is none)."""
        conn = self._conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    def refresh(self) -> frozenset[str]:
        """Check the lock connection (losing it loses every lock), then, at most once per `retry`
        seconds, try to take the names nobody holds."""
        with self._mutex:
            if self._closed:
                return frozenset()
            if self._conn is not None and not self._alive():
                self._drop("the lock connection was lost")
            missing = [n for n in self.names if n not in self._held]
            if missing and time.monotonic() >= self._next_try:
                self._next_try = time.monotonic() + self.retry
                self._acquire(missing)
            return frozenset(self._held)

    def close(self) -> None:
        """Release everything (closing the connection frees the locks) and stop competing."""
        with self._mutex:
            self._closed = True
            self._drop(None)

    def _alive(self) -> bool:
        assert self._conn is not None
        try:
            self._conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def _connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            self.conninfo,
            autocommit=True,
            connect_timeout=5,
            application_name=f"{APPLICATION_NAME}:{os.getpid()}",
            # Notice a dead server or network within seconds rather than hours.
            keepalives=1,
            keepalives_idle=5,
            keepalives_interval=2,
            keepalives_count=3,
            tcp_user_timeout=10_000,
            options="-c statement_timeout=5000",
        )

    def _acquire(self, names: list[str]) -> None:
        try:
            if self._conn is None:
                self._conn = self._connect()
            for name in names:
                row = self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)", (NAMESPACE, lock_key(name))).fetchone()
                if row is not None and row[0] and not self._gain(name):
                    self._conn.execute("SELECT pg_advisory_unlock(%s, %s)", (NAMESPACE, lock_key(name)))
        except psycopg.Error as exc:
            log.warning("could not take worker locks: %s", exc)
            self._drop("the lock connection failed")

    def _drop(self, reason: str | None) -> None:
        """Forget every lock and the connection; wait a full `retry` before competing again, so a
        stand-by gets its chance."""
        lost, self._held = list(self._held), set()
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except psycopg.Error:
                pass
        self._next_try = time.monotonic() + self.retry
        if lost and reason:
            log.warning("%s: this process no longer runs %s", reason, ", ".join(sorted(lost)))
        self._notify_lost(lost)


def lock_holders(conn: sa.Connection, names: Iterable[str]) -> dict[str, int]:
    """Which names are held right now by some process, as {name: PostgreSQL backend pid}."""
    by_key = {lock_key(n) & 0xFFFFFFFF: n for n in names}  # pg_locks shows the keys as unsigned oids
    found = conn.execute(
        sa.text(
            "SELECT objid::bigint AS key, pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = :ns AND objsubid = 2"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"ns": NAMESPACE},
    )
    return {by_key[r.key]: int(r.pid) for r in found if r.key in by_key}


def conninfo_for(url: sa.URL) -> str:
    """A libpq connection string for the SQLAlchemy URL of the service's engine."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def one_at_a_time(engine: sa.Engine, name: str) -> Iterator[None]:
    """Run a short critical section in one process at a time (on PostgreSQL; elsewhere it just runs):
    processes starting together on a fresh database must not create the same tables at once."""
    if engine.dialect.name != "postgresql":
        yield
        return
    key = {"ns": NAMESPACE, "key": lock_key(name)}
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_advisory_lock(:ns, :key)"), key)
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:ns, :key)"), key)
            conn.commit()
