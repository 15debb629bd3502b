"""Receivables: payment terms, applying unapplied credit, aging, statements and dunning
(API.md "Receivables: terms, due dates, aging, statements, dunning")."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import JSONBody, Parameter, QueryParameter

from api.ar_resources import (
    Aging,
    AppliedAmount,
    CreditApplication,
    CreditApplicationAnswer,
    CustomerDunning,
    DunningNotice,
    DunningRun,
    DunningRunAnswer,
    OverdueInvoice,
    PaymentTerms,
    PaymentTermsAnswer,
    Statement,
)
from api.commands import CommandGateway
from api.deps import Waits
from api.errors import invalid
from api.models import ApplyCreditRequest, DunningRunRequest, PutPaymentTermsRequest
from api.openapi import answers, put_answers
from api.reference import IdPath, MinPosition, _put
from api.tenancy import CUSTOMER_PATH, FORBIDDEN, LISTED, OPEN, CustomerScope, tenant
from domain import dunning, terms
from domain.errors import NotFoundError
from domain.values import ID_PATTERN, format_money
from infra import commands
from infra.eventstore.store import EventStore
from infra.ledger.kinds import CUSTOMER, DUNNING, TERMS
from infra.ledger.ledger import Ledger
from infra.readside.readmodels import ReadModels
from infra.service import Service

CustomerFilter = Annotated[str | None, Parameter(pattern=ID_PATTERN, max_length=64, required=False)]


def terms_view(t: terms.PaymentTerms) -> PaymentTerms:
    pct = None if t.discount_percent is None else format_money(t.discount_percent)
    return PaymentTerms(t.terms_id, t.name, t.net_days, t.end_of_month, pct, t.discount_days)


def notice_view(n: dunning.DunningNoticeIssued) -> DunningNotice:
    invoices = [
        OverdueInvoice(i.invoice_id, i.number, i.due_date.isoformat(), format_money(i.open), i.days_past_due)
        for i in n.invoices
    ]
    return DunningNotice(n.customer_id, n.level, n.as_of.isoformat(), invoices, format_money(n.total_overdue))


def percent_of(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


async def dunning_run(
    request: Request[Any, Any, Any], gateway: CommandGateway, service: Service, waits: Waits, as_of: date, data: Any
) -> Response[bytes]:
    """Decide dunning for every customer with something open or a level to resolve, in one write
    (the read models only name the customers to look at; each decision reads the streams)."""
    await waits.for_read_models(("balances", "receivables"), None)
    candidates = await anyio.to_thread.run_sync(service.read.dunning_candidates)
    cmd = commands.RunDunning(as_of, tuple(candidates), service.settings.dunning_days)

    def answer(notices: list[dunning.DunningNoticeIssued]) -> tuple[int, DunningRun]:
        return 200, DunningRun(as_of.isoformat(), [notice_view(n) for n in notices])

    return await gateway.execute(request, cmd, data, answer)


class ReceivablesController(Controller):
    path = "/v1"
    tags = ["receivables"]

    @put(
        "/payment-terms/{terms_id:str}",
        opt=tenant("catalog:write", FORBIDDEN),
        operation_id="PutPaymentTerms",
        responses=put_answers(PaymentTermsAnswer),
    )
    async def put_terms(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        terms_id: IdPath,
        data: JSONBody[PutPaymentTermsRequest],
    ) -> Response[bytes]:
        cmd = terms.PutPaymentTerms(
            terms_id,
            data.name,
            data.net_days,
            data.end_of_month,
            percent_of(data.discount_percent),
            data.discount_days,
        )
        return await gateway.execute(request, cmd, data, _put(terms_view))

    @get("/payment-terms/{terms_id:str}", opt=tenant("read", OPEN), operation_id="GetPaymentTerms")
    async def get_terms(
        self,
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        terms_id: IdPath,
        min_position: MinPosition = None,
    ) -> PaymentTerms:
        await waits.for_log(min_position)
        state, _ = await anyio.to_thread.run_sync(ledger.load, TERMS, terms_id)
        if state is None:
            raise NotFoundError(f"Payment terms {terms_id} do not exist", terms_id=terms_id)
        return terms_view(state)

    @post(
        "/customers/{customer_id:str}/apply-credit",
        opt=tenant("finance:write", CUSTOMER_PATH),
        operation_id="ApplyCredit",
        status_code=200,
        responses=answers(CreditApplicationAnswer, 200),
    )
    async def apply_credit(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        customer_id: IdPath,
        data: JSONBody[ApplyCreditRequest],
    ) -> Response[bytes]:
        cmd = commands.ApplyCredit(data.application_id, customer_id, gateway.clock.today())

        def answer(done: commands.Applied) -> tuple[int, CreditApplication]:
            applied = [AppliedAmount(a.invoice_id, format_money(a.amount)) for a in done.applied]
            return 200, CreditApplication(done.application_id, applied, format_money(done.unapplied_credit))

        business = ("credit_application", data.application_id)
        return await gateway.execute(request, cmd, data, answer, business=business, keep_business=True)

    @get("/ar/aging", opt=tenant("read", LISTED), operation_id="GetAging", responses=answers(Aging, 200))
    async def aging(
        self,
        reads: NamedDependency[ReadModels],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        customers: NamedDependency[CustomerScope],
        as_of: Annotated[date, QueryParameter()],
        customer_id: CustomerFilter = None,
        min_position: MinPosition = None,
    ) -> dict[str, Any]:
        position = await waits.for_read_models(("receivables",), min_position)
        found = await anyio.to_thread.run_sync(
            reads.aging, as_of, customers.only, currency
        )  # customer_id: in customers
        return {**found, "position": position}

    @get(
        "/customers/{customer_id:str}/statement",
        opt=tenant("read", CUSTOMER_PATH),
        operation_id="GetStatement",
        responses=answers(Statement, 200),
    )
    async def statement(
        self,
        reads: NamedDependency[ReadModels],
        waits: NamedDependency[Waits],
        ledger: NamedDependency[Ledger],
        currency: NamedDependency[str],
        customer_id: IdPath,
        start: Annotated[date, QueryParameter(name="from")],
        end: Annotated[date, QueryParameter(name="to")],
        min_position: MinPosition = None,
    ) -> dict[str, Any]:
        if end < start:
            raise invalid([{"field": "to", "message": "must not be before from"}])
        position = await waits.for_read_models(("receivables",), min_position)
        known, _ = await anyio.to_thread.run_sync(ledger.load, CUSTOMER, customer_id)
        if known is None:
            raise NotFoundError(f"Customer {customer_id} does not exist", customer_id=customer_id)
        found = await anyio.to_thread.run_sync(reads.statement, customer_id, start, end, currency)
        return {**found, "position": position}

    @get(
        "/customers/{customer_id:str}/dunning",
        opt=tenant("read", CUSTOMER_PATH),
        operation_id="GetCustomerDunning",
        responses=answers(CustomerDunning, 200),
    )
    async def customer_dunning(
        self,
        ledger: NamedDependency[Ledger],
        store: NamedDependency[EventStore],
        waits: NamedDependency[Waits],
        customer_id: IdPath,
        min_position: MinPosition = None,
    ) -> CustomerDunning:
        await waits.for_log(min_position)
        known, _ = await anyio.to_thread.run_sync(ledger.load, CUSTOMER, customer_id)
        if known is None:
            raise NotFoundError(f"Customer {customer_id} does not exist", customer_id=customer_id)
        state, _ = await anyio.to_thread.run_sync(ledger.load, DUNNING, customer_id)
        head = await anyio.to_thread.run_sync(store.public_head)
        return CustomerDunning(customer_id, state.level, [notice_view(n) for n in state.notices], head)

    @post(
        "/admin/dunning/run",
        opt=tenant("admin", FORBIDDEN),
        operation_id="RunDunning",
        status_code=200,
        responses=answers(DunningRunAnswer, 200),
    )
    async def run_dunning(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        service: NamedDependency[Service],
        waits: NamedDependency[Waits],
        data: JSONBody[DunningRunRequest],
    ) -> Response[bytes]:
        as_of = data.as_of or gateway.clock.today()
        return await dunning_run(request, gateway, service, waits, as_of, data)
