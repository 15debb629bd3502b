"""Stock reconciliation: an outside system's snapshot (a WMS or 3PL) against on hand (API.md,
Reconciliation; decision 0024)."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api import snapshot_csv
from api.body import media_of
from api.commands import CommandGateway
from api.deps import Waits
from api.errors import ProblemError
from api.models import MAX_SNAPSHOT_LINES, ReconciliationRequest
from api.openapi import answers
from api.resources import ReconciledLine, Reconciliation, ReconciliationAnswer
from api.tenancy import FORBIDDEN, tenant
from domain.errors import DomainError, UnknownSkuError
from infra import commands
from infra.eventstore.store import EventStore
from infra.readside.readmodels import ReadModels

WRITE = tenant("inventory:write", FORBIDDEN)  # stock commands are closed to portal keys
MAX_SNAPSHOT_BODY = 8 * 1024 * 1024  # 50,000 lines of 64-character SKUs and 10-digit counts fit, pretty-printed


def _csv_lines(raw: bytes, exc: DomainError) -> DomainError:
    """An unknown SKU of the CSV form, restated with the file lines that name it."""
    if not isinstance(exc, UnknownSkuError):
        return exc
    numbers = snapshot_csv.line_numbers(raw)
    skus = list(exc.facts.get("skus") or [exc.facts.get("sku")])
    where = [numbers.get(sku, 0) for sku in skus]
    named = ", ".join(f"{sku} (line {n})" for sku, n in zip(skus, where, strict=True))
    return UnknownSkuError(f"Unknown SKU: {named}", sku=skus[0], skus=skus, lines=where)


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

    @post(
        "/reconciliations",
        opt=WRITE | {"text_form": snapshot_csv.FORM},
        operation_id="ReconcileStock",
        responses=answers(ReconciliationAnswer),
        request_max_body_size=MAX_SNAPSHOT_BODY,
    )
    async def reconcile(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        reads: NamedDependency[ReadModels],
        waits: NamedDependency[Waits],
        store: NamedDependency[EventStore],
        data: JSONBody[ReconciliationRequest],
    ) -> Response[bytes]:
        """The JSON form, or the CSV form (`text/csv`, the other fields as query parameters; api/snapshot_csv.py)
        parsed into the same request: the same answers, the same idempotency."""
        if len(data.lines) > MAX_SNAPSHOT_LINES:
            raise snapshot_csv.too_many_lines()
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
        restate = None
        if media_of(request.headers) == snapshot_csv.MEDIA:
            restate = partial(_csv_lines, await request.body())
        return await gateway.execute(request, cmd, data, answer, business=business, keep_business=True, restate=restate)
