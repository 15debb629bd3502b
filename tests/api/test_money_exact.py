"""Money is exact at every size the limits allow (API.md "Corrections to the first edition"):
orders of 500 lines x 1,000,000,000 units at 999,999,999,999.99, summed over hundreds of orders."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.conftest import Api, wait_until
from tests.http import ok

MAX_QTY = 1_000_000_000
MAX_PRICE = "999999999999.99"
MAX_LINES = 500
# 201 orders are the fewest whose sum needs more than the 28 digits of Decimal's default context.
ORDERS = 201


def cents_to_money(cents: int) -> str:
    """The exact 2-place string of an amount in cents, computed with Python ints alone."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(cents), 100)
    return f"{sign}{whole}.{frac:02d}"


def test_the_balance_of_hundreds_of_the_largest_orders_is_exact(api: Api) -> None:
    with ThreadPoolExecutor(4) as pool:  # concurrent commands share commits: quicker set-up
        list(
            pool.map(
                lambda n: ok(api.put(f"/v1/products/P{n:03d}", {"name": "Part", "unit_price": MAX_PRICE})),
                range(MAX_LINES),
            )
        )
    # Every order goes over the 12-digit limit: held, nothing allocated, all of it counts as unbilled.
    customer = {"name": "Big buyer", "credit_limit": "999999999999.99", "tax_region": "CA", "status": "active"}
    ok(api.put("/v1/customers/BIG", customer))
    lines = [{"sku": f"P{n:03d}", "qty": MAX_QTY} for n in range(MAX_LINES)]
    line_cents = MAX_QTY * int(MAX_PRICE.replace(".", ""))
    order_cents = MAX_LINES * line_cents

    position = 0
    for i in range(ORDERS):
        body = ok(
            api.post("/v1/orders", {"order_id": f"SO-{i}", "customer_id": "BIG", "channel": "edi", "lines": lines})
        )
        assert body["total"] == cents_to_money(order_cents)
        position = body["position"]
    assert body["status"] == "credit_hold"
    assert body["lines"][0]["amount"] == cents_to_money(line_cents) == "999999999999990000000.00"

    # 201 held orders of 500 lines are 100,500 waiting lines for the orders read model to write beside
    # the balances: on a busy machine that can outlast one read's bounded wait (503), so poll.
    assert wait_until(lambda: api.get("/v1/customers/BIG/balance", min_position=position).status_code == 200, 60)
    balance = ok(api.get("/v1/customers/BIG/balance", min_position=position), 200)
    unbilled = ORDERS * order_cents
    limit = int(customer["credit_limit"].replace(".", ""))
    assert balance["unbilled"] == cents_to_money(unbilled) == "100499999999998995000000000.00"
    assert balance["open_ar"] == "0.00"
    assert balance["exposure"] == cents_to_money(unbilled)
    assert balance["credit_available"] == cents_to_money(limit - unbilled)
    assert balance["credit_limit"] == customer["credit_limit"]
    summary = ok(api.get("/v1/orders/SO-200", min_position=position), 200)
    assert summary["total"] == cents_to_money(order_cents)
