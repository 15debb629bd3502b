"""Reference data: products, warehouses, customers, their contract prices, and price lists."""

from __future__ import annotations

from domain import catalog, customer, price_list
from domain.errors import NotFoundError, UnknownPaymentTermsError, UnknownPriceListError
from infra.commands.lookups import INDEX_KEY, check_skus, require_product
from infra.ledger.kinds import CUSTOMER, PRICE_LIST, PRODUCT, TERMS, WAREHOUSE, WAREHOUSE_INDEX
from infra.ledger.unitofwork import UnitOfWork


def put_product(uow: UnitOfWork, cmd: catalog.PutProduct) -> tuple[bool, catalog.Product]:
    """Returns (created, product)."""
    existing = uow.get(PRODUCT, cmd.sku)
    state = uow.record(PRODUCT, cmd.sku, catalog.decide_put_product(existing, cmd))
    assert state is not None
    return existing is None, state


def put_warehouse(uow: UnitOfWork, cmd: catalog.PutWarehouse) -> tuple[bool, catalog.Warehouse]:
    existing = uow.get(WAREHOUSE, cmd.warehouse_id)
    state = uow.record(WAREHOUSE, cmd.warehouse_id, catalog.decide_put_warehouse(existing, cmd))
    index = uow.get(WAREHOUSE_INDEX, INDEX_KEY)
    uow.record(WAREHOUSE_INDEX, INDEX_KEY, catalog.decide_index_warehouse(index, cmd.warehouse_id))
    assert state is not None
    return existing is None, state


def put_customer(uow: UnitOfWork, cmd: customer.PutCustomer) -> tuple[bool, customer.Customer]:
    if cmd.price_list_id is not None and uow.get(PRICE_LIST, cmd.price_list_id) is None:
        raise UnknownPriceListError(
            f"Price list {cmd.price_list_id} does not exist", price_list_id=cmd.price_list_id, field="price_list_id"
        )
    terms_id = cmd.payment_terms_id
    if terms_id is not None and uow.get(TERMS, terms_id) is None:  # 422 unknown_payment_terms
        raise UnknownPaymentTermsError(f"Payment terms {terms_id} do not exist", payment_terms_id=terms_id)
    existing = uow.get(CUSTOMER, cmd.customer_id)
    state = uow.record(CUSTOMER, cmd.customer_id, customer.decide_put_customer(existing, cmd))
    assert state is not None
    return existing is None, state


def set_contract_price(uow: UnitOfWork, cmd: customer.SetContractPrice) -> tuple[bool, customer.Customer]:
    state = uow.get(CUSTOMER, cmd.customer_id)
    if state is None:
        raise NotFoundError(f"Customer {cmd.customer_id} does not exist", customer_id=cmd.customer_id)
    require_product(uow, cmd.sku)
    created = cmd.sku not in state.prices
    state = uow.record(CUSTOMER, cmd.customer_id, customer.decide_set_contract_price(state, cmd))
    assert state is not None
    return created, state


def put_price_list(uow: UnitOfWork, cmd: price_list.PutPriceList) -> tuple[bool, price_list.PriceList]:
    """Define or replace a price list; every SKU it prices must be in the catalog (422 unknown_sku)."""
    existing = uow.get(PRICE_LIST, cmd.price_list_id)
    events = price_list.decide_put_price_list(cmd, existing)  # the items' own rules first
    check_skus(uow, list(dict.fromkeys(item.sku for item in cmd.items)))
    state = uow.record(PRICE_LIST, cmd.price_list_id, events)
    assert state is not None
    return existing is None, state
