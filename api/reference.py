"""Reference data: products, warehouses, customers and contract prices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from api.commands import Answer, CommandGateway
from api.deps import Waits
from api.models import PutContractPriceRequest, PutCustomerRequest, PutProductRequest, PutWarehouseRequest
from api.openapi import put_answers
from api.resources import (
    ContractPrice,
    ContractPriceAnswer,
    Customer,
    CustomerAnswer,
    Product,
    ProductAnswer,
    Resource,
    Warehouse,
    WarehouseAnswer,
)
from api.tenancy import CUSTOMER_PATH, FORBIDDEN, OPEN, PRICE_PATH, tenant
from api.views import customer_view, price_view, product_view, warehouse_view
from domain import catalog, customer
from domain.errors import NotFoundError
from domain.values import ID_PATTERN, parse_money
from infra.ledger.kinds import CUSTOMER, PRODUCT, WAREHOUSE
from infra.ledger.ledger import Ledger

IdPath = Annotated[str, Parameter(pattern=ID_PATTERN, max_length=64)]
MAX_POSITION = 2**63 - 1  # positions, versions and cursors are stored as 64-bit integers (PostgreSQL bigint)
MinPosition = Annotated[int | None, Parameter(ge=0, le=MAX_POSITION, required=False)]

WRITE = tenant("catalog:write", FORBIDDEN)
READ = tenant("read", OPEN)


def _put(view: Callable[[Any], Resource]) -> Answer:
    """A PUT answers 201 when it created the resource, 200 when it replaced it."""
    return lambda done: (201 if done[0] else 200, view(done[1]))


class ReferenceController(Controller):
    path = "/v1"
    tags = ["reference data"]

    @put("/products/{sku:str}", opt=WRITE, operation_id="PutProduct", responses=put_answers(ProductAnswer))
    async def put_product(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        currency: NamedDependency[str],
        sku: IdPath,
        data: JSONBody[PutProductRequest],
    ) -> Response[bytes]:
        units = tuple(catalog.ProductUnit(uom=u.uom, factor=u.factor) for u in data.units or ())
        cmd = catalog.PutProduct(sku, data.name, parse_money(data.unit_price), data.uom, units)

        return await gateway.execute(request, cmd, data, _put(lambda state: product_view(state, currency)))

    @get("/products/{sku:str}", opt=READ, operation_id="GetProduct")
    async def get_product(
        self,
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        sku: IdPath,
        min_position: MinPosition = None,
    ) -> Product:
        await waits.for_log(min_position)
        state, _ = await anyio.to_thread.run_sync(ledger.load, PRODUCT, sku)
        if state is None:
            raise NotFoundError(f"Product {sku} does not exist", sku=sku)
        return product_view(state, currency)

    @put(
        "/warehouses/{warehouse_id:str}", opt=WRITE, operation_id="PutWarehouse", responses=put_answers(WarehouseAnswer)
    )
    async def put_warehouse(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        warehouse_id: IdPath,
        data: JSONBody[PutWarehouseRequest],
    ) -> Response[bytes]:
        cmd = catalog.PutWarehouse(warehouse_id, data.name)

        return await gateway.execute(request, cmd, data, _put(lambda state: warehouse_view(state)))

    @get("/warehouses/{warehouse_id:str}", opt=READ, operation_id="GetWarehouse")
    async def get_warehouse(
        self,
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        warehouse_id: IdPath,
        min_position: MinPosition = None,
    ) -> Warehouse:
        await waits.for_log(min_position)
        state, _ = await anyio.to_thread.run_sync(ledger.load, WAREHOUSE, warehouse_id)
        if state is None:
            raise NotFoundError(f"Warehouse {warehouse_id} does not exist", warehouse_id=warehouse_id)
        return warehouse_view(state)

    @put("/customers/{customer_id:str}", opt=WRITE, operation_id="PutCustomer", responses=put_answers(CustomerAnswer))
    async def put_customer(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        currency: NamedDependency[str],
        customer_id: IdPath,
        data: JSONBody[PutCustomerRequest],
    ) -> Response[bytes]:
        cmd = customer.PutCustomer(
            customer_id,
            data.name,
            parse_money(data.credit_limit),
            data.tax_region,
            data.status,
            data.price_list_id,
            data.payment_terms_id,
        )

        return await gateway.execute(request, cmd, data, _put(lambda state: customer_view(state, currency)))

    @get("/customers/{customer_id:str}", opt=tenant("read", CUSTOMER_PATH), operation_id="GetCustomer")
    async def get_customer(
        self,
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        customer_id: IdPath,
        min_position: MinPosition = None,
    ) -> Customer:
        await waits.for_log(min_position)
        state, _ = await anyio.to_thread.run_sync(ledger.load, CUSTOMER, customer_id)
        if state is None:
            raise NotFoundError(f"Customer {customer_id} does not exist", customer_id=customer_id)
        return customer_view(state, currency)

    @put(
        "/customers/{customer_id:str}/prices/{sku:str}",
        opt=WRITE,
        operation_id="PutContractPrice",
        responses=put_answers(ContractPriceAnswer),
    )
    async def put_price(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        currency: NamedDependency[str],
        customer_id: IdPath,
        sku: IdPath,
        data: JSONBody[PutContractPriceRequest],
    ) -> Response[bytes]:
        cmd = customer.SetContractPrice(customer_id, sku, parse_money(data.unit_price))

        return await gateway.execute(request, cmd, data, _put(lambda state: price_view(state, sku, currency)))

    @get(
        "/customers/{customer_id:str}/prices/{sku:str}", opt=tenant("read", PRICE_PATH), operation_id="GetContractPrice"
    )
    async def get_price(
        self,
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        customer_id: IdPath,
        sku: IdPath,
        min_position: MinPosition = None,
    ) -> ContractPrice:
        await waits.for_log(min_position)
        state, _ = await anyio.to_thread.run_sync(ledger.load, CUSTOMER, customer_id)
        if state is None or sku not in state.prices:
            raise NotFoundError(
                f"No contract price for {sku} and customer {customer_id}", customer_id=customer_id, sku=sku
            )
        return price_view(state, sku, currency)
