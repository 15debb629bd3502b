"""What several commands look up the same way: a product, a warehouse, an order, a stock position."""

from __future__ import annotations

from collections.abc import Sequence

from domain import catalog, inventory, order
from domain.errors import NotFoundError, UnknownSkuError, UnknownWarehouseError
from infra.ledger.kinds import ORDER, POSITION, PRODUCT, WAREHOUSE, position_key
from infra.ledger.unitofwork import UnitOfWork

INDEX_KEY = "all"  # the key of the one warehouse index stream


def require_product(uow: UnitOfWork, sku: str) -> catalog.Product:
    product = uow.get(PRODUCT, sku)
    if product is None:
        raise UnknownSkuError(f"SKU {sku} is not in the catalog", sku=sku)
    return product


def require_warehouse(uow: UnitOfWork, warehouse_id: str, field_name: str = "warehouse_id") -> catalog.Warehouse:
    wh = uow.get(WAREHOUSE, warehouse_id)
    if wh is None:
        raise UnknownWarehouseError(
            f"Warehouse {warehouse_id} does not exist", warehouse_id=warehouse_id, field=field_name
        )
    return wh


def check_skus(uow: UnitOfWork, skus: Sequence[str]) -> None:
    """Every SKU is in the catalog. A product's stream holds only its definition and revisions, so it
    is a product exactly when the stream has events: known without loading a state (a reconciliation
    checks 50,000 SKUs this way without a query, and without putting 50,000 products in the cache)."""
    exist = uow.existing(PRODUCT, skus)
    unknown = [sku for sku in skus if sku not in exist]
    if unknown:
        raise UnknownSkuError(f"Unknown SKU: {', '.join(unknown)}", sku=unknown[0], skus=unknown)


def position_of(uow: UnitOfWork, sku: str, warehouse_id: str) -> inventory.Position:
    return uow.get(POSITION, position_key(sku, warehouse_id))


def record_position(uow: UnitOfWork, sku: str, warehouse_id: str, events: list) -> inventory.Position:  # type: ignore[type-arg]
    return uow.record(POSITION, position_key(sku, warehouse_id), events)


def require_order(uow: UnitOfWork, order_id: str) -> order.Order:
    state = uow.get(ORDER, order_id)
    if state is None:
        raise NotFoundError(f"Order {order_id} does not exist", order_id=order_id)
    return state
