"""Customer reference data (credit limit, tax region, status, contract prices); its account is
domain/account.py (re-exported here, as before)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Literal, TypedDict, assert_never

from domain.account import (
    Account,
    AccountCommand,
    BookCreditNote,
    BookPayment,
    BookReceivable,
    CommitCredit,
    CreditCommitted,
    CreditNoteBooked,
    CreditReleased,
    DiscountBooked,
    PaymentBooked,
    ReceivableBooked,
    ReleaseCredit,
    account_decider,
    book_credit_note,
    book_payment,
    book_receivable,
    commit_credit,
    decide_account,
    evolve_account,
    exceeds_credit,
    initial_account,
    release_credit,
)
from domain.decider import Decider
from domain.errors import CustomerBlockedError, NotFoundError, UnknownCustomerError
from domain.events import Event, register
from domain.values import ZERO

CustomerStatus = Literal["active", "blocked"]


class CustomerRegistered(Event, frozen=True, kw_only=True):
    customer_id: str
    name: str
    credit_limit: Decimal
    tax_region: str
    status: str
    price_list_id: str | None = None  # added with price lists: customers registered before have none
    payment_terms_id: str | None = None


class CustomerRevised(Event, frozen=True, kw_only=True):
    customer_id: str
    name: str
    credit_limit: Decimal
    tax_region: str
    status: str
    price_list_id: str | None = None
    payment_terms_id: str | None = None


class ContractPriceSet(Event, frozen=True, kw_only=True):
    customer_id: str
    sku: str
    unit_price: Decimal
    previous_unit_price: Decimal | None = None


register(CustomerRegistered, CustomerRevised, ContractPriceSet)


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    credit_limit: Decimal
    tax_region: str
    status: str
    prices: dict[str, Decimal] = field(default_factory=dict)
    price_list_id: str | None = None
    payment_terms_id: str | None = None


@dataclass(frozen=True)
class PutCustomer:
    customer_id: str
    name: str
    credit_limit: Decimal
    tax_region: str
    status: CustomerStatus
    price_list_id: str | None = None
    payment_terms_id: str | None = None


@dataclass(frozen=True)
class SetContractPrice:
    customer_id: str
    sku: str
    unit_price: Decimal


def evolve_customer(state: Customer | None, event: Event) -> Customer | None:
    if isinstance(event, CustomerRegistered | CustomerRevised):
        prices = state.prices if state else {}
        return Customer(
            event.customer_id,
            event.name,
            event.credit_limit,
            event.tax_region,
            event.status,
            prices,
            event.price_list_id,
            event.payment_terms_id,
        )
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
    price_list_id: str | None
    payment_terms_id: str | None


def decide_put_customer(state: Customer | None, cmd: PutCustomer) -> list[Event]:
    facts = _CustomerFacts(
        customer_id=cmd.customer_id,
        name=cmd.name,
        credit_limit=cmd.credit_limit,
        tax_region=cmd.tax_region,
        status=cmd.status,
        price_list_id=cmd.price_list_id,
        payment_terms_id=cmd.payment_terms_id,
    )
    if state is None:
        return [CustomerRegistered(**facts)]
    current = (
        state.name,
        state.credit_limit,
        state.tax_region,
        state.status,
        state.price_list_id,
        state.payment_terms_id,
    )
    wanted = (cmd.name, cmd.credit_limit, cmd.tax_region, cmd.status, cmd.price_list_id, cmd.payment_terms_id)
    if current == wanted:
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


def ensure_exists(customer: Customer | None, customer_id: str) -> Customer:
    """The customer a command names; 422 unknown_customer when there is none."""
    if customer is None:
        raise UnknownCustomerError(f"Customer {customer_id} does not exist", customer_id=customer_id)
    return customer


def ensure_may_order(customer: Customer | None, customer_id: str) -> Customer:
    """Only a known customer that is not blocked may place orders (checked in that order)."""
    buyer = ensure_exists(customer, customer_id)
    if buyer.status == "blocked":
        raise CustomerBlockedError(f"Customer {customer_id} is blocked", customer_id=customer_id)
    return buyer


def is_over_limit(customer: Customer, account: Account | None, order_value: Decimal) -> bool:
    return exceeds_credit(order_value, account.exposure if account else ZERO, customer.credit_limit)


CustomerCommand = PutCustomer | SetContractPrice


def initial_customer(customer_id: str) -> Customer | None:
    return None


def decide_customer(command: CustomerCommand, state: Customer | None) -> list[Event]:
    match command:
        case PutCustomer():
            return decide_put_customer(state, command)
        case SetContractPrice(customer_id=customer_id):
            if state is None:
                raise NotFoundError(f"Customer {customer_id} does not exist", customer_id=customer_id)
            return decide_set_contract_price(state, command)
    assert_never(command)


customer_decider: Decider[CustomerCommand, Customer | None] = Decider(
    decide_customer, evolve_customer, initial_customer
)

__all__ = [  # the account's names stay importable from here, as before domain/account.py
    "Account",
    "AccountCommand",
    "BookCreditNote",
    "BookPayment",
    "BookReceivable",
    "CommitCredit",
    "ContractPriceSet",
    "CreditCommitted",
    "CreditNoteBooked",
    "CreditReleased",
    "Customer",
    "CustomerCommand",
    "CustomerRegistered",
    "CustomerRevised",
    "CustomerStatus",
    "DiscountBooked",
    "PaymentBooked",
    "PutCustomer",
    "ReceivableBooked",
    "ReleaseCredit",
    "SetContractPrice",
    "account_decider",
    "book_credit_note",
    "book_payment",
    "book_receivable",
    "commit_credit",
    "customer_decider",
    "decide_account",
    "decide_customer",
    "decide_put_customer",
    "decide_set_contract_price",
    "ensure_exists",
    "ensure_may_order",
    "evolve_account",
    "evolve_customer",
    "exceeds_credit",
    "initial_account",
    "initial_customer",
    "is_over_limit",
    "release_credit",
]
