"""Stock reconciliation: an outside system's snapshot (a WMS or 3PL) against on hand (API.md,
Reconciliation; decision 0024)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.commands import CommandGateway
from api.deps import Waits
from api.errors import ProblemError
from api.models import ReconciliationRequest
from api.openapi import answers
from api.resources import ReconciledLine, Reconciliation, ReconciliationAnswer
from api.tenancy import FORBIDDEN, tenant
from infra import commands
from infra.eventstore.store import EventStore
from infra.readside.readmodels import ReadModels

WRITE = tenant("inventory:write", FORBIDDEN)  # stock commands are closed to portal keys


def _one_line_per_sku(data: ReconciliationRequest) -> None:
    twice = sorted(sku for sku, n in Counter(ln.sku for ln in data.lines).items() if n > 1)
    if twice:
        raise ProblemError(
            422,
            "invalid_request",
            "The request is not valid",
            f"each SKU may appear once in lines: {', '.join(twice)} appear more than once",
            errors=[{"field": "lines", "message": f"duplicate sku {sku}"} for sku in twice],
        )


def reconciliation_view(data: ReconciliationRequest, found: commands.Reconciled) -> Reconciliation:
    lines = [ReconciledLine(sku, qty, on_hand, qty - on_hand) for sku, qty, on_hand in found.lines]
    matched = sum(1 for ln in lines if ln.difference == 0)
    return Reconciliation(
        data.reconciliation_id, data.warehouse_id, lines, matched, len(lines) - matched, found.applied
    )


class ReconciliationsController(Controller):
    path = "/v1/inventory"
    tags = ["inventory"]

    @post("/reconciliations", opt=WRITE, operation_id="ReconcileStock", responses=answers(ReconciliationAnswer))
    async def reconcile(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        reads: NamedDependency[ReadModels],
        waits: NamedDependency[Waits],
        store: NamedDependency[EventStore],
        data: JSONBody[ReconciliationRequest],
    ) -> Response[bytes]:
        _one_line_per_sku(data)
        also: tuple[str, ...] = ()
        if data.complete:  # the SKUs with stock here, from ATP once it has read the whole log (decision 0024)
            await waits.for_read_models(("atp",), await anyio.to_thread.run_sync(store.head))
            also = tuple(await anyio.to_thread.run_sync(reads.skus_on_hand, data.warehouse_id))
        lines = tuple((ln.sku, ln.qty) for ln in data.lines)
        cmd = commands.Reconcile(data.reconciliation_id, data.warehouse_id, lines, also, data.apply)

        def answer(found: commands.Reconciled) -> tuple[int, Reconciliation]:
            return 201, reconciliation_view(data, found)

        business = ("reconciliation", data.reconciliation_id)
        return await gateway.execute(request, cmd, data, answer, business=business, keep_business=True)
