"""Inventory commands: receipts, adjustments, counts, transfers; and position history."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, post

from api.body import parse
from api.commands import execute
from api.deps import Svc
from api.errors import ProblemError
from api.models import AdjustmentRequest, CountRequest, EmptyRequest, ReceiptRequest, TransferRequest
from api.reference import IdPath
from api.views import position_view, transfer_view
from domain import inventory
from infra import commands

WRITE = {"scope": "inventory:write"}


class InventoryController(Controller):
    path = "/v1/inventory"
    tags = ["inventory"]

    @post("/receipts", opt={**WRITE, "body": ReceiptRequest}, operation_id="RecordReceipt")
    async def receipt(self, request: Request[Any, Any, Any], svc: Svc) -> Response[bytes]:
        body, _ = await parse(request, ReceiptRequest)
        lines = tuple((ln.sku, ln.qty) for ln in body.lines)
        answer = {
            "receipt_id": body.receipt_id,
            "warehouse_id": body.warehouse_id,
            "lines": [{"sku": sku, "qty": qty} for sku, qty in lines],
        }
        cmd = commands.ReceiveStock(body.receipt_id, body.warehouse_id, lines)
        return await execute(request, svc, cmd, body, lambda _: (201, answer), business=("receipt", body.receipt_id))

    @post("/adjustments", opt={**WRITE, "body": AdjustmentRequest}, operation_id="RecordAdjustment")
    async def adjustment(self, request: Request[Any, Any, Any], svc: Svc) -> Response[bytes]:
        body, _ = await parse(request, AdjustmentRequest)
        if body.qty_delta == 0:
            raise ProblemError(
                422,
                "invalid_request",
                "The request is not valid",
                "qty_delta must not be zero",
                errors=[{"field": "qty_delta", "message": "must be a non-zero integer"}],
            )
        cmd = commands.AdjustStock(body.adjustment_id, body.warehouse_id, body.sku, body.qty_delta, body.reason)

        def answer(pos: inventory.Position) -> tuple[int, dict[str, Any]]:
            head = {"adjustment_id": body.adjustment_id, "qty_delta": body.qty_delta, "reason": body.reason}
            return 201, {**head, **position_view(pos)}

        return await execute(request, svc, cmd, body, answer, business=("adjustment", body.adjustment_id))

    @post("/counts", opt={**WRITE, "body": CountRequest}, operation_id="RecordCount")
    async def count(self, request: Request[Any, Any, Any], svc: Svc) -> Response[bytes]:
        body, _ = await parse(request, CountRequest)
        cmd = commands.CountStock(body.count_id, body.warehouse_id, body.sku, body.counted_qty)

        def answer(counted: commands.Counted) -> tuple[int, dict[str, Any]]:
            delta = body.counted_qty - counted.on_hand_before
            head = {"count_id": body.count_id, "counted_qty": body.counted_qty, "qty_delta": delta}
            return 201, {**head, **position_view(counted.position)}

        return await execute(request, svc, cmd, body, answer, business=("count", body.count_id))

    @post("/transfers", opt={**WRITE, "body": TransferRequest}, operation_id="StartTransfer")
    async def transfer(self, request: Request[Any, Any, Any], svc: Svc) -> Response[bytes]:
        body, _ = await parse(request, TransferRequest)
        cmd = commands.StartTransfer(body.transfer_id, body.from_warehouse_id, body.to_warehouse_id, body.sku, body.qty)
        answer = lambda state: (201, transfer_view(state))  # noqa: E731
        return await execute(request, svc, cmd, body, answer, business=("transfer", body.transfer_id))

    @post(
        "/transfers/{transfer_id:str}/receive",
        opt={**WRITE, "body": EmptyRequest},
        operation_id="ReceiveTransfer",
        status_code=200,
    )
    async def receive_transfer(self, request: Request[Any, Any, Any], svc: Svc, transfer_id: IdPath) -> Response[bytes]:
        body, _ = await parse(request, EmptyRequest, allow_empty=True)
        cmd = commands.ReceiveTransfer(transfer_id)
        return await execute(request, svc, cmd, body, lambda state: (200, transfer_view(state)))
