"""The process's heap: settling it once the service has started, and timing the garbage collector.

CPython's cyclic collector scans every tracked object of the generation it collects. The oldest
generation holds what start-up built (modules, the Litestar app with its handlers and schemas, the
read models loaded into memory), so each of its collections stopped every request for 86-104 ms
under load on the benchmark machine (bench/RESULTS.md, 2026-12-04). `settle` collects once and
moves every object that survived start-up into the permanent generation, which the collector never
scans again; objects made afterwards are collected as before (docs/decisions/0032).

`GcPauses` records how long each collection took, by generation, for the `o2c_gc_pause_seconds`
histogram. Its callback takes no lock: a collection can start inside any allocation, including one
made while a metrics lock is held on the same thread, so the callback only adds to plain counters
(the collector runs one collection at a time) and the histogram is built from them at scrape time.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import HistogramMetricFamily
from prometheus_client.registry import Collector

from infra.adapters.buckets import bucket_of, cumulative

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


def settle() -> int:
    """Collect once, then freeze what is left: the objects start-up made stay out of every later
    collection. Returns how many objects were frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


class GcPauses(Collector):
    """Every collection's pause, by generation, since `install` (one per process: gc.callbacks is)."""

    _installed: GcPauses | None = None

    def __init__(self) -> None:
        self._started = 0.0
        # per generation: a count per bucket (cumulative at scrape time), +Inf last, and the sum
        self._counts = [[0] * (len(BUCKETS) + 1) for _ in range(3)]
        self._sums = [0.0, 0.0, 0.0]

    @classmethod
    def install(cls) -> GcPauses:
        """The process's recorder, its callback added on first use."""
        if cls._installed is None:
            cls._installed = cls()
            gc.callbacks.append(cls._installed._callback)
        return cls._installed

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        pause = time.perf_counter() - self._started
        generation = info["generation"]
        self._sums[generation] += pause
        self._counts[generation][bucket_of(BUCKETS, pause)] += 1

    def pauses(self, generation: int) -> tuple[int, float]:
        """How many collections of that generation ran, and their seconds in all."""
        return sum(self._counts[generation]), self._sums[generation]

    def collect(self) -> Iterator[HistogramMetricFamily]:
        family = HistogramMetricFamily(
            "o2c_gc_pause_seconds",
            "Time the garbage collector stopped the process, by generation (2: the oldest)",
            labels=["generation"],
        )
        for generation in range(3):
            family.add_metric([str(generation)], cumulative(BUCKETS, self._counts[generation]), self._sums[generation])
        yield family
