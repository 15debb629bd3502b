"""What the read side answers, as Structs (see api/resources.py): ATP, balances, histories, the feed,
signals and rebuilds. The read side builds most of these as dicts of the same shape."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from api.ar_resources import AgingRow
from api.resources import Day, Money, Position, Resource, Time

# --- read models, the feed and operations (the read side builds these as dicts) ---------------------


class AtpWarehouse(Resource):
    warehouse_id: str
    on_hand: int
    reserved: int
    available: int
    in_transit: int


class Incoming(Resource):
    date: Day
    warehouse_id: str
    qty: int


class Atp(Resource):
    sku: str
    on_hand: int
    reserved: int
    available: int
    in_transit: int
    backordered: int
    warehouses: list[AtpWarehouse]
    incoming: list[Incoming]  # open expected receipts and dated transfers, by date then warehouse
    position: Position


class Promise(Resource):
    sku: str
    qty: int
    warehouse_id: str | None
    available_now: int
    promise_date: Day | None  # null: known supply never covers it
    position: Position


class AtpList(Resource):
    items: list[Atp]
    position: Position


class Balance(Resource):
    customer_id: str
    currency: str
    credit_limit: Money
    open_ar: Money
    unbilled: Money
    exposure: Money
    credit_available: Money
    unapplied_credit: Money
    position: Position


class JournalLine(Resource):
    account: str
    debit: Money
    credit: Money


class EntrySource(Resource):
    kind: Literal["invoice", "credit_note", "payment", "discount", "credit_application"]
    id: str


class JournalEntry(Resource):
    entry_id: str  # JE-<kind>-<id>, the same on every replay
    posted_on: Day
    source: EntrySource
    customer_id: str
    memo: str
    lines: list[JournalLine]  # debits equal credits


class JournalPage(Resource):
    items: list[JournalEntry]
    next_after: str | None
    position: Position


class TrialBalanceAccount(Resource):
    account: str
    role: str | None  # the account's role in O2C_ACCOUNTS (null: an account the chart no longer names)
    debit: Money
    credit: Money
    balance: Money  # debit - credit


class TrialBalanceTotals(Resource):
    debit: Money
    credit: Money


class TrialBalance(Resource):
    as_of: Day
    currency: str
    accounts: list[TrialBalanceAccount]
    totals: TrialBalanceTotals
    position: Position


class HistoryEvent(Resource):
    version: int
    type: str
    recorded_at: Time
    position: Position
    actor: str | None
    correlation_id: str | None
    causation_id: str | None
    data: dict[str, Any]


class History(Resource):
    events: list[HistoryEvent]


class CloudEvent(Resource):
    specversion: Literal["1.0"]
    id: str
    source: Literal["/o2c"]
    type: Annotated[str, Meta(pattern=r"^o2c\.")]
    subject: str
    time: Time
    datacontenttype: Literal["application/json"]
    data: dict[str, Any]
    position: Position


class EventFeed(Resource):
    events: list[CloudEvent]
    next_after: Position


class Signals(Resource):
    backorders_aged: list[dict[str, Any]]
    awaiting_tax: int
    dead_letters: int
    over_allocated: list[dict[str, Any]]
    projection_lag: dict[str, int]
    promises_late: Annotated[int, Meta(ge=0, description="Backordered lines whose promised_date is before today")]
    position: Position
    webhooks_failing: list[dict[str, Any]] = []  # enabled webhooks with a failed or overdue delivery


class Rebuild(Resource):
    name: str
    status: str
    from_generation: int


class VerificationStarted(Resource):
    verification_id: str


class ModelCheck(Resource):
    """One read model compared with its rebuild: rows compared (by key, over all its tables), the
    ones that differ, and up to 100 of them ({table, key, live, rebuilt}: the columns that differ)."""

    rows: Annotated[int, Meta(ge=0)]
    mismatches: Annotated[int, Meta(ge=0)]
    examples: list[dict[str, Any]]
    position: Position  # where this read model was compared (the verification's position, see decision 0024)


class Verification(Resource):
    verification_id: str
    status: Literal["running", "done"]
    position: Position | None  # null while running
    read_models: dict[str, ModelCheck]
    error: str | None = None  # a verification that could not finish says why


# --- the ops summary (api/ops.py builds it as a dict) ------------------------------------------------

Count = Annotated[int, Meta(ge=0)]


class Intake(Resource):
    minutes: Count
    per_minute: list[Count]
    orders: Count
    rate_per_minute: Annotated[float, Meta(ge=0)]
    complete: bool


class TopSku(Resource):
    sku: str
    reserved: int
    on_hand: int


class BackorderAge(Resource):
    bucket: str
    label: str
    lines: Count
    qty: Count


class PromiseAccuracy(Resource):
    """Shipped order lines against their promise: `share` = on_time / shipped_lines (null while none shipped)."""

    share: Annotated[float, Meta(ge=0, le=1)] | None
    shipped_lines: Count
    on_time: Count
    late: Count


class ArAging(AgingRow, kw_only=True):
    """The aging totals of all customers as of today, and what of them is past due"""

    overdue: Money


class OpsSummary(Resource):
    intake: Intake
    order_status: dict[str, Count]
    orders_total: Count
    top_skus: list[TopSku]
    backorders_by_age: list[BackorderAge]
    promise_accuracy: PromiseAccuracy
    ar_aging: ArAging
    generated_at: Time
    position: Position
