"""Returns and credit notes over HTTP (API.md "Billing", EXAMPLES.md 3): credit notes to the
cent with their own numbers, restocking, the limits of what may come back, also under concurrency.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

from tests.api import billing
from tests.api.billing import (
    Start,
    atp,
    balance,
    concurrently,
    get_invoice,
    invoice_ids,
    invoices,
    order,
    ret,
    seed,
    ship,
    shipped_and_issued,
    total_of,
    wait_invoice,
)
from tests.conftest import Api, wait_until
from tests.http import ok, problem
from tests.infra.tax_fakes import FakeTaxEngine

serve, start, tax_engine = billing.serve, billing.start, billing.tax_engine  # the fixtures of tests/api/billing.py


# --- returns and credit notes --------------------------------------------------------------------


@pytest.fixture
def invoiced(start: Start, tax_engine: FakeTaxEngine) -> Api:
    """EXAMPLES.md section 3: SO-1 for 6 x WIDGET (12.49), 4 shipped with freight 7.50 and invoiced."""
    api = start()
    seed(api, stock=10)
    order(api, "SO-1", 6)
    shipped_and_issued(api, "SO-1", "SH-1", 4, freight="7.50")
    return api


def test_a_return_gives_a_credit_note_to_the_cent_with_its_own_numbers_and_restock_puts_stock_back(
    invoiced: Api,
) -> None:
    api = invoiced
    before = atp(api, ok(api.get("/v1/invoices/INV-SH-1"), 200)["position"])
    assert (before["on_hand"], before["reserved"], before["available"]) == (6, 2, 4)

    body = ok(ret(api, "RMA-1", 1, restock=True))
    assert body["credit_note_id"] == "CN-RMA-1"
    note = ok(api.get("/v1/invoices/CN-RMA-1"), 200)
    assert (note["kind"], note["status"], note["number"], note["currency"]) == ("credit_note", "issued", 1, "USD")
    assert note["lines"] == [{"sku": "WIDGET", "qty": 1, "unit_price": "12.49", "amount": "-12.49"}]
    assert (note["subtotal"], note["tax"], note["total"]) == ("-12.49", "-0.91", "-13.40")
    after = atp(api, body["position"])
    assert (after["on_hand"], after["reserved"], after["available"]) == (7, 2, 5)
    assert ok(api.get("/v1/invoices/INV-SH-1"), 200)["balance"] == "48.23"
    assert balance(api, position=body["position"])["open_ar"] == "48.23"
    assert ok(api.get("/v1/orders/SO-1"), 200)["lines"][0]["returned"] == 1

    body = ok(ret(api, "RMA-2", 1, restock=False))
    note = ok(api.get("/v1/invoices/CN-RMA-2"), 200)
    assert (note["kind"], note["number"], note["total"]) == ("credit_note", 2, "-13.40")
    after = atp(api, body["position"])
    assert (after["on_hand"], after["available"]) == (7, 5)  # not restocked
    assert ok(api.get("/v1/orders/SO-1"), 200)["lines"][0]["returned"] == 2

    # Invoices keep their own sequence: the next one is 2, whatever the credit notes took.
    assert shipped_and_issued(api, "SO-1", "SH-2", 2)["number"] == 2
    kinds = {i["invoice_id"]: i["kind"] for i in invoices(api, order_id="SO-1")}
    assert kinds == {"INV-SH-1": "invoice", "INV-SH-2": "invoice", "CN-RMA-1": "credit_note", "CN-RMA-2": "credit_note"}


def test_returning_more_than_shipped_and_not_yet_returned_is_409_exceeds_shipped(invoiced: Api) -> None:
    api = invoiced
    problem(ret(api, "RMA-1", 5), 409, "exceeds_shipped")  # 6 ordered, 4 shipped
    ok(ret(api, "RMA-2", 3))
    problem(ret(api, "RMA-3", 2), 409, "exceeds_shipped")  # 1 left to return
    position = ok(ret(api, "RMA-4", 1))["position"]
    assert (atp(api, position)["on_hand"]) == 10  # 10 received, 4 shipped, 4 back
    assert get_invoice(api, "CN-RMA-1") is None and get_invoice(api, "CN-RMA-3") is None


def test_a_return_naming_the_same_sku_twice_cannot_bring_back_more_than_shipped(invoiced: Api) -> None:
    api = invoiced  # 4 shipped
    body = {
        "return_id": "RMA-1",
        "order_id": "SO-1",
        "warehouse_id": "W-A",
        "lines": [{"sku": "WIDGET", "qty": 3}, {"sku": "WIDGET", "qty": 3}],
        "restock": True,
    }
    r = api.post("/v1/returns", body)
    assert r.status_code in (409, 422), r.text
    assert r.json()["code"] in ("exceeds_shipped", "invalid_request"), r.json()
    assert ok(api.get("/v1/orders/SO-1"), 200)["lines"][0]["returned"] == 0
    assert get_invoice(api, "CN-RMA-1") is None


def test_a_return_id_is_idempotent_and_reused_with_another_payload_is_409_duplicate_id(invoiced: Api) -> None:
    api = invoiced
    first = ret(api, "RMA-1", 1)
    again = ret(api, "RMA-1", 1)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert atp(api, again.json()["position"])["on_hand"] == 7  # restocked once
    problem(ret(api, "RMA-1", 2), 409, "duplicate_id")
    problem(ret(api, "RMA-1", 1, restock=False), 409, "duplicate_id")
    assert invoice_ids(api, order_id="SO-1") == ["CN-RMA-1", "INV-SH-1"]
    assert ok(api.get("/v1/invoices/INV-SH-1"), 200)["balance"] == "48.23"


def test_a_return_from_two_shipments_credits_the_oldest_invoice_first(start: Start) -> None:
    api = start()
    seed(api)
    order(api, "SO-1", 4)
    first = shipped_and_issued(api, "SO-1", "SH-1", 2)  # 24.98 + 1.81 = 26.79
    second = shipped_and_issued(api, "SO-1", "SH-2", 2)
    assert (first["total"], second["total"]) == ("26.79", "26.79")
    ok(ret(api, "RMA-1", 3))
    note = ok(api.get("/v1/invoices/CN-RMA-1"), 200)
    assert sum(ln["qty"] for ln in note["lines"]) == 3
    assert note["subtotal"] == "-37.47"
    assert note["tax"] == "-2.72"  # 37.47 x 1.81 / 24.98, rounded once
    assert note["total"] == "-40.19"
    inv_1 = ok(api.get("/v1/invoices/INV-SH-1"), 200)
    inv_2 = ok(api.get("/v1/invoices/INV-SH-2"), 200)
    assert inv_1["balance"] == "0.00"  # the oldest shipment's units came back first
    assert inv_2["balance"] == total_of("26.79", "-13.40")
    assert total_of(inv_1["credited"], inv_2["credited"]) == "40.19"


def test_a_return_before_the_invoice_is_issued_is_409_not_invoiced_and_records_nothing(
    start: Start, tax_engine: FakeTaxEngine
) -> None:
    tax_engine.set_mode("error")
    api = start()
    seed(api, stock=10)
    order(api, "SO-1", 4)
    head = ship(api, "SH-1", "SO-1", 4)["position"]
    assert wait_until(lambda: (get_invoice(api, "INV-SH-1") or {}).get("last_tax_error"), timeout=10)
    problem(ret(api, "RMA-1", 1), 409, "not_invoiced")
    assert (atp(api, head)["on_hand"], atp(api, head)["available"]) == (6, 6)
    assert ok(api.get("/v1/orders/SO-1"), 200)["lines"][0]["returned"] == 0
    assert get_invoice(api, "CN-RMA-1") is None

    tax_engine.set_mode("ok")
    wait_invoice(api, "INV-SH-1", "issued")
    body = ok(ret(api, "RMA-1", 1))  # the same return once the invoice is issued
    assert atp(api, body["position"])["on_hand"] == 7


# --- concurrency ----------------------------------------------------------------------------------------


def test_concurrent_returns_never_take_back_more_than_shipped_and_credit_notes_stay_gap_free(
    serve: Callable[..., Api],
) -> None:
    api = serve()
    seed(api, stock=20)
    order(api, "SO-1", 12)
    shipped_and_issued(api, "SO-1", "SH-1", 8)
    calls = [lambda a, i=i: ret(a, f"RMA-{i}", 1) for i in range(1, 13)]
    answers = concurrently(api, calls)
    statuses_seen = Counter(r.status_code for r in answers)
    assert statuses_seen == {201: 8, 409: 4}, [f"{r.status_code} {r.text}" for r in answers]
    assert all(r.json()["code"] == "exceeds_shipped" for r in answers if r.status_code == 409)
    notes = [r.json()["credit_note_id"] for r in answers if r.status_code == 201]
    numbers = sorted(ok(api.get(f"/v1/invoices/{n}"), 200)["number"] for n in notes)
    assert numbers == list(range(1, 9))
    assert ok(api.get("/v1/orders/SO-1"), 200)["lines"][0]["returned"] == 8
    position = max(r.json()["position"] for r in answers if r.status_code == 201)
    assert atp(api, position)["on_hand"] == 20 - 8 + 8
    inv = ok(api.get("/v1/invoices/INV-SH-1"), 200)
    assert inv["balance"] == "0.00" and inv["credited"] == inv["total"]
