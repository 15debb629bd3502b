"""Follows the global log and feeds it, in batches, to projections and workflows.

Each follower keeps its own tracking position. The library's SQLite recorder has no subscription,
so the runner polls with a short interval and is woken at once after local writes. With a
`Leadership` (infra/workers/leader.py) the runner feeds only the followers this process holds the lock of,
and checks that before every batch.

A follower whose batches keep failing (STUCK_AFTER attempts in a row) is stuck: `Runner.stuck()`
names it, and the runner reports it in the shared table `o2c_follower_errors` (at most once per
REPORT_EVERY seconds) so that processes that run no followers see it too (`reported_stuck`); the
row goes when the follower applies a batch again. `GET /readyz` answers 503 while any is stuck.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import sqlalchemy as sa

from infra import tracing
from infra.eventstore.codec import Recorded
from infra.eventstore.store import EventStore
from infra.readside.storable import printable
from infra.schema import create_missing
from infra.workers.leader import Leadership

log = logging.getLogger("o2c.runner")

STUCK_AFTER = 2  # failed attempts in a row after which a follower counts as stuck (a retry failed too)
REPORT_EVERY = 1.0  # seconds between two reports of one stuck follower to the shared table
REPORT_FRESH = 15.0  # seconds a report counts; an older one is from a process that stopped reporting

_meta = sa.MetaData()
follower_errors = sa.Table(
    "o2c_follower_errors",
    _meta,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("error", sa.Text, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
    sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
)
_ensured: set[int] = set()  # engines (by id) the table is known to exist on


def ensure_error_table(engine: sa.Engine) -> None:
    if id(engine) in _ensured:
        return
    try:
        create_missing(engine, _meta)
    except sa.exc.DBAPIError:  # another process created it at the same moment
        if not sa.inspect(engine).has_table(follower_errors.name):
            raise
    _ensured.add(id(engine))


def reported_stuck(engine: sa.Engine) -> dict[str, str]:
    """The followers some process reported stuck within the last REPORT_FRESH seconds: {name: error}."""
    ensure_error_table(engine)
    fresh = datetime.now(UTC) - timedelta(seconds=REPORT_FRESH)
    query = sa.select(follower_errors.c.name, follower_errors.c.error).where(follower_errors.c.seen_at > fresh)
    with engine.connect() as conn:
        return {name: error for name, error in conn.execute(query).all()}


def stuck_followers(engine: sa.Engine, runner: Runner | None, held: frozenset[str]) -> dict[str, str]:
    """Read models and workflows stuck on an error, {name: error}: those this process feeds (`held`),
    as its runner knows them, and the others as the processes that feed them reported them."""
    shared = reported_stuck(engine)
    local = runner.stuck() if runner is not None else {}
    return {name: error for name, error in shared.items() if name not in held} | local


@dataclass
class Failing:
    """A follower whose last attempt failed: the error, how many attempts in a row, since when."""

    error: str
    failures: int
    since: datetime
    reported_at: float | None = None  # monotonic time of its last report to the shared table


class Follower(Protocol):
    name: str

    def position(self) -> int: ...

    def process(self, records: Sequence[Recorded], upto: int) -> None:
        """Apply `records` and move the tracking position to `upto`, exactly once."""


class BackgroundLoop:
    """A daemon thread that runs `_loop` until stopped, and can be woken early."""

    thread_name = "o2c-loop"

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self, *_: object) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop at the next boundary of the loop's work (a batch, an attempt)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        raise NotImplementedError


class Runner(BackgroundLoop):
    thread_name = "o2c-runner"

    def __init__(
        self,
        store: EventStore,
        followers: Sequence[Follower],
        batch_size: int = 2000,
        poll: float = 0.2,
        leadership: Leadership | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.followers = list(followers)
        self.leadership = leadership  # None: feed every follower (tests, single-process tools)
        self.batch_size = batch_size
        self.poll = poll
        self.errors: dict[str, str] = {}  # the last error of each follower whose last attempt failed
        self.failing: dict[str, Failing] = {}
        self._clear: set[str] = {f.name for f in self.followers}  # shared rows to remove on the next success
        self.after_pass: list[Callable[[], None]] = []  # called after a pass that processed events
        ensure_error_table(store.engine)

    def stuck(self) -> dict[str, str]:
        """Followers this runner feeds that are stuck on an error (not following the log): {name: error}."""
        return {name: f.error for name, f in list(self.failing.items()) if f.failures >= STUCK_AFTER}

    def run_once(self) -> int:
        """Advance every follower as far as the log goes now; returns events read.

        Healthy followers share one read per batch, from the slowest one's position; each gets the
        records after its own position. A follower that failed is retried on its own, one batch per
        pass, so it never holds the others back.
        """
        mine = self._held(self.followers)
        names = {f.name for f in mine}
        for name in [n for n in self.errors if n not in names]:
            del self.errors[name]  # another process runs it now
            self.failing.pop(name, None)
        self._clear |= {f.name for f in self.followers if f.name not in names}  # taken back later: clear then
        failing = [f for f in mine if f.name in self.errors]
        healthy = [f for f in mine if f.name not in self.errors]
        total = self._advance(healthy, batches=None)
        for f in failing:
            total += self._advance([f], batches=1)
        return total

    def _advance(self, followers: list[Follower], batches: int | None) -> int:
        total = 0
        first = True
        while followers and not self._stop.is_set() and batches != 0:
            if not first:
                followers = self._held(followers)  # a lost lock stops its follower before the next batch
            first = False
            positions = {}
            for f in followers:
                try:
                    positions[f.name] = f.position()
                except Exception as exc:  # noqa: BLE001 - reported, retried next pass
                    self._failed(f, exc)
            followers = [f for f in followers if f.name in positions]
            if not followers:
                return total
            after = min(positions.values())
            records = self.store.read(after, self.batch_size)
            if not records:
                return total
            upto = records[-1].position or after
            for f in list(followers):
                mine = positions[f.name]
                if mine >= upto:
                    continue
                try:
                    batch = [r for r in records if (r.position or 0) > mine]
                    if tracing.enabled():
                        with tracing.span("projection batch", o2c__follower=f.name, o2c__events=len(batch)) as span:
                            span.set("o2c.position", upto)
                            f.process(batch, upto)
                    else:
                        f.process(batch, upto)
                    self._succeeded(f)
                    log.debug("batch applied", extra={"follower": f.name, "after": mine, "position": upto})
                except Exception as exc:  # noqa: BLE001 - one follower failing must not stop the others
                    self._failed(f, exc)
                    followers.remove(f)
            total += len(records)
            batches = None if batches is None else batches - 1
            if len(records) < self.batch_size:
                return total
        return total

    def _held(self, followers: list[Follower]) -> list[Follower]:
        """The followers this process may feed right now (checks the lock connection)."""
        if self.leadership is None:
            return list(followers)
        held = self.leadership.refresh()
        return [f for f in followers if f.name in held]

    def _failed(self, follower: Follower, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        self.errors[follower.name] = error
        failing = self.failing.get(follower.name)
        if failing is None:
            failing = self.failing[follower.name] = Failing(error, 0, datetime.now(UTC))
        failing.error = error
        failing.failures += 1
        log.exception("follower %s failed", follower.name, extra={"follower": follower.name})
        if failing.failures >= STUCK_AFTER and time.monotonic() - (failing.reported_at or 0) >= REPORT_EVERY:
            self._report(follower.name, failing)

    def _succeeded(self, follower: Follower) -> None:
        self.errors.pop(follower.name, None)
        self.failing.pop(follower.name, None)
        if follower.name in self._clear:
            try:
                with self.store.engine.begin() as conn:
                    conn.execute(follower_errors.delete().where(follower_errors.c.name == follower.name))
                self._clear.discard(follower.name)
            except Exception:  # tried again after the next batch
                log.warning("could not clear the error report of %s", follower.name, exc_info=True)

    def _report(self, name: str, failing: Failing) -> None:
        """Tell other processes (their /readyz) that `name` is stuck; best effort."""
        row = {
            "name": name,
            "error": printable(failing.error)[:2000],
            "failures": failing.failures,
            "since": failing.since,
            "seen_at": datetime.now(UTC),
        }
        try:
            with self.store.engine.begin() as conn:
                updated = conn.execute(follower_errors.update().where(follower_errors.c.name == name).values(**row))
                if not updated.rowcount:
                    conn.execute(follower_errors.insert().values(**row))
            failing.reported_at = time.monotonic()
            self._clear.add(name)
        except Exception:  # the store may be the trouble; this process still knows
            log.warning("could not report %s as stuck", name, exc_info=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                processed = self.run_once()
            except Exception:  # the log could not be read (store away): try again later
                log.warning("runner pass failed; retrying", exc_info=True)
                self._wake.wait(self.poll * 5)
                continue
            if processed:
                for hook in self.after_pass:
                    hook()
            if not processed or self.errors:  # a failing follower is retried at the poll interval
                self._wake.wait(self.poll)
