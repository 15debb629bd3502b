"""Available-to-promise: stock per SKU and warehouse, open backorders, and the SKUs that exist."""

from __future__ import annotations

from domain import backorders, catalog, inventory
from domain.events import Event
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


def evolve_backorder(row: Row | None, key: Key, event: Event, info: EventInfo) -> Row | None:
    if isinstance(event, backorders.BackorderQueued):
        qty = event.qty + (row["qty"] if row else 0)
        return {
            "sku": event.sku,
            "order_id": event.order_id,
            "line_id": event.line_id,
            "warehouse_id": event.warehouse_id,
            "qty": qty,
            "accepted_at": event.accepted_at,
        }
    if isinstance(event, backorders.BackorderFilled | backorders.BackorderWithdrawn) and row is not None:
        left = row["qty"] - event.qty
        return {**row, "qty": left} if left > 0 else None
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
            ),
            backorder_keys,
            evolve_backorder,
            (backorders.BackorderQueued, backorders.BackorderFilled, backorders.BackorderWithdrawn),
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
