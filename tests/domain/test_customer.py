"""Customers: reference data, contract prices, and the account that credit checks read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
from msgspec.structs import replace

from domain.catalog import Product
from domain.customer import (
    Account,
    ContractPriceSet,
    CreditCommitted,
    CreditReleased,
    Customer,
    CustomerRegistered,
    CustomerRevised,
    CustomerStatus,
    PutCustomer,
    SetContractPrice,
    customer_decider,
    decide_put_customer,
    decide_set_contract_price,
    evolve_account,
    evolve_customer,
    is_over_limit,
)
from domain.errors import NotFoundError
from domain.pricing import Quote, offers
from tests.spec import given, spec

DAY = date(2026, 12, 2)

C1 = CustomerRegistered(customer_id="C1", name="Acme", credit_limit=Decimal("500.00"), tax_region="CA", status="active")
BOLT_AT_8 = ContractPriceSet(customer_id="C1", sku="BOLT-10", unit_price=Decimal("8.00"))


def put(
    name: str = "Acme", limit: str = "500.00", region: str = "CA", status: CustomerStatus = "active"
) -> PutCustomer:
    return PutCustomer("C1", name, Decimal(limit), region, status)


def test_a_new_customer_is_registered() -> None:
    state = given(evolve_customer, None).when(lambda s: decide_put_customer(s, put())).then(C1)
    assert state == Customer("C1", "Acme", Decimal("500.00"), "CA", "active", {})


def test_a_changed_credit_limit_revises_the_customer() -> None:
    given(evolve_customer, None, C1).when(lambda s: decide_put_customer(s, put(limit="750.00"))).then(
        CustomerRevised(customer_id="C1", name="Acme", credit_limit=Decimal("750.00"), tax_region="CA", status="active")
    )


def test_blocking_a_customer_revises_it() -> None:
    state = (
        given(evolve_customer, None, C1)
        .when(lambda s: decide_put_customer(s, put(status="blocked")))
        .then(
            CustomerRevised(
                customer_id="C1", name="Acme", credit_limit=Decimal("500.00"), tax_region="CA", status="blocked"
            )
        )
    )
    assert state is not None and state.status == "blocked"


def test_putting_the_same_customer_again_records_nothing() -> None:
    given(evolve_customer, None, C1).when(lambda s: decide_put_customer(s, put(limit="500"))).then()


def test_a_revision_keeps_the_customers_contract_prices() -> None:
    state = (
        given(evolve_customer, None, C1, BOLT_AT_8)
        .when(lambda s: decide_put_customer(s, put(region="TX")))
        .then(
            CustomerRevised(
                customer_id="C1", name="Acme", credit_limit=Decimal("500.00"), tax_region="TX", status="active"
            )
        )
    )
    assert state is not None and state.prices == {"BOLT-10": Decimal("8.00")}


def test_a_first_contract_price_has_no_previous_price() -> None:
    state = (
        given(evolve_customer, None, C1)
        .when(lambda s: decide_set_contract_price(s, SetContractPrice("C1", "BOLT-10", Decimal("8.00"))))
        .then(BOLT_AT_8)
    )
    assert state is not None and state.prices == {"BOLT-10": Decimal("8.00")}


def test_a_changed_contract_price_records_the_previous_one() -> None:
    given(evolve_customer, None, C1, BOLT_AT_8).when(
        lambda s: decide_set_contract_price(s, SetContractPrice("C1", "BOLT-10", Decimal("7.75")))
    ).then(
        ContractPriceSet(
            customer_id="C1", sku="BOLT-10", unit_price=Decimal("7.75"), previous_unit_price=Decimal("8.00")
        )
    )


def test_setting_the_same_contract_price_again_records_nothing() -> None:
    given(evolve_customer, None, C1, BOLT_AT_8).when(
        lambda s: decide_set_contract_price(s, SetContractPrice("C1", "BOLT-10", Decimal("8.00")))
    ).then()


def test_the_contract_price_wins_over_the_list_price() -> None:
    customer = given(evolve_customer, None, C1, BOLT_AT_8).state
    assert customer is not None
    bolt = Product("BOLT-10", "Bolt", Decimal("8.50"), "EA")
    assert offers(customer, None, {"BOLT-10": bolt})["BOLT-10"].quote(1, DAY) == Quote(Decimal("8.00"), "contract")


def test_without_a_contract_price_the_list_price_applies() -> None:
    customer = given(evolve_customer, None, C1, BOLT_AT_8).state
    assert customer is not None
    nut = Product("NUT-4", "Nut", Decimal("0.25"), "EA")
    assert offers(customer, None, {"NUT-4": nut})["NUT-4"].quote(1, DAY) == Quote(Decimal("0.25"), "product")


def test_a_customer_takes_a_price_list_and_a_put_without_one_takes_it_away() -> None:
    on_list = PutCustomer("C1", "Acme", Decimal("500.00"), "CA", "active", "PL-1")
    revised = CustomerRevised(
        customer_id="C1", name="Acme", credit_limit=Decimal("500.00"), tax_region="CA", status="active"
    )
    state = given(evolve_customer, None, C1, BOLT_AT_8).when(lambda s: decide_put_customer(s, on_list))
    listed = state.then(replace(revised, price_list_id="PL-1"))
    assert listed is not None and (listed.price_list_id, listed.prices) == ("PL-1", {"BOLT-10": Decimal("8.00")})
    given(evolve_customer, listed).when(lambda s: decide_put_customer(s, on_list)).then()
    off = given(evolve_customer, listed).when(lambda s: decide_put_customer(s, put())).then(revised)
    assert off is not None and off.price_list_id is None


def test_a_customer_registered_before_price_lists_decodes_without_one() -> None:
    old = b'{"customer_id":"C1","name":"Acme","credit_limit":"500.00","tax_region":"CA","status":"active"}'
    event = msgspec.json.decode(old, type=CustomerRegistered)
    assert event.price_list_id is None
    state = evolve_customer(None, event)
    assert state is not None and state.price_list_id is None


def test_committed_orders_add_to_the_customers_exposure() -> None:
    account = given(
        evolve_account,
        None,
        CreditCommitted(customer_id="C1", order_id="SO-1", amount=Decimal("100.00")),
        CreditCommitted(customer_id="C1", order_id="SO-2", amount=Decimal("20.50")),
    ).state
    assert account == Account("C1", Decimal("120.50"))
    assert account.exposure == Decimal("120.50")


def test_released_credit_no_longer_counts_against_the_customer() -> None:
    account = given(
        evolve_account,
        None,
        CreditCommitted(customer_id="C1", order_id="SO-1", amount=Decimal("100.00")),
        CreditCommitted(customer_id="C1", order_id="SO-2", amount=Decimal("20.50")),
        CreditReleased(customer_id="C1", order_id="SO-1", amount=Decimal("60.00"), reason="order_cancelled"),
    ).state
    assert account is not None
    assert account.exposure == account.unbilled == Decimal("60.50")


def test_an_order_that_takes_exposure_over_the_limit_is_over_the_limit() -> None:
    # EXAMPLES.md section 4: limit 500.00, exposure 420.00, a new order of 90.00 -> 510.00 > 500.00
    customer = given(evolve_customer, None, C1).state
    account = given(
        evolve_account, None, CreditCommitted(customer_id="C1", order_id="SO-1", amount=Decimal("420.00"))
    ).state
    assert customer is not None
    assert is_over_limit(customer, account, Decimal("90.00"))


def test_an_order_that_reaches_the_limit_exactly_is_within_it() -> None:
    customer = given(evolve_customer, None, C1).state
    account = given(
        evolve_account, None, CreditCommitted(customer_id="C1", order_id="SO-1", amount=Decimal("420.00"))
    ).state
    assert customer is not None
    assert not is_over_limit(customer, account, Decimal("80.00"))


def test_a_customer_without_an_account_has_no_exposure() -> None:
    customer = given(evolve_customer, None, C1).state
    assert customer is not None
    assert not is_over_limit(customer, None, Decimal("500.00"))
    assert is_over_limit(customer, None, Decimal("500.01"))


# --- the customer decider --------------------------------------------------------------------

customers = spec(customer_decider)


def test_the_decider_registers_and_prices_a_customer() -> None:
    customers.when(put()).then(C1)
    customers.given(C1).when(SetContractPrice("C1", "BOLT-10", Decimal("8.00"))).then(BOLT_AT_8)


def test_a_contract_price_for_a_customer_that_does_not_exist_is_not_found() -> None:
    error = customers.when(SetContractPrice("C9", "BOLT-10", Decimal("8.00"))).then_raises(
        NotFoundError, customer_id="C9"
    )
    assert (error.category, error.detail) == ("not_found", "Customer C9 does not exist")
