"""Available-to-promise: stock per SKU and warehouse, open backorders, and the SKUs that exist."""

from __future__ import annotations

import json
from datetime import date, datetime

from domain import backorders, catalog, expected, inventory, promising, transfer
from domain.events import Event
from domain.promising import Supply, Waiting
from projections.base import Column, EventInfo, Key, ProjectionSpec, Row, TableSpec

_DELTAS = {
    inventory.StockReceived: lambda e: (e.qty, 0, 0),
    inventory.StockRestocked: lambda e: (e.qty, 0, 0),
    inventory.StockAdjusted: lambda e: (e.qty_delta, 0, 0),
    inventory.StockCounted: lambda e: (e.qty_delta, 0, 0),
    inventory.StockReserved: lambda e: (0, e.qty, 0),
    inventory.ReservationReleased: lambda e: (0, -e.qty, 0),
    inventory.StockShipped: lambda e: (-e.qty, -e.qty, 0),
    inventory.TransferDispatched: lambda e: (-e.qty, 0, 0),
    inventory.TransferExpected: lambda e: (0, 0, e.qty),
    inventory.TransferArrived: lambda e: (e.qty, 0, -e.qty),
}


def position_keys(event: Event) -> list[Key]:
    if isinstance(event, inventory.PositionEvent):
        return [(event.sku, event.warehouse_id)]
    return []


def evolve_position(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    delta = _DELTAS.get(type(event))
    if delta is None:
        return row
    on_hand, reserved, in_transit = delta(event)
    row = row or {"sku": key[0], "warehouse_id": key[1], "on_hand": 0, "reserved": 0, "in_transit": 0}
    return {
        **row,
        "on_hand": row["on_hand"] + on_hand,
        "reserved": row["reserved"] + reserved,
        "in_transit": row["in_transit"] + in_transit,
    }


def backorder_keys(event: Event) -> list[Key]:
    if isinstance(event, backorders.BackorderQueued | backorders.BackorderFilled | backorders.BackorderWithdrawn):
        return [(event.sku, event.order_id, event.line_id)]
    return []


def _parts(row: Row) -> list[tuple[datetime, int]]:
    """The (accepted_at, qty) parts a line waits for, oldest first. A row written before `parts`
    existed waits as one part."""
    if row.get("parts"):
        return [(datetime.fromisoformat(at), qty) for at, qty in json.loads(row["parts"])]
    return [(row["accepted_at"], row["qty"])]


def _entry(row: Row) -> backorders.Entry:
    (first, _), *later = _parts(row)
    return backorders.Entry(row["order_id"], row["line_id"], row["warehouse_id"], row["qty"], first, tuple(later))


def evolve_backorder(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    """The line's qty waiting, when it last queued more (`accepted_at`), and its parts by acceptance
    time as the book keeps them (`parts`, JSON [[accepted_at, qty], ...]): the promise rule's queue."""
    if not isinstance(event, backorders.BackorderQueued | backorders.BackorderFilled | backorders.BackorderWithdrawn):
        return row
    if row is None and not isinstance(event, backorders.BackorderQueued):
        return None
    book = backorders.Book(sku=key[0], entries={} if row is None else {(key[1], key[2]): _entry(row)})
    entry = backorders.evolve_book(book, event).entries.get((key[1], key[2]))
    if entry is None:
        return None
    last_queued = (
        event.accepted_at if isinstance(event, backorders.BackorderQueued) or row is None else row["accepted_at"]
    )
    return {
        "sku": key[0],
        "order_id": entry.order_id,
        "line_id": entry.line_id,
        "warehouse_id": entry.warehouse_id,
        "qty": entry.qty,
        "accepted_at": last_queued,
        "parts": json.dumps([[at.isoformat(), qty] for at, qty in entry.tranches()]),
    }


_EXPECTED = (
    expected.ExpectedReceiptCreated,
    expected.ExpectedReceiptChanged,
    expected.ExpectedReceiptReceived,
    expected.ExpectedReceiptClosed,
)


def incoming_keys(event: Event) -> list[Key]:
    if isinstance(event, expected.ExpectedEvent):
        return [(event.sku, "expected", event.expected_id)]
    if isinstance(event, transfer.TransferInitiated | transfer.TransferReceived):
        return [(event.sku, "transfer", event.transfer_id)]
    return []


def _incoming_row(key: Key, warehouse_id: str, on: date, qty: int) -> Row | None:
    sku, source, source_id = key
    if qty <= 0:
        return None
    return {
        "sku": sku,
        "source": source,
        "source_id": source_id,
        "warehouse_id": warehouse_id,
        "expected_on": on.isoformat(),
        "qty": qty,
    }


def evolve_incoming(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    """What is still expected, where and on which day (the real day: the reader shows a past one as
    today). Gone when nothing stays open, the receipt is closed or the transfer is received; a
    transfer without `expected_on` is no dated supply."""
    if isinstance(event, expected.ExpectedReceiptCreated):
        return _incoming_row(key, event.warehouse_id, event.expected_on, event.qty)
    if isinstance(event, expected.ExpectedReceiptChanged):
        return _incoming_row(key, event.warehouse_id, event.expected_on, event.open)
    if isinstance(event, expected.ExpectedReceiptReceived):
        return None if row is None else {**row, "qty": event.open} if event.open > 0 else None
    if isinstance(event, transfer.TransferInitiated) and event.expected_on is not None:
        return _incoming_row(key, event.to_warehouse_id, event.expected_on, event.qty)
    if isinstance(event, expected.ExpectedReceiptClosed | transfer.TransferReceived):
        return None
    return row


def product_keys(event: Event) -> list[Key]:
    if isinstance(event, catalog.ProductDefined | catalog.ProductRevised):
        return [(event.sku,)]
    return []


def evolve_product(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    if isinstance(event, catalog.ProductDefined | catalog.ProductRevised):
        return {"sku": event.sku, "name": event.name}
    return row


ATP = ProjectionSpec(
    name="atp",
    tables=(
        TableSpec(
            "positions",
            ("sku", "warehouse_id"),
            (
                Column("sku", "str"),
                Column("warehouse_id", "str"),
                Column("on_hand", "int"),
                Column("reserved", "int"),
                Column("in_transit", "int"),
            ),
            position_keys,
            evolve_position,
            tuple(_DELTAS),
        ),
        TableSpec(
            "backorders",
            ("sku", "order_id", "line_id"),
            (
                Column("sku", "str"),
                Column("order_id", "str"),
                Column("line_id", "str"),
                Column("warehouse_id", "str"),
                Column("qty", "int"),
                Column("accepted_at", "time", index=True),
                Column("parts", "json"),
            ),
            backorder_keys,
            evolve_backorder,
            (backorders.BackorderQueued, backorders.BackorderFilled, backorders.BackorderWithdrawn),
        ),
        TableSpec(
            "incoming",
            ("sku", "source", "source_id"),
            (
                Column("sku", "str"),
                Column("source", "str"),  # expected | transfer
                Column("source_id", "str"),  # the expected_id or transfer_id
                Column("warehouse_id", "str"),
                Column("expected_on", "str"),  # YYYY-MM-DD: compares and sorts as text
                Column("qty", "int"),  # still expected
            ),
            incoming_keys,
            evolve_incoming,
            (*_EXPECTED, transfer.TransferInitiated, transfer.TransferReceived),
        ),
        TableSpec(
            "skus",
            ("sku",),
            (Column("sku", "str"), Column("name", "str")),
            product_keys,
            evolve_product,
            (catalog.ProductDefined, catalog.ProductRevised),
        ),
    ),
)


def atp_view(sku: str, positions: list[Row], backordered: int, warehouse_id: str | None) -> dict[str, object]:
    """The API's ATP shape from position rows (all warehouses of the SKU)."""
    chosen = [p for p in positions if warehouse_id in (None, p["warehouse_id"])]
    return {
        "sku": sku,
        "on_hand": sum(p["on_hand"] for p in chosen),
        "reserved": sum(p["reserved"] for p in chosen),
        "available": sum(p["on_hand"] - p["reserved"] for p in chosen),
        "in_transit": sum(p["in_transit"] for p in chosen),
        "backordered": backordered,
        "warehouses": [
            {
                "warehouse_id": p["warehouse_id"],
                "on_hand": p["on_hand"],
                "reserved": p["reserved"],
                "available": p["on_hand"] - p["reserved"],
                "in_transit": p["in_transit"],
            }
            for p in sorted(positions, key=lambda p: p["warehouse_id"])
        ],
    }


def available_from_rows(positions: list[Row], warehouse_id: str | None = None) -> dict[str, int]:
    """Available stock per warehouse (only W's when given), as the promise rule takes it."""
    return {
        p["warehouse_id"]: p["on_hand"] - p["reserved"] for p in positions if warehouse_id in (None, p["warehouse_id"])
    }


def incoming_from_rows(rows: list[Row]) -> list[Supply]:
    return [Supply(date.fromisoformat(r["expected_on"]), r["warehouse_id"], r["qty"]) for r in rows]


def queue_from_rows(rows: list[Row]) -> list[Waiting]:
    """The waiting parts of one SKU's backorder rows, in queue order (as `Book.slots`)."""
    parts = [(at, r["order_id"], r["line_id"], r["warehouse_id"], qty) for r in rows for at, qty in _parts(r)]
    return [Waiting(o, line, wh, qty) for _, o, line, wh, qty in sorted(parts, key=lambda p: p[:3]) if qty > 0]


def incoming_view(rows: list[Row], today: date, warehouse_id: str | None = None) -> list[dict[str, object]]:
    """ATP's `incoming`: [{date, warehouse_id, qty}] by date then warehouse_id, a past date shown as
    today, what is due at one place on one day together."""
    due: dict[tuple[date, str], int] = {}
    for s in incoming_from_rows(rows):
        if warehouse_id in (None, s.warehouse_id) and s.qty > 0:
            key = (max(s.on, today), s.warehouse_id)
            due[key] = due.get(key, 0) + s.qty
    return [{"date": on, "warehouse_id": wh, "qty": qty} for (on, wh), qty in sorted(due.items())]


def promise_view(
    sku: str,
    qty: int,
    warehouse_id: str | None,
    positions: list[Row],
    waiting: list[Row],
    incoming: list[Row],
    today: date,
) -> dict[str, object]:
    """GET /v1/atp/{sku}/promise from one SKU's rows (all its warehouses): `available_now` at W or in
    total, `promise_date` by the rule (domain.promising.promise)."""
    available = available_from_rows(positions)
    now = sum(v for wh, v in available.items() if warehouse_id in (None, wh))
    when = promising.promise(
        today, qty, warehouse_id, available, incoming_from_rows(incoming), queue_from_rows(waiting)
    )
    return {"sku": sku, "qty": qty, "warehouse_id": warehouse_id, "available_now": now, "promise_date": when}
