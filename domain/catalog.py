"""Reference data: products and warehouses (one stream each), plus the index of warehouses."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.decider import Decider
from domain.events import Event, register


class ProductDefined(Event, frozen=True, kw_only=True):
    sku: str
    name: str
    unit_price: Decimal
    uom: str


class ProductRevised(Event, frozen=True, kw_only=True):
    sku: str
    name: str
    unit_price: Decimal
    uom: str


class WarehouseDefined(Event, frozen=True, kw_only=True):
    warehouse_id: str
    name: str


class WarehouseRenamed(Event, frozen=True, kw_only=True):
    warehouse_id: str
    name: str


class WarehouseIndexed(Event, frozen=True, kw_only=True):
    """The warehouse joined the index that allocation walks."""

    warehouse_id: str


register(ProductDefined, ProductRevised, WarehouseDefined, WarehouseRenamed, WarehouseIndexed)


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    unit_price: Decimal
    uom: str


@dataclass(frozen=True)
class Warehouse:
    warehouse_id: str
    name: str


@dataclass(frozen=True)
class PutProduct:
    sku: str
    name: str
    unit_price: Decimal
    uom: str = "EA"


@dataclass(frozen=True)
class PutWarehouse:
    warehouse_id: str
    name: str


def evolve_product(state: Product | None, event: Event) -> Product | None:
    if isinstance(event, ProductDefined | ProductRevised):
        return Product(event.sku, event.name, event.unit_price, event.uom)
    return state


def decide_put_product(state: Product | None, cmd: PutProduct) -> list[Event]:
    """Define or revise a product; an unchanged PUT records nothing."""
    if state is None:
        return [ProductDefined(sku=cmd.sku, name=cmd.name, unit_price=cmd.unit_price, uom=cmd.uom)]
    if (state.name, state.unit_price, state.uom) == (cmd.name, cmd.unit_price, cmd.uom):
        return []
    return [ProductRevised(sku=cmd.sku, name=cmd.name, unit_price=cmd.unit_price, uom=cmd.uom)]


def evolve_warehouse(state: Warehouse | None, event: Event) -> Warehouse | None:
    if isinstance(event, WarehouseDefined | WarehouseRenamed):
        return Warehouse(event.warehouse_id, event.name)
    return state


def decide_put_warehouse(state: Warehouse | None, cmd: PutWarehouse) -> list[Event]:
    if state is None:
        return [WarehouseDefined(warehouse_id=cmd.warehouse_id, name=cmd.name)]
    if state.name == cmd.name:
        return []
    return [WarehouseRenamed(warehouse_id=cmd.warehouse_id, name=cmd.name)]


def evolve_warehouse_index(state: tuple[str, ...] | None, event: Event) -> tuple[str, ...]:
    ids = state or ()
    if isinstance(event, WarehouseIndexed) and event.warehouse_id not in ids:
        return tuple(sorted((*ids, event.warehouse_id)))
    return ids


def decide_index_warehouse(state: tuple[str, ...] | None, warehouse_id: str) -> list[Event]:
    if state and warehouse_id in state:
        return []
    return [WarehouseIndexed(warehouse_id=warehouse_id)]


@dataclass(frozen=True)
class IndexWarehouse:
    warehouse_id: str


def decide_product(command: PutProduct, state: Product | None) -> list[Event]:
    return decide_put_product(state, command)


def decide_warehouse(command: PutWarehouse, state: Warehouse | None) -> list[Event]:
    return decide_put_warehouse(state, command)


def decide_warehouse_index(command: IndexWarehouse, state: tuple[str, ...] | None) -> list[Event]:
    return decide_index_warehouse(state, command.warehouse_id)


def _no_product(sku: str) -> Product | None:
    return None


def _no_warehouse(warehouse_id: str) -> Warehouse | None:
    return None


def _empty_index(key: str) -> tuple[str, ...] | None:
    return ()


product_decider: Decider[PutProduct, Product | None] = Decider(decide_product, evolve_product, _no_product)
warehouse_decider: Decider[PutWarehouse, Warehouse | None] = Decider(decide_warehouse, evolve_warehouse, _no_warehouse)
warehouse_index_decider: Decider[IndexWarehouse, tuple[str, ...] | None] = Decider(
    decide_warehouse_index, evolve_warehouse_index, _empty_index
)
