"""Helpers for the promise KPI tests: orders through the application service, a promise recorded by
the domain command `PromiseBackorders` in a small ledger handler (standing in for the promise
workflow), and shipments on a chosen day (their `shipped_at` decides which lines went late)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from domain import order
from infra import commands
from infra.ledger.kinds import ORDER
from infra.ledger.unitofwork import UnitOfWork
from infra.service import Service
from tests.infra.readside import ctx


def place(svc: Service, order_id: str, accepted_at: datetime, **qty: int) -> int:
    """An order of C1 with lines "1", "2", ... (SKU from the keyword: BOLT_10 -> BOLT-10), backorders allowed."""
    lines = tuple(
        commands.OrderLineInput(str(i), sku.replace("_", "-"), n, None) for i, (sku, n) in enumerate(qty.items(), 1)
    )
    cmd = commands.PlaceOrderInput(order_id, "C1", "web", None, True, lines, accepted_at)
    return svc.app.execute(ctx(), cmd).position


def promise(svc: Service, order_id: str, dates: Mapping[str, date | None]) -> int:
    """Record the promised dates of the order's lines (line_id -> date) as the promise workflow would."""

    def handler(uow: UnitOfWork) -> None:
        state = uow.get(ORDER, order_id)
        uow.record(ORDER, order_id, order.decide(order.PromiseBackorders(order_id, dates), state))

    return svc.ledger.run(ctx(), handler).position


def receive(svc: Service, receipt_id: str, warehouse_id: str, **qty: int) -> int:
    """Receive stock (it fills the SKU's open backorders in the same write)."""
    lines = tuple((sku.replace("_", "-"), n) for sku, n in qty.items())
    return svc.app.execute(ctx(), commands.ReceiveStock(receipt_id, warehouse_id, lines)).position


def ship(svc: Service, shipment_id: str, order_id: str, shipped_at: datetime, **qty: int) -> int:
    """Ship from W-A on `shipped_at`'s day."""
    lines = tuple((sku.replace("_", "-"), n) for sku, n in qty.items())
    cmd = commands.ShipInput(shipment_id, order_id, "W-A", lines, None, None, Decimal("0.00"), shipped_at)
    return svc.app.execute(ctx(), cmd).position


def cancel(svc: Service, order_id: str) -> int:
    return svc.app.execute(ctx(), commands.CancelOrder(order_id, "buyer cancelled")).position
