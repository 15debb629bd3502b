"""Orders: place, cancel, release a credit hold; read one (optionally as of a version), history."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from api.commands import Answer, CommandGateway
from api.deps import Waits
from api.errors import ProblemError
from api.models import NO_BODY, NO_REASON, CancelOrderRequest, EmptyRequest, PlaceOrderRequest, ShipToRequest
from api.openapi import answers
from api.reference import MAX_POSITION, IdPath, MinPosition
from api.resources import OrderAnswer, OrderAtVersion, OrderList, OrderStatus
from api.tenancy import LISTED, ORDER_PATH, CustomerScope, Names, tenant
from api.views import extended, order_view
from domain import order
from domain.errors import NotFoundError
from domain.values import ID_PATTERN, parse_money
from infra import commands
from infra.eventstore.store import EventStore
from infra.ledger.kinds import ORDER
from infra.ledger.ledger import Ledger
from infra.readside.readmodels import ReadModels


def ship_to_of(sent: ShipToRequest | None) -> order.ShipTo | None:
    if sent is None:
        return None
    return order.ShipTo(
        name=sent.name,
        address=tuple(sent.address),
        city=sent.city,
        postal_code=sent.postal_code,
        country=sent.country,
        region=sent.region,
        gln=sent.gln,
    )


def order_answer(status: int, currency: str) -> Answer:
    return lambda state: (status, order_view(state, currency))


class OrdersController(Controller):
    path = "/v1/orders"
    tags = ["orders"]

    @post(
        "/",
        opt=tenant("orders:write", Names(customer="customer_id")),
        operation_id="PlaceOrder",
        responses=answers(OrderAnswer),
    )
    async def place(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        data: JSONBody[PlaceOrderRequest],
    ) -> Response[bytes]:
        clock, currency = gateway.clock, gateway.currency
        line_ids = [ln.line_id or str(i + 1) for i, ln in enumerate(data.lines)]
        if len(set(line_ids)) != len(line_ids):
            raise ProblemError(
                422,
                "invalid_request",
                "The request is not valid",
                "line_id values must be unique",
                errors=[{"field": "lines", "message": "duplicate line_id"}],
            )
        order_id = data.order_id or f"ord-{uuid.uuid4().hex[:20]}"
        cmd = commands.PlaceOrderInput(
            order_id=order_id,
            customer_id=data.customer_id,
            channel=data.channel,
            warehouse_id=data.warehouse_id,
            allow_backorder=data.allow_backorder,
            lines=tuple(
                commands.OrderLineInput(
                    line_id,
                    ln.sku,
                    ln.qty,
                    parse_money(ln.unit_price) if ln.unit_price is not None else None,
                    ln.requested_date,
                    ln.customer_line_ref,
                    ln.uom,
                )
                for line_id, ln in zip(line_ids, data.lines, strict=True)
            ),
            accepted_at=clock.now(),
            customer_po=data.customer_po,
            requested_date=data.requested_date,
            ship_to=ship_to_of(data.ship_to),
        )
        business = ("order", data.order_id) if data.order_id else None
        return await gateway.execute(request, cmd, data, order_answer(201, currency), business=business)

    @get("/", opt=tenant("read", LISTED), operation_id="ListOrders")
    async def list_orders(
        self,
        reads: NamedDependency[ReadModels],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        customers: NamedDependency[CustomerScope],
        customer_id: Annotated[str | None, Parameter(pattern=ID_PATTERN, required=False)] = None,
        status: Annotated[OrderStatus | None, Parameter(required=False)] = None,
        customer_po: Annotated[str | None, Parameter(min_length=1, max_length=64, required=False)] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        after: Annotated[int | None, Parameter(ge=0, le=MAX_POSITION, required=False)] = None,
        min_position: MinPosition = None,
    ) -> OrderList:
        position = await waits.for_read_models(("orders",), min_position)
        states, next_after = await anyio.to_thread.run_sync(
            reads.list_orders, customers.only, status, limit, after, customer_po
        )  # customers: the customer_id filter, narrowed to a scoped key's customers (api/tenancy.py)
        items = [order_view(s, currency) for s in states]
        return OrderList(items, None if next_after is None else str(next_after), position)

    @get("/{order_id:str}", opt=tenant("read", ORDER_PATH), operation_id="GetOrder")
    async def get_order(
        self,
        ledger: NamedDependency[Ledger],
        store: NamedDependency[EventStore],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        order_id: IdPath,
        min_position: MinPosition = None,
        as_of_version: Annotated[int | None, Parameter(ge=1, le=MAX_POSITION, required=False)] = None,
    ) -> OrderAtVersion:
        await waits.for_log(min_position)
        state, version = await anyio.to_thread.run_sync(ledger.load, ORDER, order_id, as_of_version)
        if state is None:
            raise NotFoundError(f"Order {order_id} does not exist", order_id=order_id)
        if as_of_version is not None and version < as_of_version:
            raise NotFoundError(f"Order {order_id} has only {version} versions", order_id=order_id, version=version)
        head = await anyio.to_thread.run_sync(store.public_head)
        return extended(OrderAtVersion, order_view(state, currency), version=version, position=head)

    @post(
        "/{order_id:str}/cancel",
        opt=tenant("orders:write", ORDER_PATH),
        operation_id="CancelOrder",
        status_code=200,
        responses=answers(OrderAnswer, 200),
    )
    async def cancel(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        currency: NamedDependency[str],
        order_id: IdPath,
        data: JSONBody[CancelOrderRequest] = NO_REASON,
    ) -> Response[bytes]:
        return await gateway.execute(
            request, commands.CancelOrder(order_id, data.reason), data, order_answer(200, currency)
        )

    @post(
        "/{order_id:str}/release-hold",
        opt=tenant("finance:write", ORDER_PATH),
        operation_id="ReleaseCreditHold",
        status_code=200,
        responses=answers(OrderAnswer, 200),
    )
    async def release_hold(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        currency: NamedDependency[str],
        order_id: IdPath,
        data: JSONBody[EmptyRequest] = NO_BODY,
    ) -> Response[bytes]:
        return await gateway.execute(request, commands.ReleaseHold(order_id), data, order_answer(200, currency))
