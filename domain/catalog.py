"""Reference data: products (with their units of measure) and warehouses (one stream each), plus
the index of warehouses."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import msgspec

from domain.decider import Decider
from domain.errors import InvalidRequestError
from domain.events import Event, register
from domain.values import MAX_QTY

UNIT_PATTERN = r"\A[A-Z0-9]{1,10}\Z"  # a product unit's name: 1-10 of A-Z 0-9 (API.md "units of measure")
_UNIT = re.compile(UNIT_PATTERN)
MAX_UNITS = 20


class ProductUnit(msgspec.Struct, frozen=True, kw_only=True):
    """A unit the product is also sold in: `factor` base units make one (an integer >= 2)."""

    uom: str
    factor: int


class ProductDefined(Event, frozen=True, kw_only=True):
    """`units` was added with units of measure: products defined before decode with none."""

    sku: str
    name: str
    unit_price: Decimal
    uom: str
    units: tuple[ProductUnit, ...] = ()


class ProductRevised(Event, frozen=True, kw_only=True):
    sku: str
    name: str
    unit_price: Decimal
    uom: str
    units: tuple[ProductUnit, ...] = ()


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
    unit_price: Decimal  # per base unit (`uom`)
    uom: str
    units: tuple[ProductUnit, ...] = ()


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
    units: tuple[ProductUnit, ...] = ()


def unit_errors(base_uom: str, units: Sequence[ProductUnit]) -> list[dict[str, str]]:
    """A product's units: each 1-10 of A-Z 0-9, none the base uom or named twice, factor 2..MAX_QTY."""
    errors: list[dict[str, str]] = []
    if len(units) > MAX_UNITS:
        errors.append({"field": "units", "message": f"at most {MAX_UNITS} units"})
    seen: set[str] = set()
    for i, unit in enumerate(units):
        if not _UNIT.fullmatch(unit.uom):
            errors.append({"field": f"units[{i}].uom", "message": "must be 1-10 characters of A-Z 0-9"})
        elif unit.uom == base_uom:
            errors.append({"field": f"units[{i}].uom", "message": f"{unit.uom} is the base uom"})
        elif unit.uom in seen:
            errors.append({"field": f"units[{i}].uom", "message": f"{unit.uom} is named twice"})
        seen.add(unit.uom)
        if not 2 <= unit.factor <= MAX_QTY:
            errors.append({"field": f"units[{i}].factor", "message": f"must be an integer 2-{MAX_QTY}"})
    return errors


@dataclass(frozen=True)
class PutWarehouse:
    warehouse_id: str
    name: str


def evolve_product(state: Product | None, event: Event) -> Product | None:
    if isinstance(event, ProductDefined | ProductRevised):
        return Product(event.sku, event.name, event.unit_price, event.uom, tuple(event.units))
    return state


def decide_put_product(state: Product | None, cmd: PutProduct) -> list[Event]:
    """Define or revise a product (its units replaced as a whole); an unchanged PUT records nothing.
    Orders already accepted keep the units they were ordered in (their lines record them)."""
    errors = unit_errors(cmd.uom, cmd.units)
    if errors:
        raise InvalidRequestError(f"{errors[0]['field']} {errors[0]['message']}", errors=errors)
    if state is None:
        return [ProductDefined(sku=cmd.sku, name=cmd.name, unit_price=cmd.unit_price, uom=cmd.uom, units=cmd.units)]
    if (state.name, state.unit_price, state.uom, state.units) == (cmd.name, cmd.unit_price, cmd.uom, cmd.units):
        return []
    return [ProductRevised(sku=cmd.sku, name=cmd.name, unit_price=cmd.unit_price, uom=cmd.uom, units=cmd.units)]


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
