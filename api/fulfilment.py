"""Fulfilment: shipments from allocated stock and proof of delivery."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.commands import Answer, CommandGateway
from api.deps import Waits
from api.errors import ProblemError
from api.models import DeliveryRequest, ShipmentRequest
from api.openapi import answers
from api.reference import IdPath, MinPosition
from api.resources import Shipment, ShipmentAnswer
from api.tenancy import SHIPMENT_PATH, Names, tenant
from api.views import shipment_view
from domain.errors import NotFoundError
from domain.values import parse_money
from infra import commands
from infra.clock import Clock
from infra.ledger.kinds import INVOICE, SHIPMENT
from infra.ledger.ledger import Ledger

WRITE = tenant("shipments:write", SHIPMENT_PATH)


RFC3339 = re.compile(r"\A\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})\Z")


def parse_rfc3339(text: str, field: str) -> datetime:
    value = None
    if RFC3339.match(text):
        try:
            value = datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
            value.astimezone(UTC)  # year 9999 with a negative offset does not fit in UTC
        except (ValueError, OverflowError):
            value = None
    if value is None or value.tzinfo is None:
        raise ProblemError(
            422,
            "invalid_request",
            "The request is not valid",
            f"{field} must be an RFC 3339 date-time with offset",
            errors=[{"field": field, "message": "must be an RFC 3339 date-time such as 2026-11-26T10:00:00Z"}],
        )
    return value.astimezone(UTC)


def _answer(status: int, currency: str) -> Answer:
    return lambda done: (status, shipment_view(done.shipment, currency, done.invoice_id))


class ShipmentsController(Controller):
    path = "/v1/shipments"
    tags = ["fulfilment"]

    @post(
        "/",
        opt=tenant("shipments:write", Names(order="order_id")),
        operation_id="ConfirmShipment",
        responses=answers(ShipmentAnswer),
    )
    async def ship(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        clock: NamedDependency[Clock],
        currency: NamedDependency[str],
        data: JSONBody[ShipmentRequest],
    ) -> Response[bytes]:
        cmd = commands.ShipInput(
            shipment_id=data.shipment_id,
            order_id=data.order_id,
            warehouse_id=data.warehouse_id,
            lines=tuple((ln.sku, ln.qty) for ln in data.lines),
            carrier=data.carrier,
            tracking=data.tracking,
            freight=parse_money(data.freight),
            shipped_at=clock.now(),
        )
        answer = _answer(201, currency)
        return await gateway.execute(request, cmd, data, answer, business=("shipment", data.shipment_id))

    @post(
        "/{shipment_id:str}/delivery",
        opt=WRITE,
        operation_id="RecordDelivery",
        status_code=200,
        responses=answers(ShipmentAnswer, 200),
    )
    async def deliver(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        currency: NamedDependency[str],
        shipment_id: IdPath,
        data: JSONBody[DeliveryRequest],
    ) -> Response[bytes]:
        delivered_at = parse_rfc3339(data.delivered_at, "delivered_at")
        cmd = commands.RecordDelivery(shipment_id, delivered_at, data.signed_by)
        return await gateway.execute(request, cmd, data, _answer(200, currency))

    @get("/{shipment_id:str}", opt=tenant("read", SHIPMENT_PATH), operation_id="GetShipment")
    async def get_shipment(
        self,
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        shipment_id: IdPath,
        min_position: MinPosition = None,
    ) -> Shipment:
        await waits.for_log(min_position)
        state, _ = await anyio.to_thread.run_sync(ledger.load, SHIPMENT, shipment_id)
        if state is None:
            raise NotFoundError(f"Shipment {shipment_id} does not exist", shipment_id=shipment_id)
        inv, _ = await anyio.to_thread.run_sync(ledger.load, INVOICE, commands.invoice_id_for(shipment_id))
        return shipment_view(state, currency, inv.invoice_id if inv else None)
