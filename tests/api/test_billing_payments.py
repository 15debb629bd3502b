"""Payments, balances and credit over HTTP (API.md "Billing" and "Precise answers", EXAMPLES.md 4):
allocations, unapplied credit, idempotency, concurrency, the credit check at order capture, and
the scopes of returns, payments and dead letters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from tests.api import billing
from tests.api.billing import (
    BALANCE_KEYS,
    Start,
    balance,
    concurrently,
    get_invoice,
    invoice_ids,
    order,
    pay,
    ret,
    seed,
    service,
    ship,
    shipped_and_issued,
    total_of,
    wait_invoice,
)
from tests.conftest import Api, wait_until
from tests.http import ok, problem
from tests.infra.tax_fakes import FakeTaxEngine

serve, start, tax_engine = billing.serve, billing.start, billing.tax_engine  # the fixtures of tests/api/billing.py


# --- payments ----------------------------------------------------------------------------------------


@pytest.fixture
def three_invoices(start: Start) -> Api:
    """CAL has invoices 1, 2, 3 for 1, 2 and 3 x WIDGET: totals 13.40, 26.79, 40.19 (CA 0.0725)."""
    api = start()
    seed(api)
    order(api, "SO-1", 6)
    totals = [shipped_and_issued(api, "SO-1", f"SH-{q}", q)["total"] for q in (1, 2, 3)]
    assert totals == ["13.40", "26.79", "40.19"]
    assert [ok(api.get(f"/v1/invoices/INV-SH-{q}"), 200)["number"] for q in (1, 2, 3)] == [1, 2, 3]
    return api


def statuses(api: Api) -> list[tuple[str, str]]:
    return [(i["status"], i["balance"]) for i in (ok(api.get(f"/v1/invoices/INV-SH-{q}"), 200) for q in (1, 2, 3))]


def test_a_payment_without_allocations_goes_to_the_oldest_invoice_first_and_the_rest_is_unapplied_credit(
    three_invoices: Api,
) -> None:
    api = three_invoices
    assert balance(api)["open_ar"] == "80.38"
    body = ok(pay(api, "PAY-1", "20.00"))
    assert (body["payment_id"], body["customer_id"], body["amount"], body["currency"]) == (
        "PAY-1",
        "CAL",
        "20.00",
        "USD",
    )
    assert body["applied"] == [
        {"invoice_id": "INV-SH-1", "amount": "13.40"},
        {"invoice_id": "INV-SH-2", "amount": "6.60"},
    ]
    assert body["unapplied"] == "0.00"
    assert statuses(api) == [("paid", "0.00"), ("partially_paid", "20.19"), ("issued", "40.19")]
    assert ok(api.get("/v1/invoices/INV-SH-2"), 200)["paid"] == "6.60"

    body = ok(pay(api, "PAY-2", "100.00"))
    assert body["applied"] == [
        {"invoice_id": "INV-SH-2", "amount": "20.19"},
        {"invoice_id": "INV-SH-3", "amount": "40.19"},
    ]
    assert body["unapplied"] == "39.62"
    assert statuses(api) == [("paid", "0.00")] * 3
    bal = balance(api, position=body["position"])
    assert bal == {
        "customer_id": "CAL",
        "currency": "USD",
        "credit_limit": "100000.00",
        "open_ar": "0.00",
        "unbilled": "0.00",
        "exposure": "0.00",
        "credit_available": "100000.00",
        "unapplied_credit": "39.62",
    } | {k: v for k, v in bal.items() if k not in BALANCE_KEYS}

    body = ok(pay(api, "PAY-3", "50.00"))  # nothing open: all of it is credit
    assert (body["applied"], body["unapplied"]) == ([], "50.00")
    assert balance(api, position=body["position"])["unapplied_credit"] == "89.62"


def test_explicit_allocations_are_applied_as_given(three_invoices: Api) -> None:
    api = three_invoices
    allocations = [{"invoice_id": "INV-SH-3", "amount": "40.19"}, {"invoice_id": "INV-SH-1", "amount": "5.00"}]
    body = ok(pay(api, "PAY-1", "50.00", allocations))
    assert body["applied"] == allocations and body["unapplied"] == "4.81"
    assert statuses(api) == [("partially_paid", "8.40"), ("issued", "26.79"), ("paid", "0.00")]
    bal = balance(api, position=body["position"])
    assert (bal["open_ar"], bal["unapplied_credit"]) == ("35.19", "4.81")


NOT_FITTING: list[tuple[str, str, list[dict[str, str]] | None]] = [
    ("above the invoice balance", "20.00", [{"invoice_id": "INV-SH-1", "amount": "13.41"}]),
    (
        "summing above the amount",
        "10.00",
        [{"invoice_id": "INV-SH-1", "amount": "5.00"}, {"invoice_id": "INV-SH-2", "amount": "5.01"}],
    ),
    ("an unknown invoice", "10.00", [{"invoice_id": "INV-NOPE", "amount": "1.00"}]),
    ("another customer's invoice", "10.00", [{"invoice_id": "INV-SH-OTHER", "amount": "1.00"}]),
    ("an allocation of zero", "10.00", [{"invoice_id": "INV-SH-1", "amount": "0.00"}]),
    (
        "the same invoice twice",
        "10.00",
        [{"invoice_id": "INV-SH-1", "amount": "1.00"}, {"invoice_id": "INV-SH-1", "amount": "1.00"}],
    ),
    ("a payment of zero", "0.00", None),
    ("a payment of zero, allocated", "0.00", [{"invoice_id": "INV-SH-1", "amount": "0.00"}]),
]


def test_a_payment_whose_allocations_do_not_fit_is_422_invalid_allocation_and_records_nothing(
    three_invoices: Api,
) -> None:
    api = three_invoices
    seed(api, "OTH")
    order(api, "SO-OTH", 1, customer_id="OTH")
    shipped_and_issued(api, "SO-OTH", "SH-OTHER", 1)
    for case, amount, allocations in NOT_FITTING:
        r = pay(api, "PAY-1", amount, allocations)
        assert (r.status_code, r.json().get("code")) == (422, "invalid_allocation"), (case, r.text)
        problem(r, 422, "invalid_allocation")
    assert statuses(api) == [("issued", "13.40"), ("issued", "26.79"), ("issued", "40.19")]
    assert ok(api.get("/v1/invoices/INV-SH-OTHER"), 200)["paid"] == "0.00"
    body = ok(pay(api, "PAY-1", "1.00"))  # the payment id was not used up
    assert body["applied"] == [{"invoice_id": "INV-SH-1", "amount": "1.00"}]
    assert balance(api, position=body["position"])["open_ar"] == "79.38"


def test_a_payment_to_a_credit_note_of_a_negative_amount_or_for_an_unknown_customer_is_422(three_invoices: Api) -> None:
    api = three_invoices
    ok(ret(api, "RMA-1", 1, restock=True))
    allocations = [{"invoice_id": "CN-RMA-1", "amount": "1.00"}]
    problem(pay(api, "PAY-1", "10.00", allocations), 422, "invalid_allocation")
    assert ok(api.get("/v1/invoices/CN-RMA-1"), 200)["paid"] == "0.00"
    r = pay(api, "PAY-2", "-5.00")  # money may be written negative, but a payment must be > 0
    assert r.status_code == 422, r.text
    assert r.json()["code"] in ("invalid_allocation", "invalid_request"), r.json()
    problem(pay(api, "PAY-3", "10.00", customer_id="NOBODY"), 422, "unknown_customer")


def test_a_payment_id_is_idempotent_and_reused_with_another_payload_is_409_duplicate_id(three_invoices: Api) -> None:
    api = three_invoices
    first = pay(api, "PAY-1", "20.00")
    again = pay(api, "PAY-1", "20.00")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert statuses(api)[:2] == [("paid", "0.00"), ("partially_paid", "20.19")]
    problem(pay(api, "PAY-1", "25.00"), 409, "duplicate_id")
    assert balance(api, position=again.json()["position"])["open_ar"] == "60.38"


def test_a_payment_right_after_an_invoice_is_issued_goes_to_it_even_while_the_read_models_lag(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    tax_engine.set_mode("error")
    api = start()
    seed(api)
    order(api, "SO-1", 1)
    ship(api, "SH-1", "SO-1", 1)
    assert wait_until(lambda: invoice_ids(api, status="awaiting_tax") == ["INV-SH-1"], timeout=10)
    runner = service(api).runner
    assert runner is not None
    runner.stop()  # the read models stop here, as a lagging `o2c worker` would; the tax worker goes on
    tax_engine.set_mode("ok")
    inv = wait_invoice(api, "INV-SH-1", "issued")  # GET /v1/invoices/{id} answers from the log
    assert inv["number"] == 1 and inv["balance"] == "13.40"
    body = ok(pay(api, "PAY-1", "10.00"))
    assert body["applied"] == [{"invoice_id": "INV-SH-1", "amount": "10.00"}], body
    assert body["unapplied"] == "0.00", body
    assert (get_invoice(api, "INV-SH-1") or {}).get("balance") == "3.40"


# --- concurrency ----------------------------------------------------------------------------------------


def test_concurrent_payments_never_take_an_invoice_below_zero(serve: Callable[..., Api]) -> None:
    api = serve()
    seed(api)
    order(api, "SO-1", 6)
    for q in (1, 2, 3):
        shipped_and_issued(api, "SO-1", f"SH-{q}", q)  # 13.40 + 26.79 + 40.19 = 80.38
    answers = concurrently(api, [lambda a, i=i: pay(a, f"PAY-{i}", "10.00") for i in range(10)])
    assert [r.status_code for r in answers] == [201] * 10, [r.text for r in answers if r.status_code != 201]
    applied = Counter[str]()
    for r in answers:
        for a in r.json()["applied"]:
            applied[a["invoice_id"]] += 1
    assert total_of(*(a["amount"] for r in answers for a in r.json()["applied"])) == "80.38"
    assert total_of(*(r.json()["unapplied"] for r in answers)) == "19.62"
    assert statuses(api) == [("paid", "0.00")] * 3
    assert [ok(api.get(f"/v1/invoices/INV-SH-{q}"), 200)["paid"] for q in (1, 2, 3)] == ["13.40", "26.79", "40.19"]
    bal = balance(api, position=max(r.json()["position"] for r in answers))
    assert (bal["open_ar"], bal["unapplied_credit"]) == ("0.00", "19.62")


def test_the_same_payment_sent_many_times_at_once_is_applied_once(serve: Callable[..., Api]) -> None:
    api = serve()
    seed(api)
    order(api, "SO-1", 1)
    shipped_and_issued(api, "SO-1", "SH-1", 1)
    answers = concurrently(api, [lambda a: pay(a, "PAY-1", "5.00") for _ in range(8)])
    assert [r.status_code for r in answers] == [201] * 8, [r.text for r in answers]
    assert len({r.text for r in answers}) == 1
    inv = ok(api.get("/v1/invoices/INV-SH-1"), 200)
    assert (inv["paid"], inv["balance"]) == ("5.00", "8.40")


# --- credit check at order capture (EXAMPLES.md section 4) ----------------------------------------


def test_example_4_open_receivables_count_against_credit_at_order_capture(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    api = start()
    seed(api, "LIM", limit="500.00", region="OR", sku="P10", price="10.00")  # OR: the engine taxes nothing
    order(api, "SO-1", 32, customer_id="LIM", sku="P10")
    ship(api, "SH-1", "SO-1", 32, sku="P10")
    assert wait_invoice(api, "INV-SH-1", "issued")["total"] == "320.00"
    position = order(api, "SO-2", 10, customer_id="LIM", sku="P10")["position"]
    bal = balance(api, "LIM", position)
    assert (bal["open_ar"], bal["unbilled"], bal["exposure"], bal["credit_available"]) == (
        "320.00",
        "100.00",
        "420.00",
        "80.00",
    )

    held = order(api, "SO-3", 9, customer_id="LIM", sku="P10")
    assert held["status"] == "credit_hold" and held["total"] == "90.00"
    assert (held["lines"][0]["allocated"], held["lines"][0]["backordered"]) == (0, 9)
    bal = balance(api, "LIM", held["position"])
    assert (bal["credit_limit"], bal["open_ar"], bal["unbilled"], bal["exposure"], bal["credit_available"]) == (
        "500.00",
        "320.00",
        "190.00",
        "510.00",
        "-10.00",
    )

    paid = ok(pay(api, "PAY-1", "100.00", customer_id="LIM"))
    assert paid["applied"] == [{"invoice_id": "INV-SH-1", "amount": "100.00"}]
    bal = balance(api, "LIM", paid["position"])
    assert (bal["open_ar"], bal["exposure"], bal["credit_available"]) == ("220.00", "410.00", "90.00")
    accepted = order(api, "SO-4", 9, customer_id="LIM", sku="P10")  # 410 + 90 = 500: exactly at the limit
    assert accepted["status"] == "allocated"


# --- scopes ----------------------------------------------------------------------------------------


def test_returns_and_payments_need_finance_write_and_dead_letters_need_admin(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    api = start()
    seed(api)
    order(api, "SO-1", 2)
    shipped_and_issued(api, "SO-1", "SH-1", 2)
    keys = service(api).keys
    ops = keys.create("ops", frozenset({"orders:write", "shipments:write", "inventory:write", "read"}))
    finance = keys.create("finance", frozenset({"finance:write"}))
    reader = keys.create("reader", frozenset({"read"}))
    return_body = {
        "return_id": "RMA-1",
        "order_id": "SO-1",
        "warehouse_id": "W-A",
        "lines": [{"sku": "WIDGET", "qty": 1}],
        "restock": True,
    }
    payment_body = {"payment_id": "PAY-1", "customer_id": "CAL", "amount": "5.00"}

    for key in (ops, reader):
        problem(api.post("/v1/returns", return_body, key=key), 403, "forbidden")
        problem(api.post("/v1/payments", payment_body, key=key), 403, "forbidden")
    for key in (ops, reader, finance):
        problem(api.get("/v1/admin/dead-letters", key=key), 403, "forbidden")
        problem(api.post("/v1/admin/dead-letters/INV-SH-1/retry", {}, key=key), 403, "forbidden")
    problem(api.client.post("/v1/payments", json=payment_body), 401, "unauthenticated")
    problem(api.client.get("/v1/admin/dead-letters"), 401, "unauthenticated")
    problem(api.get("/v1/invoices/INV-SH-1", key=finance), 403, "forbidden")  # write scopes do not imply read
    assert get_invoice(api, "CN-RMA-1") is None
    assert ok(api.get("/v1/invoices/INV-SH-1", key=reader), 200)["paid"] == "0.00"

    ok(api.post("/v1/returns", return_body, key=finance))
    ok(api.post("/v1/payments", payment_body, key=finance))
    assert ok(api.get("/v1/admin/dead-letters"), 200)["items"] == []
