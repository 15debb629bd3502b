"""Inventory commands: receipts, adjustments, counts, transfers; and position history."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.commands import CommandGateway
from api.errors import ProblemError
from api.models import NO_BODY, AdjustmentRequest, CountRequest, EmptyRequest, ReceiptRequest, TransferRequest
from api.openapi import answers
from api.reference import IdPath
from api.resources import (
    Adjustment,
    AdjustmentAnswer,
    Count,
    CountAnswer,
    Receipt,
    ReceiptAnswer,
    SkuQty,
    TransferAnswer,
)
from api.tenancy import FORBIDDEN, tenant
from api.views import adjustment_view, count_view, transfer_view
from domain import inventory
from infra import commands

WRITE = tenant("inventory:write", FORBIDDEN)


class InventoryController(Controller):
    path = "/v1/inventory"
    tags = ["inventory"]

    @post("/receipts", opt=WRITE, operation_id="RecordReceipt", responses=answers(ReceiptAnswer))
    async def receipt(
        self, request: Request[Any, Any, Any], gateway: NamedDependency[CommandGateway], data: JSONBody[ReceiptRequest]
    ) -> Response[bytes]:
        lines = tuple((ln.sku, ln.qty) for ln in data.lines)
        answer = Receipt(data.receipt_id, data.warehouse_id, [SkuQty(sku, qty) for sku, qty in lines])
        cmd = commands.ReceiveStock(
            data.receipt_id, data.warehouse_id, lines, tuple(ln.expected_id for ln in data.lines)
        )
        return await gateway.execute(request, cmd, data, lambda _: (201, answer), business=("receipt", data.receipt_id))

    @post("/adjustments", opt=WRITE, operation_id="RecordAdjustment", responses=answers(AdjustmentAnswer))
    async def adjustment(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        data: JSONBody[AdjustmentRequest],
    ) -> Response[bytes]:
        if data.qty_delta == 0:
            raise ProblemError(
                422,
                "invalid_request",
                "The request is not valid",
                "qty_delta must not be zero",
                errors=[{"field": "qty_delta", "message": "must be a non-zero integer"}],
            )
        cmd = commands.AdjustStock(data.adjustment_id, data.warehouse_id, data.sku, data.qty_delta, data.reason)

        def answer(pos: inventory.Position) -> tuple[int, Adjustment]:
            return 201, adjustment_view(data.adjustment_id, data.qty_delta, data.reason, pos)

        return await gateway.execute(request, cmd, data, answer, business=("adjustment", data.adjustment_id))

    @post("/counts", opt=WRITE, operation_id="RecordCount", responses=answers(CountAnswer))
    async def count(
        self, request: Request[Any, Any, Any], gateway: NamedDependency[CommandGateway], data: JSONBody[CountRequest]
    ) -> Response[bytes]:
        cmd = commands.CountStock(data.count_id, data.warehouse_id, data.sku, data.counted_qty)

        def answer(counted: commands.Counted) -> tuple[int, Count]:
            delta = data.counted_qty - counted.on_hand_before
            return 201, count_view(data.count_id, data.counted_qty, delta, counted.position)

        return await gateway.execute(request, cmd, data, answer, business=("count", data.count_id))

    @post("/transfers", opt=WRITE, operation_id="StartTransfer", responses=answers(TransferAnswer))
    async def transfer(
        self, request: Request[Any, Any, Any], gateway: NamedDependency[CommandGateway], data: JSONBody[TransferRequest]
    ) -> Response[bytes]:
        cmd = commands.StartTransfer(
            data.transfer_id, data.from_warehouse_id, data.to_warehouse_id, data.sku, data.qty, data.expected_on
        )
        answer = lambda state: (201, transfer_view(state))  # noqa: E731
        return await gateway.execute(request, cmd, data, answer, business=("transfer", data.transfer_id))

    @post(
        "/transfers/{transfer_id:str}/receive",
        opt=WRITE,
        operation_id="ReceiveTransfer",
        status_code=200,
        responses=answers(TransferAnswer, 200),
    )
    async def receive_transfer(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        transfer_id: IdPath,
        data: JSONBody[EmptyRequest] = NO_BODY,
    ) -> Response[bytes]:
        cmd = commands.ReceiveTransfer(transfer_id)
        return await gateway.execute(request, cmd, data, lambda state: (200, transfer_view(state)))
