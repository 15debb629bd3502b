"""Billing: invoices and credit notes (read), returns and payments (write), dead letters (admin)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter

from api.commands import CommandGateway
from api.deps import Waits
from api.models import NO_BODY, EmptyRequest, PaymentRequest, ReturnRequest
from api.openapi import answers
from api.queries import history
from api.read_resources import History
from api.reference import MAX_POSITION, MinPosition
from api.resources import (
    DeadLetterRetry,
    DeadLetterRetryAnswer,
    DeadLetters,
    InvoiceList,
    InvoiceStatus,
    InvoiceWithPosition,
    PaymentAnswer,
    Return,
    ReturnAnswer,
    SkuQty,
)
from api.tenancy import FORBIDDEN, INVOICE_PATH, LISTED, CustomerScope, Names, tenant
from api.views import extended, invoice_view, payment_view
from domain import invoice, payment
from domain.errors import NotFoundError
from domain.values import DOC_ID_PATTERN, ID_PATTERN, parse_money
from infra import commands
from infra.eventstore.store import EventStore
from infra.ledger.kinds import INVOICE
from infra.ledger.ledger import Ledger
from infra.readside.readmodels import ReadModels
from infra.service import Service

ADMIN = tenant("admin", FORBIDDEN)
DocId = Annotated[str, Parameter(pattern=DOC_ID_PATTERN, max_length=80)]


class InvoicesController(Controller):
    path = "/v1/invoices"
    tags = ["billing"]

    @get("/", opt=tenant("read", LISTED), operation_id="ListInvoices")
    async def list_invoices(
        self,
        reads: NamedDependency[ReadModels],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        customers: NamedDependency[CustomerScope],
        order_id: Annotated[str | None, Parameter(pattern=ID_PATTERN, required=False)] = None,
        customer_id: Annotated[str | None, Parameter(pattern=ID_PATTERN, required=False)] = None,
        status: Annotated[InvoiceStatus | None, Parameter(required=False)] = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        after: Annotated[int | None, Parameter(ge=0, le=MAX_POSITION, required=False)] = None,
        min_position: MinPosition = None,
    ) -> InvoiceList:
        position = await waits.for_read_models(("invoices",), min_position)
        found, next_after = await anyio.to_thread.run_sync(
            reads.list_invoices, order_id, customers.only, status, limit, after
        )  # customers: the customer_id filter, narrowed to a scoped key's customers (api/tenancy.py)
        items = [invoice_view(inv, currency) for inv in found]
        return InvoiceList(items, None if next_after is None else str(next_after), position)

    @get("/{invoice_id:str}", opt=tenant("read", INVOICE_PATH), operation_id="GetInvoice")
    async def get_invoice(
        self,
        ledger: NamedDependency[Ledger],
        store: NamedDependency[EventStore],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        invoice_id: DocId,
        min_position: MinPosition = None,
    ) -> InvoiceWithPosition:
        await waits.for_log(min_position)
        inv, _ = await anyio.to_thread.run_sync(ledger.load, INVOICE, invoice_id)
        if inv is None:
            raise NotFoundError(f"Invoice {invoice_id} does not exist", invoice_id=invoice_id)
        head = await anyio.to_thread.run_sync(store.public_head)
        return extended(InvoiceWithPosition, invoice_view(inv, currency), position=head)

    @get("/{invoice_id:str}/history", opt=tenant("read", INVOICE_PATH), operation_id="GetInvoiceHistory")
    async def invoice_history(
        self,
        store: NamedDependency[EventStore],
        waits: NamedDependency[Waits],
        invoice_id: DocId,
        min_position: MinPosition = None,
    ) -> History:
        await waits.for_log(min_position)
        result = await anyio.to_thread.run_sync(history, store, INVOICE, invoice_id)
        if not result.events:
            raise NotFoundError(f"Invoice {invoice_id} does not exist", invoice_id=invoice_id)
        return result


class FinanceController(Controller):
    path = "/v1"
    tags = ["billing"]

    @post(
        "/returns",
        opt=tenant("finance:write", Names(order="order_id")),
        operation_id="RecordReturn",
        responses=answers(ReturnAnswer),
    )
    async def record_return(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        currency: NamedDependency[str],
        data: JSONBody[ReturnRequest],
    ) -> Response[bytes]:
        cmd = commands.ReturnInput(
            data.return_id,
            data.order_id,
            data.warehouse_id,
            tuple((ln.sku, ln.qty) for ln in data.lines),
            data.restock,
            gateway.clock.today(),
        )

        def answer(note: invoice.Invoice) -> tuple[int, Return]:
            lines = [SkuQty(sku, qty) for sku, qty in cmd.lines]
            credit_note = invoice_view(note, currency)
            return 201, Return(
                data.return_id, data.order_id, data.warehouse_id, data.restock, lines, note.invoice_id, credit_note
            )

        return await gateway.execute(request, cmd, data, answer, business=("return", data.return_id))

    @post(
        "/payments",
        opt=tenant("finance:write", Names(customer="customer_id")),
        operation_id="ReceivePayment",
        responses=answers(PaymentAnswer),
    )
    async def receive_payment(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        currency: NamedDependency[str],
        data: JSONBody[PaymentRequest],
    ) -> Response[bytes]:
        amount = parse_money(data.amount)
        requested = (
            tuple(payment.Allocation(invoice_id=a.invoice_id, amount=parse_money(a.amount)) for a in data.allocations)
            if data.allocations is not None
            else None
        )
        received_on = data.received_on or gateway.clock.today()
        cmd = commands.ReceivePayment(data.payment_id, data.customer_id, amount, requested, received_on)
        answer = lambda received: (201, payment_view(received, currency))  # noqa: E731
        return await gateway.execute(request, cmd, data, answer, business=("payment", data.payment_id))


class DeadLettersController(Controller):
    path = "/v1/admin/dead-letters"
    tags = ["admin"]

    @get("/", opt=ADMIN, operation_id="ListDeadLetters", responses=answers(DeadLetters, 200))
    async def list_dead_letters(
        self, reads: NamedDependency[ReadModels], waits: NamedDependency[Waits], min_position: MinPosition = None
    ) -> dict[str, Any]:
        await waits.for_read_models(("invoices",), min_position)
        return {"items": await anyio.to_thread.run_sync(reads.dead_letters), "next_after": None}

    @post(
        "/{entry_id:str}/retry",
        opt=ADMIN,
        operation_id="RetryDeadLetter",
        status_code=200,
        responses=answers(DeadLetterRetryAnswer, 200),
    )
    async def retry(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        currency: NamedDependency[str],
        service: NamedDependency[Service],
        entry_id: DocId,
        data: JSONBody[EmptyRequest] = NO_BODY,
    ) -> Response[bytes]:

        def answer(inv: invoice.Invoice) -> tuple[int, DeadLetterRetry]:
            return 200, DeadLetterRetry(entry_id, "tax", f"invoice/{entry_id}", "retrying", invoice_view(inv, currency))

        if service.tax_worker is not None:
            service.tax_worker.wake()
        return await gateway.execute(request, commands.RetryDeadLetter(entry_id), data, answer)
