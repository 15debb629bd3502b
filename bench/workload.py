"""A synthetic but realistic command stream, run through the real ledger (for benchmarks)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain import catalog, customer
from domain.errors import DomainError
from infra import commands
from infra.ledger.kinds import ORDER
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service

WAREHOUSES = ("W-1", "W-2", "W-3")


def setup(svc: Service, skus: int = 200, customers: int = 50) -> tuple[list[str], list[str]]:
    ctx = Context(actor="bench", correlation_id="bench-setup", causation_id="bench")

    def handle(uow: UnitOfWork) -> None:
        for wh in WAREHOUSES:
            commands.put_warehouse(uow, catalog.PutWarehouse(wh, f"Warehouse {wh}"))
        for i in range(skus):
            commands.put_product(uow, catalog.PutProduct(f"SKU-{i:05d}", f"Item {i}", Decimal("1.25") + i % 40, "EA"))
        for c in range(customers):
            commands.put_customer(
                uow, customer.PutCustomer(f"CUST-{c:04d}", f"Customer {c}", Decimal("1000000000.00"), "CA", "active")
            )

    svc.ledger.run(ctx, handle)
    return [f"SKU-{i:05d}" for i in range(skus)], [f"CUST-{c:04d}" for c in range(customers)]


def commands_stream(skus: list[str], customers: list[str], seed: int = 7) -> Iterator[tuple[str, Any]]:
    """Receipts, 3-line orders, some cancels and shipments, in a realistic mix."""
    rng = random.Random(seed)
    n = 0
    orders: list[str] = []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    while True:
        n += 1
        roll = rng.random()
        if roll < 0.25:
            wh = rng.choice(WAREHOUSES)
            lines = [(sku, rng.randint(10, 200)) for sku in rng.sample(skus, 3)]
            yield "receipt", (f"R-{seed}-{n}", wh, lines)
        elif roll < 0.85 or not orders:
            oid = f"SO-{seed}-{n}"
            orders.append(oid)
            lines = tuple(
                commands.OrderLineInput(str(i + 1), sku, rng.randint(1, 8), None)
                for i, sku in enumerate(rng.sample(skus, 3))
            )
            yield (
                "order",
                commands.PlaceOrderInput(
                    oid, rng.choice(customers), "web", None, True, lines, start + timedelta(seconds=n)
                ),
            )
        elif roll < 0.92:
            yield "cancel", orders.pop(rng.randrange(len(orders)))
        else:
            yield "ship", orders.pop(rng.randrange(len(orders)))


def run_command(svc: Service, kind: str, payload: Any, at: datetime | None = None) -> int:
    """Run one command (recorded at `at`, else now); returns the position after it (domain
    rejections are part of life)."""
    at = at or datetime.now(UTC)
    ctx = Context(actor="bench", correlation_id=f"bench-{kind}", causation_id="bench", occurred_at=at)

    def handle(uow: UnitOfWork) -> None:
        if kind == "receipt":
            rid, wh, lines = payload
            commands.receive_stock(uow, rid, wh, lines)
        elif kind == "order":
            commands.place_order(uow, payload)
        elif kind == "cancel":
            commands.cancel_order(uow, payload, "bench")
        elif kind == "ship":
            order = uow.get(ORDER, payload)
            if order is not None:
                for wh in WAREHOUSES:
                    lines = tuple((ln.sku, ln.allocations[wh]) for ln in order.lines if ln.allocations.get(wh))
                    if lines:
                        ship = commands.ShipInput(
                            f"SH-{payload}-{wh}", payload, wh, lines, None, None, Decimal("5.00"), at
                        )
                        commands.ship(uow, ship)

    try:
        return svc.ledger.run(ctx, handle).position
    except DomainError:
        return svc.store.head()
