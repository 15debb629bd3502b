"""The operations dashboard: `GET /ops` (one self-contained HTML page) and `GET /v1/ops/summary`,
the figures the page needs that no other endpoint gives (intake per minute, status mix, top SKUs,
backorders by age, promise accuracy)."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Annotated, Any

import anyio.to_thread
import msgspec
import sqlalchemy as sa
from litestar import MediaType, Response, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from api.deps import Waits
from api.openapi import answers
from api.read_resources import OpsSummary
from api.reference import MinPosition
from api.resources import ORDER_STATUSES
from api.tenancy import FORBIDDEN, tenant
from api.views import ts
from domain.values import format_money, sum_money
from infra.clock import Clock
from infra.readside.readmodels import ReadModels

# Backorder age buckets: (name, label, lower bound in seconds); each runs up to the next bound.
AGE_BUCKETS = (
    ("lt_1h", "< 1 h", 0),
    ("1h_1d", "1 h - 1 d", 3600),
    ("1d_7d", "1 - 7 d", 86400),
    ("ge_7d", "7 d +", 604800),
)
SCAN_PAGE = 500
SCAN_CAP = 5000  # newest orders read at most per summary; beyond it the intake figures say complete: false

# The page may run scripts and styles of its own and talk only to this service.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
        "img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class _Accepted(msgspec.Struct):
    """The one field of an order document the intake figures need."""

    accepted_at: datetime


_accepted = msgspec.json.Decoder(_Accepted)


@functools.cache
def _page() -> bytes:
    return resources.files("api").joinpath("static/ops.html").read_bytes()


@get("/ops", operation_id="OpsDashboard", tags=["operations"], media_type=MediaType.HTML)
async def ops_page() -> Response[bytes]:
    """The dashboard page; it asks for an API key itself and reads the API with it."""
    return Response(_page(), media_type=MediaType.HTML, headers=PAGE_HEADERS)


@get(
    "/v1/ops/summary",
    opt=tenant("read", FORBIDDEN),
    operation_id="GetOpsSummary",
    tags=["queries"],
    responses=answers(OpsSummary, 200),
)
async def ops_summary(
    reads: NamedDependency[ReadModels],
    waits: NamedDependency[Waits],
    clock: NamedDependency[Clock],
    currency: NamedDependency[str],
    minutes: Annotated[int, Parameter(ge=1, le=120)] = 10,
    top: Annotated[int, Parameter(ge=1, le=50)] = 8,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Order intake per minute over the last `minutes`, order status mix, the `top` SKUs by reserved
    quantity, open backorder lines by age, promise accuracy and AR aging as of today (the service's clock)."""
    position = await waits.for_read_models(("orders", "atp", "receivables"), min_position)
    now = datetime.now(UTC)
    body = await anyio.to_thread.run_sync(summarize, reads, now, minutes, top)
    aging = await anyio.to_thread.run_sync(ar_aging, reads, clock.today(), currency)
    return {**body, "ar_aging": aging, "generated_at": ts(now), "position": position}


def ar_aging(read: ReadModels, today: date, currency: str) -> dict[str, str]:
    """The aging totals of every customer as of today, and `overdue`: what is past due."""
    totals: dict[str, str] = read.aging(today, None, currency)["totals"]
    overdue = sum_money(Decimal(v) for k, v in totals.items() if k.startswith("days_"))
    return {**totals, "overdue": format_money(overdue)}


def summarize(read: ReadModels, now: datetime, minutes: int, top: int) -> dict[str, Any]:
    statuses = read.order_status_counts()
    mix = {s: statuses.get(s, 0) for s in ORDER_STATUSES} | statuses
    return {
        "intake": intake(read, now, minutes),
        "order_status": mix,
        "orders_total": sum(mix.values()),
        "top_skus": top_skus(read, top),
        "backorders_by_age": backorders_by_age(read, now),
        "promise_accuracy": read.promise_accuracy(),  # {share, shipped_lines, on_time, late}
    }


def intake(read: ReadModels, now: datetime, minutes: int) -> dict[str, Any]:
    """Orders accepted per minute, oldest minute first, read from the newest orders backwards."""
    p = read.projections["orders"]
    p.refresh()
    orders = p.tables["orders"]
    start = now - timedelta(minutes=minutes)
    per_minute = [0] * minutes
    scanned = 0
    oldest_seen: datetime | None = None
    cursor: int | None = None
    complete = True
    with read.engine.connect() as conn:
        while True:
            query = sa.select(orders.c.seq, orders.c.doc).order_by(orders.c.seq.desc()).limit(SCAN_PAGE)
            if cursor is not None:
                query = query.where(orders.c.seq < cursor)
            found = conn.execute(query).all()
            if not found:
                break
            cursor = found[-1].seq
            scanned += len(found)
            page_newest = start
            for row in found:
                accepted = _utc(_accepted.decode(row.doc).accepted_at)
                page_newest = max(page_newest, accepted)
                oldest_seen = accepted if oldest_seen is None else min(oldest_seen, accepted)
                if accepted < start:
                    continue
                ago = max(int((now - accepted).total_seconds() // 60), 0)
                if ago < minutes:
                    per_minute[minutes - 1 - ago] += 1
            if page_newest <= start or len(found) < SCAN_PAGE:
                break  # placement order follows acceptance time: older pages hold nothing in the window
            if scanned >= SCAN_CAP:
                complete = False
                break
    orders_in_window = sum(per_minute)
    covered = float(minutes)
    if not complete and oldest_seen is not None:  # the rate over the span actually read
        covered = min(max((now - oldest_seen).total_seconds() / 60, 1 / 60), float(minutes))
    return {
        "minutes": minutes,
        "per_minute": per_minute,
        "orders": orders_in_window,
        "rate_per_minute": round(orders_in_window / covered, 2),
        "complete": complete,
    }


def top_skus(read: ReadModels, top: int) -> list[dict[str, Any]]:
    """SKUs with the most stock reserved (then the most on hand), summed over warehouses."""
    p = read.projections["atp"]
    p.refresh()
    t = p.tables["positions"]
    reserved = sa.func.sum(t.c.reserved).label("reserved")
    on_hand = sa.func.sum(t.c.on_hand).label("on_hand")
    query = sa.select(t.c.sku, reserved, on_hand).group_by(t.c.sku).order_by(reserved.desc(), on_hand.desc(), t.c.sku)
    with read.engine.connect() as conn:
        found = conn.execute(query.limit(top)).all()
    return [{"sku": r.sku, "reserved": int(r.reserved or 0), "on_hand": int(r.on_hand or 0)} for r in found]


def backorders_by_age(read: ReadModels, now: datetime) -> list[dict[str, Any]]:
    """Open backorder lines and their quantity per age bucket, youngest first."""
    p = read.projections["atp"]
    p.refresh()
    t = p.tables["backorders"]
    columns = []
    uppers = [lower for _, _, lower in AGE_BUCKETS[1:]] + [None]
    for (name, _, lower), upper in zip(AGE_BUCKETS, uppers, strict=True):
        # the youngest bucket has no lower age bound: an order stamped by a host whose clock runs ahead still counts
        inside = [t.c.accepted_at <= now - timedelta(seconds=lower)] if lower else []
        if upper is not None:
            inside.append(t.c.accepted_at > now - timedelta(seconds=upper))
        cond = sa.and_(*inside)
        columns.append(sa.func.count(sa.case((cond, 1))).label(f"{name}_lines"))
        columns.append(sa.func.sum(sa.case((cond, t.c.qty), else_=0)).label(f"{name}_qty"))
    with read.engine.connect() as conn:
        row = conn.execute(sa.select(*columns)).one()._mapping
    return [
        {"bucket": name, "label": label, "lines": int(row[f"{name}_lines"] or 0), "qty": int(row[f"{name}_qty"] or 0)}
        for name, label, _ in AGE_BUCKETS
    ]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
