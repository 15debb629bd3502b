"""A small, realistic data set: 3 warehouses, 50 products (fasteners also sold by the box and
case), a trade price list with quantity breaks, 10 customers with contract prices (three on the
trade list), stock, and a handful of orders in different states. Loading it twice records nothing new."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from domain import catalog, customer, price_list
from domain.errors import DomainError
from infra import commands
from infra.ledger.kinds import ORDER
from infra.ledger.unitofwork import Context, Dedupe
from infra.service import Service

WAREHOUSES = [("DAL-1", "Dallas DC"), ("CHI-1", "Chicago DC"), ("ATL-1", "Atlanta DC")]
FAMILIES = [
    ("BOLT", "Hex bolt", ["M6x20", "M6x30", "M8x25", "M8x40", "M10x50", "M12x60"], Decimal("0.35")),
    ("NUT", "Hex nut", ["M6", "M8", "M10", "M12", "M16"], Decimal("0.08")),
    ("WASH", "Flat washer", ["M6", "M8", "M10", "M12"], Decimal("0.05")),
    ("SCRW", "Wood screw", ["4x30", "4x40", "5x50", "5x70", "6x80"], Decimal("0.12")),
    ("ANCH", "Wall anchor", ["6mm", "8mm", "10mm"], Decimal("0.45")),
    ("PIPE", "Copper pipe 3m", ["15mm", "22mm", "28mm"], Decimal("18.90")),
    ("ELB", "Copper elbow", ["15mm", "22mm", "28mm"], Decimal("1.25")),
    ("VALV", "Ball valve", ["15mm", "22mm", "28mm"], Decimal("12.40")),
    ("TAPE", "PTFE tape", ["12mm", "19mm"], Decimal("0.95")),
    ("GLUE", "Construction adhesive", ["290ml", "400ml"], Decimal("6.75")),
    ("DRIL", "HSS drill bit", ["4mm", "6mm", "8mm", "10mm", "12mm"], Decimal("3.20")),
    ("GLOV", "Work gloves", ["S", "M", "L", "XL"], Decimal("4.50")),
    ("SAFE", "Safety glasses", ["clear", "tinted"], Decimal("7.95")),
    ("CABL", "Cable ties 100pk", ["200mm", "300mm", "450mm"], Decimal("5.60")),
]
CUSTOMERS = [
    ("ACME", "Acme Construction", "25000.00", "TX"),
    ("BOLTON", "Bolton Plumbing", "12000.00", "IL"),
    ("CASCADE", "Cascade Builders", "40000.00", "GA"),
    ("DELTA", "Delta Hardware Store", "8000.00", "TX"),
    ("EVERGRN", "Evergreen Maintenance", "5000.00", "IL"),
    ("FORGE", "Forge Fabrication", "30000.00", "GA"),
    ("GRANITE", "Granite Homes", "60000.00", "TX"),
    ("HARBOR", "Harbor Marine Supply", "15000.00", "GA"),
    ("IRONSIDE", "Ironside Facilities", "20000.00", "IL"),
    ("JUNIPER", "Juniper Renovations", "300.00", "TX"),
]


BOXED = {"BOLT", "NUT", "WASH", "SCRW"}  # sold by the each, the box of 100 and the case of 1000
BOXES = (catalog.ProductUnit(uom="BX", factor=100), catalog.ProductUnit(uom="CS", factor=1000))
ON_TRADE = {"ACME", "CASCADE", "GRANITE"}


def products() -> list[catalog.PutProduct]:
    out = []
    for family, name, sizes, base in FAMILIES:
        units = BOXES if family in BOXED else ()
        for i, size in enumerate(sizes):
            price = (base * (1 + Decimal(i) / 4)).quantize(Decimal("0.01"))
            out.append(catalog.PutProduct(f"{family}-{size}", f"{name} {size}", price, "EA", units))
    return out


def trade_list(items: list[catalog.PutProduct]) -> price_list.PutPriceList:
    """Breaks at 100 (-5%) and 1000 (-12%) for the boxed fasteners, from 2026-01-01."""
    since = datetime(2026, 1, 1, tzinfo=UTC).date()
    breaks = [
        price_list.PriceListItem(
            sku=p.sku, unit_price=(p.unit_price * rate).quantize(Decimal("0.01")), min_qty=qty, valid_from=since
        )
        for p in items
        if p.units
        for qty, rate in ((100, Decimal("0.95")), (1000, Decimal("0.88")))
    ]
    return price_list.PutPriceList("TRADE", "Trade breaks", tuple(breaks))


def load_demo(svc: Service, actor: str = "demo") -> dict[str, Any]:
    """Load the data set through the same commands the API runs."""

    def rng(seed: str) -> random.Random:
        return random.Random(seed)  # per item, so a second load decides exactly as the first

    counts: dict[str, int] = {
        "warehouses": 0,
        "products": 0,
        "price_lists": 0,
        "customers": 0,
        "receipts": 0,
        "orders": 0,
        "shipments": 0,
    }

    def run(kind: str, key: str, *cmds: Any) -> None:
        ctx = Context(actor=actor, correlation_id=f"demo-{kind}-{key}", causation_id="demo")
        fp = hashlib.sha256(f"demo:{kind}:{key}".encode()).hexdigest()

        def mismatch() -> DomainError:
            return DomainError(f"demo {kind} {key} differs from an earlier load")

        outcome = svc.app.execute_together(ctx, cmds, (Dedupe(f"demo-{kind}", key, fp, mismatch),))
        counts[kind + "s"] += 0 if outcome.replayed else 1

    for wid, name in WAREHOUSES:
        run("warehouse", wid, catalog.PutWarehouse(wid, name))
    catalog_items = products()
    for p in catalog_items:
        run("product", p.sku, p)
    run("price_list", "TRADE", trade_list(catalog_items))
    for cid, name, limit, region in CUSTOMERS:
        prices = [
            customer.SetContractPrice(cid, p.sku, (p.unit_price * Decimal("0.9")).quantize(Decimal("0.01")))
            for p in rng(cid).sample(catalog_items, 3)
        ]
        on_list = "TRADE" if cid in ON_TRADE else None
        run("customer", cid, customer.PutCustomer(cid, name, Decimal(limit), region, "active", on_list), *prices)
    for n, p in enumerate(catalog_items):
        for wid, _ in WAREHOUSES:
            r = rng(f"{p.sku}@{wid}")
            if r.random() < 0.75:
                qty = r.choice([20, 50, 100, 250, 500])
                rid = f"RCV-{n:03d}-{wid}"
                run("receipt", rid, commands.ReceiveStock(rid, wid, ((p.sku, qty),)))
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for i in range(12):
        cid = CUSTOMERS[i % len(CUSTOMERS)][0]
        r = rng(f"order-{i}")
        picks = r.sample(catalog_items, r.randint(1, 4))
        oid = f"SO-{1001 + i}"
        cmd = commands.PlaceOrderInput(
            order_id=oid,
            customer_id=cid,
            channel=r.choice(["web", "edi", "sales", "portal", "marketplace"]),
            warehouse_id=None,
            allow_backorder=True,
            lines=tuple(
                commands.OrderLineInput(str(j + 1), p.sku, r.choice([5, 10, 24, 60, 400]), None)
                for j, p in enumerate(picks)
            ),
            accepted_at=start + timedelta(hours=5 * i),
        )
        run("order", oid, cmd)
    for i in (0, 1, 2):
        oid = f"SO-{1001 + i}"
        state, _ = svc.ledger.load(ORDER, oid)
        if state is None or state.status in ("credit_hold", "cancelled"):
            continue
        for wid, _ in WAREHOUSES:
            lines = tuple((ln.sku, ln.allocations[wid]) for ln in state.lines if ln.allocations.get(wid))
            if not lines:
                continue
            sid = f"SHP-{oid}-{wid}"
            ship = commands.ShipInput(
                sid, oid, wid, lines, "UPS", f"1Z{i:04d}{wid}", Decimal("12.50"), start + timedelta(days=1, hours=i)
            )
            run("shipment", sid, ship)
    return {**counts, "position": svc.store.head()}
