"""Verifications run where the read models are fed (decision 0024): a thread of the worker process
that claims the pending verifications while this process holds the lock of EVERY read model, so the
live rows are pinned under the projections' own locks, exactly where the runner has applied them
(infra/readside/verify.py), not captured from afar."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence

from infra.eventstore.store import EventStore
from infra.readside.projection import Projection
from infra.readside.verifications import Verifications

log = logging.getLogger("o2c.verify")


def process_name() -> str:
    """Who runs a verification, as its row records it."""
    return f"{socket.gethostname()}:{os.getpid()}"


class VerificationWorker:
    def __init__(
        self,
        verifications: Verifications,
        projections: Sequence[Projection],
        store: EventStore,
        held: Callable[[], frozenset[str]],
        poll: float = 1.0,
    ) -> None:
        self.verifications = verifications
        self.projections = list(projections)
        self.store = store
        self.held = held  # the follower names this process holds now (refreshed by the runner)
        self.poll = poll
        self.by = process_name()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="o2c-verify", daemon=True)

    def feeds_every_read_model(self) -> bool:
        held = self.held()
        return all(p.name in held and p.fed_here for p in self.projections)

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(60)

    def run_once(self) -> int:
        """Claim and run the pending verifications, while this process feeds every read model."""
        done = 0
        for verification_id in self.verifications.pending():
            if self._stop.is_set() or not self.feeds_every_read_model():
                break
            if self.verifications.claim(verification_id, self.by):
                self.verifications.run(verification_id, self.projections, self.store, self.by)
                done += 1
        return done

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                if self.feeds_every_read_model():
                    self.run_once()
            except Exception:  # the store may be away: try again at the next poll
                log.warning("could not run pending verifications", exc_info=True)
            self._wake.wait(self.poll)
