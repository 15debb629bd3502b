"""Expected supply: expected receipts (API.md "Expected supply and promise dates")."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.commands import CommandGateway
from api.deps import Waits
from api.errors import invalid
from api.models import CloseRequest, ExpectedReceiptChangeRequest, ExpectedReceiptRequest
from api.openapi import answers
from api.reference import IdPath, MinPosition
from api.resources import ExpectedReceiptAnswer, ExpectedReceiptWithPosition
from api.tenancy import FORBIDDEN, tenant
from api.views import expected_view, extended
from domain import expected
from domain.errors import NotFoundError
from infra.eventstore.store import EventStore
from infra.ledger.kinds import EXPECTED
from infra.ledger.ledger import Ledger

WRITE = tenant("inventory:write", FORBIDDEN)


def _answer(status: int) -> Any:
    return lambda state: (status, expected_view(state))


class ExpectedReceiptsController(Controller):
    path = "/v1/inventory/expected-receipts"
    tags = ["inventory"]

    @post("/", opt=WRITE, operation_id="CreateExpectedReceipt", responses=answers(ExpectedReceiptAnswer))
    async def create(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        data: JSONBody[ExpectedReceiptRequest],
    ) -> Response[bytes]:
        cmd = expected.CreateExpectedReceipt(
            data.expected_id, data.warehouse_id, data.sku, data.qty, data.expected_on, data.reference
        )
        business = ("expected-receipt", data.expected_id)
        return await gateway.execute(request, cmd, data, _answer(201), business=business)

    @get("/{expected_id:str}", opt=tenant("read", FORBIDDEN), operation_id="GetExpectedReceipt")
    async def get_expected(
        self,
        ledger: NamedDependency[Ledger],
        store: NamedDependency[EventStore],
        waits: NamedDependency[Waits],
        expected_id: IdPath,
        min_position: MinPosition = None,
    ) -> ExpectedReceiptWithPosition:
        await waits.for_log(min_position)
        state, _ = await anyio.to_thread.run_sync(ledger.load, EXPECTED, expected_id)
        if state is None:
            raise NotFoundError(f"Expected receipt {expected_id} does not exist", expected_id=expected_id)
        head = await anyio.to_thread.run_sync(store.public_head)
        return extended(ExpectedReceiptWithPosition, expected_view(state), position=head)

    @post(
        "/{expected_id:str}/changes",
        opt=WRITE,
        operation_id="ChangeExpectedReceipt",
        status_code=200,
        responses=answers(ExpectedReceiptAnswer, 200),
    )
    async def change(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        expected_id: IdPath,
        data: JSONBody[ExpectedReceiptChangeRequest],
    ) -> Response[bytes]:
        if data.expected_on is None and data.qty is None:
            raise invalid([{"field": "expected_on", "message": "a change needs expected_on or qty"}])
        cmd = expected.ChangeExpectedReceipt(expected_id, data.expected_on, data.qty)
        return await gateway.execute(request, cmd, data, _answer(200))

    @post(
        "/{expected_id:str}/close",
        opt=WRITE,
        operation_id="CloseExpectedReceipt",
        status_code=200,
        responses=answers(ExpectedReceiptAnswer, 200),
    )
    async def close(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        expected_id: IdPath,
        data: JSONBody[CloseRequest],
    ) -> Response[bytes]:
        cmd = expected.CloseExpectedReceipt(expected_id, data.reason)
        return await gateway.execute(request, cmd, data, _answer(200))
