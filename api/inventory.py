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
from infra import commands
from infra.ledger.kinds import POSITION, position_key
from infra.ledger.unitofwork import UnitOfWork

WRITE = {"scope": "inventory:write"}


class InventoryController(Controller):
    path = "/v1/inventory"
    tags = ["inventory"]

    @post("/receipts", opt={**WRITE, "body": ReceiptRequest}, operation_id="RecordReceipt")
    async def receipt(self, request: Request[Any, Any, Any], svc: Svc) -> Response[bytes]:
        body, _ = await parse(request, ReceiptRequest)
        lines = [(ln.sku, ln.qty) for ln in body.lines]

        def handle(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
            commands.receive_stock(uow, body.receipt_id, body.warehouse_id, lines)
            return 201, {
                "receipt_id": body.receipt_id,
                "warehouse_id": body.warehouse_id,
                "lines": [{"sku": sku, "qty": qty} for sku, qty in lines],
            }

        return await execute(request, svc, handle, body, business=("receipt", body.receipt_id))

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

        def handle(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
            pos = commands.adjust_stock(
                uow, body.adjustment_id, body.warehouse_id, body.sku, body.qty_delta, body.reason
            )
            return 201, {
                "adjustment_id": body.adjustment_id,
                "qty_delta": body.qty_delta,
                "reason": body.reason,
                **position_view(pos),
            }

        return await execute(request, svc, handle, body, business=("adjustment", body.adjustment_id))

    @post("/counts", opt={**WRITE, "body": CountRequest}, operation_id="RecordCount")
    async def count(self, request: Request[Any, Any, Any], svc: Svc) -> Response[bytes]:
        body, _ = await parse(request, CountRequest)

        def handle(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
            before = uow.get(POSITION, position_key(body.sku, body.warehouse_id)).on_hand
            pos = commands.count_stock(uow, body.count_id, body.warehouse_id, body.sku, body.counted_qty)
            return 201, {
                "count_id": body.count_id,
                "counted_qty": body.counted_qty,
                "qty_delta": body.counted_qty - before,
                **position_view(pos),
            }

        return await execute(request, svc, handle, body, business=("count", body.count_id))

    @post("/transfers", opt={**WRITE, "body": TransferRequest}, operation_id="StartTransfer")
    async def transfer(self, request: Request[Any, Any, Any], svc: Svc) -> Response[bytes]:
        body, _ = await parse(request, TransferRequest)

        def handle(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
            state = commands.start_transfer(
                uow, body.transfer_id, body.from_warehouse_id, body.to_warehouse_id, body.sku, body.qty
            )
            return 201, transfer_view(state)

        return await execute(request, svc, handle, body, business=("transfer", body.transfer_id))

    @post(
        "/transfers/{transfer_id:str}/receive",
        opt={**WRITE, "body": EmptyRequest},
        operation_id="ReceiveTransfer",
        status_code=200,
    )
    async def receive_transfer(self, request: Request[Any, Any, Any], svc: Svc, transfer_id: IdPath) -> Response[bytes]:
        body, _ = await parse(request, EmptyRequest, allow_empty=True)

        def handle(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
            return 200, transfer_view(commands.receive_transfer(uow, transfer_id))

        return await execute(request, svc, handle, body)
