"""Orders: one row per order with its summary columns and its full state as a document, and one row
per backordered line with its promised date (what `promises_late` and the promise workflow read)."""

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
    order.BackorderPromised,
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
        "lines_shipped": state.lines_shipped,  # promise accuracy: lines that shipped anything ...
        "lines_shipped_late": state.lines_shipped_late,  # ... and those that went after their promise
        "_state": state,
    }


_LINE_EVENTS = (
    order.OrderPlaced,
    order.OrderChanged,
    order.OrderLinesAllocated,
    order.OrderCancelled,
    order.BackorderPromised,
)


def _backorder_deltas(event: Event) -> dict[str, tuple[str, int]]:
    """line_id -> (sku, change in its backordered qty) for the lines an event touches.

    backordered = qty - allocated - shipped - cancelled (domain.order.Line), so: placing or adding a
    line backorders all of it; an allocation takes from it; a change moves it by the new qty minus
    the old plus what it released; a cancel takes the line's open qty less what was reserved.
    Shipments (from allocations), holds, deliveries, invoices and returns leave it alone."""
    deltas: dict[str, tuple[str, int]] = {}

    def add(line_id: str, sku: str, qty: int) -> None:
        deltas[line_id] = (sku, deltas.get(line_id, (sku, 0))[1] + qty)

    match event:
        case order.OrderPlaced(lines=lines):
            for pl in lines:
                add(pl.line_id, pl.sku, pl.qty)
        case order.OrderChanged(lines=changed, added=added):
            for cl in changed:
                add(cl.line_id, cl.sku, cl.qty - cl.previous_qty + sum(r.qty for r in cl.released))
            for pl in added:
                add(pl.line_id, pl.sku, pl.qty)
        case order.OrderLinesAllocated(allocations=allocations):
            for a in allocations:
                add(a.line_id, a.sku, -a.qty)
        case order.OrderCancelled(lines=cancelled):
            for c in cancelled:
                add(c.line_id, c.sku, -(c.qty - sum(r.qty for r in c.released)))
    return deltas


_LAST: tuple[Event | None, dict[str, tuple[str, int]]] = (None, {})


def _deltas_of(event: Event) -> dict[str, tuple[str, int]]:
    """`_backorder_deltas`, worked out once per event however many of its lines ask (a 500-line order
    asks 500 times). The memo is one tuple, read and replaced whole, so threads cannot mix it up."""
    global _LAST
    last = _LAST
    if last[0] is not event:
        last = (event, _backorder_deltas(event))
        _LAST = last
    return last[1]


def line_keys(event: Event) -> list[Key]:
    if isinstance(event, order.BackorderPromised):
        return [(event.order_id, event.line_id)]
    if isinstance(event, _LINE_EVENTS):
        return [(event.order_id, line_id) for line_id in _deltas_of(event)]
    return []


def evolve_line_row(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    """A line's backordered qty and promised date; kept while it has either (a filled line keeps
    its row until its promise goes to None). A held order's lines count as backordered, unpromised."""
    order_id, line_id = key
    if isinstance(event, order.BackorderPromised):
        sku, backordered, promised = event.sku, row["backordered"] if row else 0, event.promised_date
        promised_text = promised.isoformat() if promised is not None else None
    elif isinstance(event, _LINE_EVENTS):
        sku, delta = _deltas_of(event)[line_id]
        backordered = max((row["backordered"] if row else 0) + delta, 0)
        promised_text = row["promised_date"] if row else None
    else:
        return row
    if backordered == 0 and promised_text is None:
        return None
    return {
        "order_id": order_id,
        "line_id": line_id,
        "sku": sku,
        "backordered": backordered,
        "promised_date": promised_text,
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
                Column("lines_shipped", "int"),
                Column("lines_shipped_late", "int"),
                Column("doc", "json"),
            ),
            order_keys,
            evolve_order_row,
            _ORDER_EVENTS,
            dump_order_row,
        ),
        TableSpec(
            "backordered_lines",
            ("order_id", "line_id"),
            (
                Column("order_id", "str"),
                Column("line_id", "str"),
                Column("sku", "str", index=True),
                Column("backordered", "int"),
                Column("promised_date", "str", index=True),  # YYYY-MM-DD or NULL: compares as text
            ),
            line_keys,
            evolve_line_row,
            _LINE_EVENTS,
        ),
    ),
)
