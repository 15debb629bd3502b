"""The journal (read): posted entries, and the trial balance as of a day (API.md "Posting to finance").

`min_position` waits for the posting workflow to have posted every source up to it, then for the
read model to hold those entries: a read after a payment with its position shows the payment's entry."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

import anyio.to_thread
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter, QueryParameter

from api.deps import Waits
from api.errors import invalid
from api.openapi import answers
from api.read_resources import JournalPage, TrialBalance
from api.reference import MAX_POSITION, MinPosition
from api.tenancy import FORBIDDEN, LISTED, CustomerScope, tenant
from domain.values import ID_PATTERN
from infra.service import Service
from infra.workers.posting import Posting
from projections.journal import entry_view, trial_balance_view

_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def day_of(text: str | None, field: str) -> date | None:
    """A `YYYY-MM-DD` query parameter as a date (None when not given), else 422 naming `field` (its
    name in the query: `from` cannot be a Python parameter's name, so the check is made here)."""
    if text is None:
        return None
    try:
        if _DAY.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise invalid([{"field": field, "message": "must be a calendar day YYYY-MM-DD"}])


class JournalController(Controller):
    path = "/v1/journal"
    tags = ["finance"]

    @get("/", opt=tenant("read", LISTED), operation_id="ListJournalEntries", responses=answers(JournalPage, 200))
    async def list_entries(
        self,
        service: NamedDependency[Service],
        waits: NamedDependency[Waits],
        customers: NamedDependency[CustomerScope],
        after: Annotated[int | None, Parameter(ge=0, le=MAX_POSITION, required=False)] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        on_or_after: Annotated[str | None, QueryParameter(name="from", format="date", required=False)] = None,
        on_or_before: Annotated[str | None, QueryParameter(name="to", format="date", required=False)] = None,
        customer_id: Annotated[str | None, Parameter(pattern=ID_PATTERN, required=False)] = None,
        min_position: MinPosition = None,
    ) -> dict[str, object]:
        """Entries in posting order (the log's), posted from `from` to `to` (both included); `customer_id`
        reaches the query through `customers` (api/tenancy.py)."""
        first, last = day_of(on_or_after, "from"), day_of(on_or_before, "to")
        position = await waits.for_workflow(Posting.name, ("journal",), min_position)
        found, next_after = await anyio.to_thread.run_sync(
            service.read.list_journal, limit, after, first, last, customers.only
        )
        return {
            "items": [entry_view(e) for e in found],
            "next_after": None if next_after is None else str(next_after),
            "position": position,
        }

    @get(
        "/trial-balance",
        opt=tenant("read", FORBIDDEN),
        operation_id="GetTrialBalance",
        responses=answers(TrialBalance, 200),
    )
    async def trial_balance(
        self,
        service: NamedDependency[Service],
        waits: NamedDependency[Waits],
        as_of: Annotated[str | None, QueryParameter(format="date", required=False)] = None,
        min_position: MinPosition = None,
    ) -> dict[str, object]:
        """Every account's debits and credits posted on or before `as_of` (default: today)."""
        day = day_of(as_of, "as_of") or service.clock.today()
        position = await waits.for_workflow(Posting.name, ("journal",), min_position)
        totals = await anyio.to_thread.run_sync(service.read.trial_balance, day, service.settings.accounts)
        return {**trial_balance_view(totals, day.isoformat(), service.settings.currency), "position": position}
