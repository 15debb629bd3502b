"""Orders: one row per order with its summary columns and its full state as a document."""

from __future__ import annotations

import msgspec

from domain import order
from domain.events import Event
from domain.order import Order
from projections.base import Column, EventInfo, Key, ProjectionSpec, Row, TableSpec

_ORDER_EVENTS = (
    order.OrderPlaced,
    order.OrderCreditHeld,
    order.OrderCreditReleased,
    order.OrderLinesAllocated,
    order.OrderCancelled,
    order.OrderShipmentRecorded,
    order.OrderDeliveryRecorded,
    order.OrderLinesInvoiced,
    order.OrderReturnRecorded,
    order.OrderChanged,
)
_decoder = msgspec.json.Decoder(Order)


def order_keys(event: Event) -> list[Key]:
    if isinstance(event, _ORDER_EVENTS):
        return [(event.order_id,)]
    return []


def decode_state(doc: str) -> Order:
    return _decoder.decode(doc)


def evolve_order_row(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    """The row keeps the decoded state in '_state'; `dump_order_row` writes it as `doc`."""
    state = (row.get("_state") or decode_state(row["doc"])) if row else None
    state = order.evolve_order(state, event)
    if state is None:
        return row
    return {
        "order_id": state.order_id,
        "customer_id": state.customer_id,
        "customer_po": state.customer_po,
        "status": state.status,
        "seq": row["seq"] if row else info.position,
        "total": state.total,
        "_state": state,
    }


def dump_order_row(row: Row) -> Row:
    if "doc" not in row:
        row["doc"] = msgspec.json.encode(row["_state"]).decode()
    return row


ORDERS = ProjectionSpec(
    name="orders",
    tables=(
        TableSpec(
            "orders",
            ("order_id",),
            (
                Column("order_id", "str"),
                Column("customer_id", "str", index=True),
                Column("customer_po", "str", index=True),  # the buyer's PO number: a gateway finds its order by it
                Column("status", "str", index=True),
                Column("seq", "int", index=True),
                Column("total", "money"),
                Column("doc", "json"),
            ),
            order_keys,
            evolve_order_row,
            _ORDER_EVENTS,
            dump_order_row,
        ),
    ),
)
