"""Business KPIs (API.md "Business KPIs"): `GET /v1/ops/kpis?from=&to=`, fill rate, cycle times and
exception volume over a window of days, from the kpis read model and the refusal counter."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

import anyio.to_thread
from litestar import get
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from msgspec import Meta

from api.deps import Waits
from api.errors import invalid
from api.openapi import answers
from api.reference import MinPosition
from api.resources import Day, Position, Resource
from api.tenancy import FORBIDDEN, tenant
from infra.clock import Clock
from infra.readside.readmodels import ReadModels

DEFAULT_DAYS = 30  # the default window: the last 30 days up to today, both inclusive
LONGEST = 1096  # days a window may span

Rate = Annotated[str, Meta(pattern=r"^[01]\.\d{4}$", description="A share, 4 places, half-up")] | None


class Hours(Resource):
    p50: float | None
    p90: float | None


class Days(Resource):
    p50: int | None
    p90: int | None


class Exceptions(Resource):
    price_mismatch: Annotated[int, Meta(ge=0)]
    credit_holds: Annotated[int, Meta(ge=0)]
    overdue_holds: Annotated[int, Meta(ge=0)]
    tax_dead_letters: Annotated[int, Meta(ge=0)]
    stock_shortfalls: Annotated[int, Meta(ge=0)]


class Kpis(Resource, rename={"start": "from", "end": "to"}):
    start: Day
    end: Day
    orders: Annotated[int, Meta(ge=0)]
    lines: Annotated[int, Meta(ge=0)]
    fill_rate: Rate
    fill_rate_by_channel: dict[str, Rate]
    backorder_rate: Rate
    cancelled_rate: Rate
    order_to_ship_hours: Hours
    ship_to_invoice_hours: Hours
    invoice_to_cash_days: Days
    promise_accuracy: Rate
    exceptions: Exceptions
    position: Position


def window(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The window asked for: `to` defaults to today, `from` to 29 days before `to` (30 days)."""
    end = end or today
    if start is None:
        try:
            start = end - timedelta(days=DEFAULT_DAYS - 1)
        except OverflowError:  # `to` in the first days of year 1
            raise invalid([{"field": "to", "message": "the default window starts before year 1"}]) from None
    if start > end:
        raise invalid([{"field": "from", "message": "must not be after to"}])
    if (end - start).days + 1 > LONGEST:
        raise invalid([{"field": "from", "message": f"the window spans more than {LONGEST} days"}])
    return start, end


@get(
    "/v1/ops/kpis",
    opt=tenant("read", FORBIDDEN),
    operation_id="GetKpis",
    tags=["queries"],
    responses=answers(Kpis, 200),
)
async def ops_kpis(
    reads: NamedDependency[ReadModels],
    waits: NamedDependency[Waits],
    clock: NamedDependency[Clock],
    start: Annotated[date | None, QueryParameter(name="from")] = None,
    end: Annotated[date | None, QueryParameter(name="to")] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Fill rate and backorder rate at placement (by channel), cancelled rate, cycle-time percentiles,
    promise accuracy and exception counts over the days from `from` to `to` (the service's clock)."""
    first, last = window(start, end, clock.today())
    position = await waits.for_read_models(("kpis",), min_position)
    found = await anyio.to_thread.run_sync(reads.kpis, first, last)
    return {**found, "position": position}
