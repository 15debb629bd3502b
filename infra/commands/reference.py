"""Reference data: products, warehouses, customers and their contract prices."""

from __future__ import annotations

from domain import catalog, customer
from domain.errors import NotFoundError, UnknownPaymentTermsError
from infra.commands.lookups import INDEX_KEY, require_product
from infra.ledger.kinds import CUSTOMER, PRODUCT, TERMS, WAREHOUSE, WAREHOUSE_INDEX
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
