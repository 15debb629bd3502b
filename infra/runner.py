"""Follows the global log and feeds it, in batches, to projections and workflows.

Each follower keeps its own tracking position. The library's SQLite recorder has no subscription,
so the runner polls with a short interval and is woken at once after local writes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Protocol

from infra.codec import Recorded
from infra.store import EventStore

log = logging.getLogger("o2c.runner")


class Follower(Protocol):
    name: str

    def position(self) -> int: ...

    def process(self, records: Sequence[Recorded], upto: int) -> None:
        """Apply `records` and move the tracking position to `upto`, exactly once."""


class Runner:
    def __init__(
        self, store: EventStore, followers: Sequence[Follower], batch_size: int = 500, poll: float = 0.2
    ) -> None:
        self.store = store
        self.followers = list(followers)
        self.batch_size = batch_size
        self.poll = poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: dict[str, str] = {}

    def wake(self, *_: object) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="o2c-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop at a batch boundary."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> int:
        """Advance every follower as far as the log goes now; returns events processed."""
        total = 0
        for follower in self.followers:
            try:
                total += self._advance(follower)
                self.errors.pop(follower.name, None)
            except Exception as exc:
                self.errors[follower.name] = f"{type(exc).__name__}: {exc}"
                log.exception("follower %s failed", follower.name)
        return total

    def _advance(self, follower: Follower) -> int:
        done = 0
        while not self._stop.is_set():
            after = follower.position()
            records = self.store.read(after, self.batch_size)
            if not records:
                return done
            upto = records[-1].position or after
            follower.process(records, upto)
            done += len(records)
            if len(records) < self.batch_size:
                return done
        return done

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            processed = self.run_once()
            if not processed:
                self._wake.wait(self.poll)
