"""The one clock of the service: what "now" and "today" (a UTC calendar day) are.

Everything that needs the date asks the service's clock, never `date.today()`; the domain gets the
date as a value. Tests put a `FixedClock` in its place to make "today" what they need."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta


class Clock:
    """The system's clock: UTC now, and its calendar day."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self) -> date:
        return self.now().date()


class FixedClock(Clock):
    """A clock that stands still until moved (tests)."""

    def __init__(self, now: datetime) -> None:
        self._now = now.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, days: int = 0, seconds: float = 0) -> None:
        with self._lock:
            self._now += timedelta(days=days, seconds=seconds)
