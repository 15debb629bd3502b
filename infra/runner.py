"""Follows the global log and feeds it, in batches, to projections and workflows.

Each follower keeps its own tracking position. The library's SQLite recorder has no subscription,
so the runner polls with a short interval and is woken at once after local writes. With a
`Leadership` (infra/leader.py) the runner feeds only the followers this process holds the lock of,
and checks that before every batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

from infra.codec import Recorded
from infra.leader import Leadership
from infra.store import EventStore

log = logging.getLogger("o2c.runner")


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
        self.errors: dict[str, str] = {}
        self.after_pass: list[Callable[[], None]] = []  # called after a pass that processed events

    def run_once(self) -> int:
        """Advance every follower as far as the log goes now; returns events read.

        Healthy followers share one read per batch, from the slowest one's position; each gets the
        records after its own position. A follower that failed is retried on its own, one batch per
        pass, so it never holds the others back.
        """
        mine = self._held(self.followers)
        for name in [n for n in self.errors if n not in {f.name for f in mine}]:
            del self.errors[name]  # another process runs it now
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
                    f.process([r for r in records if (r.position or 0) > mine], upto)
                    self.errors.pop(f.name, None)
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
        self.errors[follower.name] = f"{type(exc).__name__}: {exc}"
        log.exception("follower %s failed", follower.name, extra={"follower": follower.name})

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
