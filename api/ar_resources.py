"""What the receivables routes answer (API.md "Receivables: terms, due dates, aging, statements, dunning")."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from api.resources import Day, Money, Position, Resource, answer_of


class PaymentTerms(Resource):
    terms_id: str
    name: str
    net_days: Annotated[int, Meta(ge=0, le=365)]
    end_of_month: bool
    discount_percent: str | None
    discount_days: int | None


PaymentTermsAnswer = answer_of(PaymentTerms)


class AppliedAmount(Resource):
    invoice_id: str
    amount: Money


class CreditApplication(Resource):
    application_id: str
    applied: list[AppliedAmount]
    unapplied_credit: Money


CreditApplicationAnswer = answer_of(CreditApplication)


class AgingRow(Resource):
    current: Money
    days_1_30: Money
    days_31_60: Money
    days_61_90: Money
    days_over_90: Money
    total: Money
    unapplied_credit: Money


class CustomerAging(AgingRow, kw_only=True):
    customer_id: str


class Aging(Resource):
    as_of: Day
    currency: str
    customers: list[CustomerAging]
    totals: AgingRow
    position: Position


class StatementLine(Resource):
    date: Day
    kind: Literal["invoice", "credit_note", "payment", "discount"]
    ref: str
    amount: Money
    balance: Money


class Statement(Resource, rename={"start": "from", "end": "to"}):
    customer_id: str
    currency: str
    start: Day
    end: Day
    opening_balance: Money
    lines: list[StatementLine]
    closing_balance: Money
    position: Position


class OverdueInvoice(Resource):
    invoice_id: str
    number: int
    due_date: Day
    open: Money
    days_past_due: int


class DunningNotice(Resource):
    customer_id: str
    level: Annotated[int, Meta(ge=1)]
    as_of: Day
    invoices: list[OverdueInvoice]
    total_overdue: Money


class DunningRun(Resource):
    as_of: Day
    notices: list[DunningNotice]


DunningRunAnswer = answer_of(DunningRun)


class CustomerDunning(Resource):
    customer_id: str
    level: Annotated[int, Meta(ge=0)]
    notices: list[DunningNotice]
    position: Position
