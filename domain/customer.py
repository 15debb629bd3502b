"""Customer reference data (credit limit, tax region, status, contract prices) and its account."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal, TypedDict

from domain.events import Event, register
from domain.values import ZERO, add, subtract

CustomerStatus = Literal["active", "blocked"]


class CustomerRegistered(Event, frozen=True, kw_only=True):
    customer_id: str
    name: str
    credit_limit: Decimal
    tax_region: str
    status: str


class CustomerRevised(Event, frozen=True, kw_only=True):
    customer_id: str
    name: str
    credit_limit: Decimal
    tax_region: str
    status: str


class ContractPriceSet(Event, frozen=True, kw_only=True):
    customer_id: str
    sku: str
    unit_price: Decimal
    previous_unit_price: Decimal | None = None


class CreditCommitted(Event, frozen=True, kw_only=True):
    """An accepted order's value now counts against the customer's credit."""

    customer_id: str
    order_id: str
    amount: Decimal


class CreditReleased(Event, frozen=True, kw_only=True):
    """Order value no longer counts against credit (cancelled qty)."""

    customer_id: str
    order_id: str
    amount: Decimal
    reason: str


class ReceivableBooked(Event, frozen=True, kw_only=True):
    """An issued invoice moved order value from unbilled to open receivables."""

    customer_id: str
    invoice_id: str
    unbilled: Decimal  # the invoiced goods value leaving `unbilled`
    amount: Decimal  # the invoice total joining open receivables


class CreditNoteBooked(Event, frozen=True, kw_only=True):
    """A credit note's total (negative): the part its invoices took lowers open receivables, the
    rest (`unapplied`, positive) is the customer's unapplied credit."""

    customer_id: str
    credit_note_id: str
    amount: Decimal
    unapplied: Decimal = ZERO


class PaymentBooked(Event, frozen=True, kw_only=True):
    customer_id: str
    payment_id: str
    applied: Decimal
    unapplied: Decimal


register(
    CustomerRegistered,
    CustomerRevised,
    ContractPriceSet,
    CreditCommitted,
    CreditReleased,
    ReceivableBooked,
    CreditNoteBooked,
    PaymentBooked,
)


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    credit_limit: Decimal
    tax_region: str
    status: str
    prices: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class PutCustomer:
    customer_id: str
    name: str
    credit_limit: Decimal
    tax_region: str
    status: CustomerStatus


@dataclass(frozen=True)
class SetContractPrice:
    customer_id: str
    sku: str
    unit_price: Decimal


def evolve_customer(state: Customer | None, event: Event) -> Customer | None:
    if isinstance(event, CustomerRegistered | CustomerRevised):
        prices = state.prices if state else {}
        return Customer(event.customer_id, event.name, event.credit_limit, event.tax_region, event.status, prices)
    if isinstance(event, ContractPriceSet) and state is not None:
        return replace(state, prices={**state.prices, event.sku: event.unit_price})
    return state


class _CustomerFacts(TypedDict):
    """The facts CustomerRegistered and CustomerRevised share, typed for `**` unpacking."""

    customer_id: str
    name: str
    credit_limit: Decimal
    tax_region: str
    status: str


def decide_put_customer(state: Customer | None, cmd: PutCustomer) -> list[Event]:
    facts = _CustomerFacts(
        customer_id=cmd.customer_id,
        name=cmd.name,
        credit_limit=cmd.credit_limit,
        tax_region=cmd.tax_region,
        status=cmd.status,
    )
    if state is None:
        return [CustomerRegistered(**facts)]
    current = (state.name, state.credit_limit, state.tax_region, state.status)
    if current == (cmd.name, cmd.credit_limit, cmd.tax_region, cmd.status):
        return []
    return [CustomerRevised(**facts)]


def decide_set_contract_price(state: Customer, cmd: SetContractPrice) -> list[Event]:
    previous = state.prices.get(cmd.sku)
    if previous == cmd.unit_price:
        return []
    return [
        ContractPriceSet(
            customer_id=cmd.customer_id,
            sku=cmd.sku,
            unit_price=cmd.unit_price,
            previous_unit_price=previous,
        )
    ]


def price_for(customer: Customer, sku: str, list_price: Decimal) -> Decimal:
    """The contract price for the SKU if the customer has one, else the list price."""
    return customer.prices.get(sku, list_price)


@dataclass(frozen=True)
class Account:
    """What counts against a customer's credit: unbilled order value plus open receivables."""

    customer_id: str
    unbilled: Decimal = ZERO
    committed: dict[str, Decimal] = field(default_factory=dict)
    open_ar: Decimal = ZERO
    unapplied_credit: Decimal = ZERO
    invoices: tuple[str, ...] = ()  # issued invoice ids, in issue order (payments go oldest first)

    @property
    def exposure(self) -> Decimal:
        return add(self.unbilled, self.open_ar)


def evolve_account(state: Account | None, event: Event) -> Account | None:
    if isinstance(event, CreditCommitted):
        acc = state or Account(event.customer_id)
        committed = {**acc.committed, event.order_id: event.amount}
        return replace(acc, unbilled=add(acc.unbilled, event.amount), committed=committed)
    if isinstance(event, ReceivableBooked | CreditNoteBooked | PaymentBooked):
        acc = state or Account(event.customer_id)
        if isinstance(event, ReceivableBooked):
            return replace(
                acc,
                unbilled=subtract(acc.unbilled, event.unbilled),
                open_ar=add(acc.open_ar, event.amount),
                invoices=(*acc.invoices, event.invoice_id),
            )
        if isinstance(event, CreditNoteBooked):
            return replace(
                acc,
                open_ar=add(acc.open_ar, event.amount, event.unapplied),
                unapplied_credit=add(acc.unapplied_credit, event.unapplied),
            )
        return replace(
            acc,
            open_ar=subtract(acc.open_ar, event.applied),
            unapplied_credit=add(acc.unapplied_credit, event.unapplied),
        )
    if isinstance(event, CreditReleased) and state is not None:
        left = subtract(state.committed.get(event.order_id, ZERO), event.amount)
        return replace(
            state,
            unbilled=subtract(state.unbilled, event.amount),
            committed={**state.committed, event.order_id: left},
        )
    return state


def is_over_limit(customer: Customer, account: Account | None, order_value: Decimal) -> bool:
    exposure = account.exposure if account else ZERO
    return add(order_value, exposure) > customer.credit_limit
