"""Order intake prices its lines from the state cache, on both stores: the customer, its price list
and the products are read without a query, however many lines the order has."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from domain import catalog, customer, price_list
from infra import commands
from infra.ledger.kinds import CUSTOMER, PRICE_LIST, PRODUCT
from infra.ledger.unitofwork import Context
from infra.service import Service
from infra.settings import Settings

CTX = Context(actor="test", correlation_id="c", causation_id="c")
SKUS = [f"P-{i:03d}" for i in range(60)]
ACCEPTED = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def svc(settings: Settings) -> Iterator[Service]:
    service = Service.start(settings)
    app = service.app
    app.execute(CTX, catalog.PutWarehouse("W-A", "A"))
    for sku in SKUS:
        app.execute(
            CTX, catalog.PutProduct(sku, sku, Decimal("2.00"), "EA", (catalog.ProductUnit(uom="CS", factor=6),))
        )
    items = tuple(price_list.PriceListItem(sku=sku, unit_price=Decimal("1.50"), min_qty=12) for sku in SKUS)
    app.execute(CTX, price_list.PutPriceList("PL-1", "Breaks", items))
    app.execute(CTX, customer.PutCustomer("C1", "Acme", Decimal("1000000.00"), "CA", "active", "PL-1"))
    yield service
    service.close()


def order(order_id: str, skus: list[str]) -> commands.PlaceOrderInput:
    lines = tuple(commands.OrderLineInput(str(i + 1), sku, 2, None, uom="CS") for i, sku in enumerate(skus))
    return commands.PlaceOrderInput(order_id, "C1", "web", None, True, lines, ACCEPTED)


def test_a_60_line_order_reads_no_price_stream_from_the_store(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    svc.app.execute(CTX, order("SO-0", SKUS[:1]))  # the cache has followed the log since start
    loads: list[UUID] = []
    real = svc.store.load

    def counting(stream_id: UUID, *args: Any, **kwargs: Any) -> Any:
        loads.append(stream_id)
        return real(stream_id, *args, **kwargs)

    monkeypatch.setattr(svc.store, "load", counting)
    placed = svc.app.execute(CTX, order("SO-1", SKUS)).result
    priced = {CUSTOMER.stream_id("C1"), PRICE_LIST.stream_id("PL-1"), *(PRODUCT.stream_id(s) for s in SKUS)}
    assert not priced & set(loads), "a price fact was read from the store"
    assert [(ln.qty, ln.unit_price, ln.price_source) for ln in placed.lines] == [
        (12, Decimal("1.50"), "price_list")
    ] * 60
