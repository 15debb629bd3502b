"""What the read side answers, as Structs (see api/resources.py): ATP, balances, histories, the feed,
signals and rebuilds. The read side builds most of these as dicts of the same shape."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

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
    position: Position


class Rebuild(Resource):
    name: str
    status: str
    from_generation: int
