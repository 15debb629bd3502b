"""The API rules of order capture end to end, over HTTP, as API.md and EXAMPLES.md state them:
pricing, acceptance rule 1 and the credit hold."""

from __future__ import annotations

from typing import Any

import pytest

from infra.service import Service
from tests.api import rules
from tests.api.rules import atp, order_of, stock
from tests.conftest import Api, settle
from tests.http import line, ok, place, problem, read, receive

svc = rules.svc  # the fixture of tests/api/rules.py


# --- pricing ------------------------------------------------------------------------------------


def test_a_line_is_priced_at_the_customers_contract_price_else_at_the_list_price(seeded: Api) -> None:
    api = seeded
    ok(api.put("/v1/customers/C1/prices/BOLT-10", {"unit_price": "7.75"}))
    assert read(api, "/v1/customers/C1/prices/BOLT-10")["unit_price"] == "7.75"

    body = ok(place(api, "SO-1", [line("BOLT-10", 2), line("NUT-4", 4)]))
    lines = {ln["sku"]: ln for ln in body["lines"]}
    assert (lines["BOLT-10"]["unit_price"], lines["BOLT-10"]["amount"]) == ("7.75", "15.50")
    assert (lines["NUT-4"]["unit_price"], lines["NUT-4"]["amount"]) == ("0.25", "1.00")
    assert (body["total"], body["currency"]) == ("16.50", "USD")

    other = ok(place(api, "SO-2", [line("BOLT-10", 2)], customer_id="C2"))
    assert (other["lines"][0]["unit_price"], other["total"]) == ("8.50", "17.00")

    sent_right = ok(place(api, "SO-3", [line("BOLT-10", 1, unit_price="7.75")]))
    assert sent_right["lines"][0]["unit_price"] == "7.75"


def test_a_line_sent_at_another_price_gets_price_mismatch_shaped_as_example_6(seeded: Api, svc: Service) -> None:
    api = seeded
    before = settle(svc)
    r = place(
        api,
        "SO-1",
        [line("NUT-4", 10, line_id="1", unit_price="0.25"), line("BOLT-10", 1, line_id="2", unit_price="10.00")],
    )
    p = problem(r, 422, "price_mismatch")
    assert p["type"] == "/problems/price_mismatch"
    assert (p["line_id"], p["sku"], p["expected_unit_price"]) == ("2", "BOLT-10", "8.50")
    assert p["lines"] == [{"line_id": "2", "sku": "BOLT-10", "sent": "10.00", "expected_unit_price": "8.50"}]
    assert settle(svc) == before
    problem(api.get("/v1/orders/SO-1"), 404, "not_found")


def test_price_mismatch_names_the_first_mismatch_on_top_and_lists_all_of_them(seeded: Api, svc: Service) -> None:
    api = seeded
    ok(api.put("/v1/customers/C1/prices/NUT-4", {"unit_price": "0.20"}))
    before = settle(svc)
    r = place(
        api,
        "SO-1",
        [
            line("NUT-4", 10, line_id="a", unit_price="0.25"),
            line("BOLT-10", 1, line_id="b", unit_price="9.00"),
        ],
    )
    p = problem(r, 422, "price_mismatch")
    assert (p["line_id"], p["sku"], p["expected_unit_price"]) == ("a", "NUT-4", "0.20")
    assert p["lines"] == [
        {"line_id": "a", "sku": "NUT-4", "sent": "0.25", "expected_unit_price": "0.20"},
        {"line_id": "b", "sku": "BOLT-10", "sent": "9.00", "expected_unit_price": "8.50"},
    ]
    assert settle(svc) == before


# --- acceptance rule 1 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer_id", "lines", "status", "code"),
    [
        pytest.param("C-NOPE", [line("NOPE-1", 1)], 422, "unknown_customer", id="unknown customer is checked first"),
        pytest.param("C3", [line("NOPE-1", 1)], 422, "customer_blocked", id="blocked customer before unknown sku"),
        pytest.param("C1", [line("BOLT-10", 1), line("NOPE-1", 1)], 422, "unknown_sku", id="unknown sku"),
        pytest.param(
            "C1",
            [line("BOLT-10", 1, line_id="1"), line("BOLT-10", 2, line_id="2")],
            422,
            "invalid_request",
            id="the same sku twice",
        ),
    ],
)
def test_an_order_breaking_acceptance_rule_1_is_rejected_and_records_nothing(
    seeded: Api, svc: Service, customer_id: str, lines: list[dict[str, Any]], status: int, code: str
) -> None:
    api = seeded
    blocked = {"name": "Blocked", "credit_limit": "1000.00", "tax_region": "CA", "status": "blocked"}
    ok(api.put("/v1/customers/C3", blocked))
    stock(api, W_A=10)
    before = settle(svc)
    p = problem(place(api, "SO-1", lines, customer_id=customer_id), status, code)
    if code == "invalid_request":
        assert p["errors"] and all({"field", "message"} <= set(e) for e in p["errors"]), p
    assert settle(svc) == before
    problem(api.get("/v1/orders/SO-1"), 404, "not_found")
    assert atp(api, "BOLT-10")["reserved"] == 0


# --- credit hold (EXAMPLES.md section 4) --------------------------------------------------------


@pytest.fixture
def held(seeded: Api, svc: Service) -> dict[str, Any]:
    """C3 (limit 500.00) has 420.00 unbilled (SO-H0, 42 x PIPE-1 allocated); SO-H1 for 90.00 goes on hold."""
    api = seeded
    ok(api.put("/v1/products/PIPE-1", {"name": "Pipe", "unit_price": "10.00"}))
    ok(api.put("/v1/customers/C3", {"name": "Tight", "credit_limit": "500.00", "tax_region": "CA", "status": "active"}))
    receive(api, "R-P", "W-A", "PIPE-1", 50)
    first = ok(place(api, "SO-H0", [line("PIPE-1", 42)], customer_id="C3"))
    assert first["status"] == "allocated"
    r = place(api, "SO-H1", [line("PIPE-1", 9)], customer_id="C3")
    return ok(r)


def test_an_order_over_the_credit_limit_is_held_and_reserves_nothing(seeded: Api, held: dict[str, Any]) -> None:
    api = seeded
    assert held["status"] == "credit_hold"
    assert held["total"] == "90.00"
    ln = held["lines"][0]
    assert (ln["qty"], ln["allocated"], ln["backordered"], ln["shipped"], ln["cancelled"]) == (9, 0, 9, 0, 0)
    assert ln["allocations"] == []
    assert order_of(api, "SO-H1", held["position"])["status"] == "credit_hold"

    view = atp(api, "PIPE-1", held["position"])
    assert (view["on_hand"], view["reserved"], view["available"]) == (50, 42, 8)
    assert view["backordered"] == 0, "ATP backordered must exclude held orders"


def test_a_held_order_counts_as_unbilled_and_credit_available_goes_negative(seeded: Api, held: dict[str, Any]) -> None:
    balance = read(seeded, "/v1/customers/C3/balance", held["position"])
    assert balance["credit_limit"] == "500.00"
    assert balance["open_ar"] == "0.00"
    assert balance["unbilled"] == "510.00"
    assert balance["exposure"] == "510.00"
    assert balance["credit_available"] == "-10.00"


def test_an_order_exactly_at_the_credit_limit_is_not_held(seeded: Api) -> None:
    api = seeded
    ok(api.put("/v1/customers/C4", {"name": "Exact", "credit_limit": "17.00", "tax_region": "CA", "status": "active"}))
    stock(api, W_A=2)
    body = ok(place(api, "SO-1", [line("BOLT-10", 2)], customer_id="C4"))
    assert (body["total"], body["status"]) == ("17.00", "allocated")


def test_release_hold_needs_finance_write_and_then_allocates(seeded: Api, svc: Service, held: dict[str, Any]) -> None:
    api = seeded
    shop = svc.keys.create("shop", frozenset({"orders:write", "read"}))
    finance = svc.keys.create("finance", frozenset({"finance:write"}))
    before = settle(svc)
    problem(api.post("/v1/orders/SO-H1/release-hold", {}, key=shop), 403, "forbidden")
    assert settle(svc) == before

    body = ok(api.post("/v1/orders/SO-H1/release-hold", {}, key=finance), 200)
    assert isinstance(body["position"], int)
    ln = body["lines"][0]
    assert (ln["allocated"], ln["backordered"]) == (8, 1)
    assert ln["allocations"] == [{"warehouse_id": "W-A", "qty": 8}]
    assert body["status"] == "backordered"
    view = atp(api, "PIPE-1", body["position"])
    assert (view["on_hand"], view["reserved"], view["available"], view["backordered"]) == (50, 50, 0, 1)
