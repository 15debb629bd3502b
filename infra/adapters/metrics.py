"""Prometheus metrics: HTTP traffic, command outcomes, projection lag and business signals."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from infra.adapters.heap import GcPauses
from infra.adapters.http_metrics import HttpRequests
from infra.clock import Clock


class Parked(Protocol):
    def parked_count(self) -> int: ...


class ReadSide(Protocol):
    """What the gauges read at scrape time: the read models (infra/readside/readmodels.py)."""

    @property
    def projections(self) -> Mapping[str, Parked]: ...

    def lag(self) -> dict[str, int]: ...

    def gauge_counts(self) -> dict[str, Any]: ...

    def invoice_counts(self) -> tuple[int, int]: ...

    def order_status_counts(self) -> dict[str, int]: ...

    def promises_late(self, today: date) -> int: ...

    def promise_accuracy(self) -> dict[str, Any]: ...

    def overdue(self, today: date) -> dict[str, Decimal]: ...

    def kpis(self, start: date, end: date) -> dict[str, Any]: ...


class Followers(Protocol):
    """Who runs the projections and workflows, which are stuck, and the clock whose "today" the promise
    gauges count by (the service, infra/service.py)."""

    @property
    def follower_names(self) -> list[str]: ...

    def held(self) -> frozenset[str]: ...

    def stuck(self) -> dict[str, str]: ...

    @property
    def clock(self) -> Clock: ...


class _Signals(Collector):
    """Read at scrape time from the read models (never from the event store)."""

    def __init__(self, read: ReadSide, followers: Followers) -> None:
        self.read = read
        self.followers = followers

    def collect(self) -> Iterator[GaugeMetricFamily]:
        read = self.read
        lag = GaugeMetricFamily(
            "o2c_projection_lag_events", "Events a read model trails the log by", labels=["projection"]
        )
        for name, behind in read.lag().items():
            lag.add_metric([name], behind)
        yield lag
        held = GaugeMetricFamily(
            "o2c_worker_lock_held",
            "1 when this process runs the projection or workflow (holds its lock)",
            labels=["name"],
        )
        mine = self.followers.held()
        names = self.followers.follower_names
        for name in names:
            held.add_metric([name], 1 if name in mine else 0)
        yield held
        counts = read.gauge_counts()  # totals counted in SQL: the signals' lists are limited (100 oldest)
        yield GaugeMetricFamily("o2c_backorder_lines", "Order lines waiting for stock", value=counts["backorder_lines"])
        oldest_at = counts["backorder_oldest_at"]
        oldest = max(int((datetime.now(UTC) - oldest_at).total_seconds()), 0) if oldest_at is not None else 0
        yield GaugeMetricFamily("o2c_backorder_oldest_age_seconds", "Age of the oldest open backorder", value=oldest)
        yield GaugeMetricFamily(
            "o2c_over_allocated_positions", "Positions reserving more than on hand", value=counts["over_allocated"]
        )
        awaiting_tax, dead_letters = read.invoice_counts()
        yield GaugeMetricFamily("o2c_invoices_awaiting_tax", "Invoices waiting for tax", value=awaiting_tax)
        yield GaugeMetricFamily("o2c_dead_letters", "Invoices in the dead-letter list", value=dead_letters)
        parked = GaugeMetricFamily(
            "o2c_parked_events", "Events a read model skipped because it cannot apply them", labels=["projection"]
        )
        for name, projection in read.projections.items():
            parked.add_metric([name], projection.parked_count())
        yield parked
        stuck = GaugeMetricFamily(
            "o2c_follower_stuck",
            "1 while the read model or workflow is stuck on an error (not following the log)",
            labels=["name"],
        )
        failing = self.followers.stuck()
        for name in names:
            stuck.add_metric([name], 1 if name in failing else 0)
        yield stuck
        statuses = GaugeMetricFamily("o2c_orders", "Orders by status", labels=["status"])
        for status, count in read.order_status_counts().items():
            statuses.add_metric([status], count)
        yield statuses
        yield from _promise_gauges(read, self.followers.clock.today())
        overdue = GaugeMetricFamily(
            "o2c_ar_overdue_amount", "Open receivables past due today, by days past due", labels=["bucket"]
        )
        for bucket, amount in read.overdue(self.followers.clock.today()).items():
            overdue.add_metric([bucket], float(amount))
        yield overdue
        yield from _kpi_gauges(read, self.followers.clock.today())


KPI_DAYS = 30  # the gauges' window: the last 30 days to today, as the /ops cards


def _kpi_gauges(read: ReadSide, today: date) -> Iterator[GaugeMetricFamily]:
    """Fill rate and backorder rate at placement (NaN while no line was placed) and the exception
    counts over the last 30 days (GET /v1/ops/kpis with its default window)."""
    found = read.kpis(today - timedelta(days=KPI_DAYS - 1), today)
    for name, key, help_text in (
        ("o2c_kpi_fill_rate_ratio", "fill_rate", "Share of order lines fully allocated at placement, last 30 days"),
        (
            "o2c_kpi_backorder_rate_ratio",
            "backorder_rate",
            "Share of order lines backordered at placement, last 30 days",
        ),
    ):
        value = found[key]
        yield GaugeMetricFamily(name, help_text, value=float("nan") if value is None else float(value))
    exceptions = GaugeMetricFamily(
        "o2c_kpi_exceptions", "Exceptions over the last 30 days (GET /v1/ops/kpis)", labels=["kind"]
    )
    for kind, count in found["exceptions"].items():
        exceptions.add_metric([kind], count)
    yield exceptions


def _promise_gauges(read: ReadSide, today: date) -> Iterator[GaugeMetricFamily]:
    """Promise accuracy (NaN while no line has shipped) with the counts it is made of, and the
    backordered lines whose promised date is before today, all counted in SQL."""
    accuracy = read.promise_accuracy()
    share = accuracy["share"]
    yield GaugeMetricFamily(
        "o2c_promise_accuracy_ratio",
        "Share of shipped order lines that shipped on or before their promised date (never backordered: on time)",
        value=float("nan") if share is None else share,
    )
    yield GaugeMetricFamily("o2c_shipped_lines", "Order lines that have shipped", value=accuracy["shipped_lines"])
    yield GaugeMetricFamily(
        "o2c_shipped_lines_late", "Order lines that shipped after their promised date", value=accuracy["late"]
    )
    yield GaugeMetricFamily(
        "o2c_promises_late", "Backordered lines whose promised date is before today", value=read.promises_late(today)
    )


class DeliveryOutcomes(Protocol):
    def outcomes(self) -> dict[tuple[str, str], int]: ...


class _Webhooks(Collector):
    """Webhook deliveries by webhook and outcome (pending, succeeded, failed), from the delivery log."""

    def __init__(self, source: DeliveryOutcomes) -> None:
        self.source = source

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "o2c_webhook_deliveries", "Webhook deliveries by webhook and outcome", labels=["webhook", "outcome"]
        )
        for (webhook, outcome), count in sorted(self.source.outcomes().items()):
            family.add_metric([webhook, outcome], count)
        yield family


class Metrics:
    def watch_webhooks(self, source: DeliveryOutcomes) -> None:
        self.registry.register(_Webhooks(source))

    def __init__(self, read: ReadSide, followers: Followers) -> None:
        self.registry = CollectorRegistry()
        self.http = HttpRequests()
        self.registry.register(self.http)
        self.commands = Counter("o2c_commands", "Command outcomes by code", ["code"], registry=self.registry)
        self.duplicates = Counter(
            "o2c_duplicate_submissions", "Repeated commands answered from their record", registry=self.registry
        )
        self.retries = Counter(
            "o2c_command_retries", "Commands decided again after a version conflict", registry=self.registry
        )
        self.registry.register(_Signals(read, followers))
        self.registry.register(GcPauses.install())

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        """One request counted and timed (infra/adapters/http_metrics.py)."""
        self.http.observe(route, method, status, seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
