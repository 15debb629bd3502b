"""Histogram counting for collectors that keep plain numbers and build Prometheus families at
scrape time (infra/adapters/heap.py, infra/adapters/http_metrics.py)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence


def bucket_of(bounds: Sequence[float], value: float) -> int:
    """The index of the bucket a value counts in: the first bound at least the value (Prometheus'
    `le`), or len(bounds) for +Inf."""
    return bisect_left(bounds, value)


def cumulative(bounds: Sequence[float], counts: Sequence[float]) -> list[tuple[str, float]]:
    """Per-bucket counts (+Inf last) as the cumulative (le, count) pairs of a HistogramMetricFamily."""
    out, running = [], 0.0
    for bound, n in zip((*bounds, float("inf")), counts, strict=True):
        running += n
        out.append(("+Inf" if bound == float("inf") else str(float(bound)), running))
    return out
