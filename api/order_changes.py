"""Changing an order (API.md "Changing an order"): POST /v1/orders/{order_id}/changes."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.commands import CommandGateway
from api.errors import invalid
from api.models import ChangeOrderRequest
from api.openapi import answers
from api.orders import order_answer
from api.reference import IdPath
from api.resources import OrderAnswer
from api.tenancy import ORDER_PATH, tenant
from domain.values import parse_money
from infra import commands
from infra.clock import Clock


class OrderChangesController(Controller):
    path = "/v1/orders"
    tags = ["orders"]

    @post(
        "/{order_id:str}/changes",
        opt=tenant("orders:write", ORDER_PATH),
        operation_id="ChangeOrder",
        status_code=200,
        responses=answers(OrderAnswer, 200),
    )
    async def change(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        clock: NamedDependency[Clock],
        currency: NamedDependency[str],
        order_id: IdPath,
        data: JSONBody[ChangeOrderRequest],
    ) -> Response[bytes]:
        lines, added = data.lines or [], data.add_lines or []
        if not lines and not added:
            raise invalid([{"field": "lines", "message": "a change needs at least one of lines and add_lines"}])
        cmd = commands.ChangeOrderInput(
            order_id=order_id,
            change_id=data.change_id,
            reason=data.reason,
            lines=tuple((ln.line_id, ln.qty) for ln in lines),
            add_lines=tuple(
                commands.AddLineInput(
                    ln.line_id,
                    ln.sku,
                    ln.qty,
                    parse_money(ln.unit_price) if ln.unit_price is not None else None,
                    ln.requested_date,
                    ln.customer_line_ref,
                    ln.uom,
                )
                for ln in added
            ),
            changed_at=clock.now(),
        )
        business = ("order-change", f"{order_id}/{data.change_id}")  # a change id is unique per order
        return await gateway.execute(request, cmd, data, order_answer(200, currency), business=business)
