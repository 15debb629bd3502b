"""Products, warehouses and the warehouse index: define, revise, or record nothing when unchanged."""

from __future__ import annotations

from decimal import Decimal

from domain import catalog
from domain.catalog import (
    Product,
    ProductDefined,
    ProductRevised,
    PutProduct,
    PutWarehouse,
    Warehouse,
    WarehouseDefined,
    WarehouseIndexed,
    WarehouseRenamed,
    decide_index_warehouse,
    decide_put_product,
    decide_put_warehouse,
    evolve_product,
    evolve_warehouse,
    evolve_warehouse_index,
)
from tests.spec import given, spec

BOLT = ProductDefined(sku="BOLT-10", name="Bolt 10mm", unit_price=Decimal("8.50"), uom="EA")


def test_a_new_sku_defines_the_product_with_each_by_default() -> None:
    state = (
        given(evolve_product, None)
        .when(lambda s: decide_put_product(s, PutProduct("BOLT-10", "Bolt 10mm", Decimal("8.50"))))
        .then(BOLT)
    )
    assert state == Product("BOLT-10", "Bolt 10mm", Decimal("8.50"), "EA")


def test_a_changed_price_revises_the_product() -> None:
    state = (
        given(evolve_product, None, BOLT)
        .when(lambda s: decide_put_product(s, PutProduct("BOLT-10", "Bolt 10mm", Decimal("9.00"))))
        .then(ProductRevised(sku="BOLT-10", name="Bolt 10mm", unit_price=Decimal("9.00"), uom="EA"))
    )
    assert state is not None and state.unit_price == Decimal("9.00")


def test_a_changed_name_or_unit_of_measure_revises_the_product() -> None:
    given(evolve_product, None, BOLT).when(
        lambda s: decide_put_product(s, PutProduct("BOLT-10", "Bolt, 10 mm", Decimal("8.50"), "BOX"))
    ).then(ProductRevised(sku="BOLT-10", name="Bolt, 10 mm", unit_price=Decimal("8.50"), uom="BOX"))


def test_putting_the_same_product_again_records_nothing() -> None:
    given(evolve_product, None, BOLT).when(
        lambda s: decide_put_product(s, PutProduct("BOLT-10", "Bolt 10mm", Decimal("8.5")))
    ).then()


def test_a_new_warehouse_is_defined() -> None:
    state = (
        given(evolve_warehouse, None)
        .when(lambda s: decide_put_warehouse(s, PutWarehouse("W-A", "Austin")))
        .then(WarehouseDefined(warehouse_id="W-A", name="Austin"))
    )
    assert state == Warehouse("W-A", "Austin")


def test_a_new_name_renames_the_warehouse() -> None:
    given(evolve_warehouse, None, WarehouseDefined(warehouse_id="W-A", name="Austin")).when(
        lambda s: decide_put_warehouse(s, PutWarehouse("W-A", "Austin North"))
    ).then(WarehouseRenamed(warehouse_id="W-A", name="Austin North"))


def test_putting_the_same_warehouse_again_records_nothing() -> None:
    given(evolve_warehouse, None, WarehouseDefined(warehouse_id="W-A", name="Austin")).when(
        lambda s: decide_put_warehouse(s, PutWarehouse("W-A", "Austin"))
    ).then()


def test_a_new_warehouse_joins_the_index_in_id_order() -> None:
    state = (
        given(evolve_warehouse_index, (), WarehouseIndexed(warehouse_id="W-C"))
        .when(lambda s: decide_index_warehouse(s, "W-A"))
        .then(WarehouseIndexed(warehouse_id="W-A"))
    )
    assert state == ("W-A", "W-C")


def test_an_indexed_warehouse_is_not_indexed_twice() -> None:
    given(evolve_warehouse_index, (), WarehouseIndexed(warehouse_id="W-A")).when(
        lambda s: decide_index_warehouse(s, "W-A")
    ).then()


def test_the_index_starts_empty_when_no_warehouse_exists() -> None:
    given(evolve_warehouse_index, None).when(lambda s: decide_index_warehouse(s, "W-A")).then(
        WarehouseIndexed(warehouse_id="W-A")
    )


# --- the deciders ----------------------------------------------------------------------------


def test_the_product_decider_defines_then_revises() -> None:
    products = spec(catalog.product_decider)
    products.when(PutProduct("BOLT-10", "Bolt 10mm", Decimal("8.50"))).then(BOLT)
    products.given(BOLT).when(PutProduct("BOLT-10", "Bolt 10mm", Decimal("8.50"))).then()


def test_the_warehouse_decider_defines_then_renames() -> None:
    warehouses = spec(catalog.warehouse_decider)
    defined = WarehouseDefined(warehouse_id="W-A", name="Austin")
    warehouses.when(PutWarehouse("W-A", "Austin")).then(defined)
    warehouses.given(defined).when(PutWarehouse("W-A", "Austin North")).then(
        WarehouseRenamed(warehouse_id="W-A", name="Austin North")
    )


def test_the_index_decider_indexes_a_warehouse_once() -> None:
    index = spec(catalog.warehouse_index_decider, "all")
    assert index.when(catalog.IndexWarehouse("W-B")).then(WarehouseIndexed(warehouse_id="W-B")) == ("W-B",)
    index.given(WarehouseIndexed(warehouse_id="W-B")).when(catalog.IndexWarehouse("W-B")).then()
