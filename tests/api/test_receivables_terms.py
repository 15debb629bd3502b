"""Payment terms over HTTP on both stores: terms as reference data, customers naming them, invoices
carrying the dates and discount of the terms in force at issue, and the README's worked example
(2/10 net 30 on an invoice with tax and freight, paid on day 9 and on day 11). Bad input records nothing."""

from __future__ import annotations

from datetime import date

from tests.api.receivables import ISSUE_DAY, TWO_10_NET_30, ar, balance, customer, invoiced, pay
from tests.conftest import Api
from tests.http import ok, problem

__all__ = ["ar"]

DAY_9, DAY_11 = date(2026, 3, 11), date(2026, 3, 13)


def test_terms_are_created_then_replaced_and_read_back(ar: Api) -> None:
    body = {"name": "Net 30 EOM", "net_days": 30, "end_of_month": True}
    created = ok(ar.put("/v1/payment-terms/EOM30", body), 201)
    assert created["terms_id"] == "EOM30" and created["end_of_month"] is True and created["discount_percent"] is None
    assert ok(ar.put("/v1/payment-terms/EOM30", body), 200)["net_days"] == 30
    ok(ar.put("/v1/payment-terms/EOM30", {**body, "net_days": 45}), 200)
    got = ok(ar.get("/v1/payment-terms/2-10-N30"), 200)
    assert got == {"terms_id": "2-10-N30", **TWO_10_NET_30, "end_of_month": False}
    assert ok(ar.get("/v1/payment-terms/EOM30"), 200)["net_days"] == 45
    assert problem(ar.get("/v1/payment-terms/NOPE"), 404, "not_found")


def test_a_customer_naming_unknown_terms_is_refused_and_nothing_is_recorded(ar: Api) -> None:
    head = ar.get("/v1/events").json()["next_after"]
    problem(customer(ar, "C-X", terms="NO-SUCH"), 422, "unknown_payment_terms")
    assert ar.get("/v1/customers/C-X").status_code == 404
    assert ar.get("/v1/events", after=head).json()["events"] == []
    assert ok(customer(ar, "C-X"), 201)["payment_terms_id"] == "2-10-N30"


def test_bad_terms_and_bad_dates_get_problems_and_record_nothing(ar: Api) -> None:
    ok(customer(ar, "C-1"))
    head = ar.get("/v1/events").json()["next_after"]
    cases = [
        ar.put("/v1/payment-terms/BAD", {**TWO_10_NET_30, "discount_percent": "100.01"}),
        ar.put("/v1/payment-terms/BAD", {**TWO_10_NET_30, "discount_percent": "250"}),
        ar.put("/v1/payment-terms/BAD", {**TWO_10_NET_30, "net_days": 400}),
        ar.put("/v1/payment-terms/BAD", {**TWO_10_NET_30, "discount_days": None}),
        ar.put("/v1/payment-terms/BAD", {**TWO_10_NET_30, "discount_percent": "2.5%"}),
        pay(ar, "P-BAD", "C-1", "10.00", received_on="2026-02-30"),
        pay(ar, "P-BAD", "C-1", "10.00", received_on="yesterday"),
        pay(ar, "P-BAD", "C-1", "10.00", received_on=20260301),
        ar.get("/v1/ar/aging", as_of="2026-3-1"),
        ar.get("/v1/ar/aging", as_of="not-a-date"),
        ar.get("/v1/ar/aging"),
        ar.get("/v1/customers/C-1/statement", **{"from": "2026-03-01", "to": "03/31/2026"}),
        ar.get("/v1/customers/C-1/statement", **{"from": "2026-03-31", "to": "2026-03-01"}),
        ar.post("/v1/admin/dunning/run", {"as_of": "2026-13-01"}),
    ]
    for r in cases:
        problem(r, 422, "invalid_request")
    assert ar.get("/v1/payment-terms/BAD").status_code == 404
    assert ar.get("/v1/events", after=head).json()["events"] == []


def test_the_invoice_carries_the_terms_in_force_at_issue(ar: Api) -> None:
    ok(customer(ar, "C-N", terms=None))
    ok(customer(ar, "C-T"))
    plain = invoiced(ar, "C-N", "N1", qty=1, freight="0.00")
    assert (plain["issued_on"], plain["due_date"], plain["discount_until"], plain["discount_amount"]) == (
        "2026-03-02", "2026-03-02", None, None,
    )  # fmt: skip
    termed = invoiced(ar, "C-T", "T1")
    assert (termed["subtotal"], termed["freight"], termed["tax"], termed["total"]) == (
        "1000.00",
        "25.00",
        "84.56",
        "1109.56",
    )
    assert (termed["issued_on"], termed["due_date"], termed["discount_until"]) == (
        "2026-03-02",
        "2026-04-01",
        "2026-03-12",
    )
    assert (termed["discount_amount"], termed["discount_taken"]) == ("22.19", "0.00")
    ok(ar.put("/v1/payment-terms/2-10-N30", {**TWO_10_NET_30, "net_days": 60}), 200)  # later terms: later invoices
    assert ok(ar.get("/v1/invoices/INV-SH-T1"), 200)["due_date"] == "2026-04-01"
    assert invoiced(ar, "C-T", "T2")["due_date"] == "2026-05-01"


def test_worked_example_paid_on_day_9_takes_the_discount_and_on_day_11_does_not(ar: Api) -> None:
    """README "Receivables: rounding and a worked example": 10 x 100.00 + 25.00 freight, tax 8.25%."""
    ok(customer(ar, "EARLY"))
    ok(customer(ar, "LATE"))
    assert invoiced(ar, "EARLY", "E")["total"] == "1109.56"
    assert invoiced(ar, "LATE", "L")["total"] == "1109.56"

    early = ok(pay(ar, "P-E", "EARLY", "1087.37", DAY_9))  # 1109.56 - 22.19
    assert early["applied"] == [{"invoice_id": "INV-SH-E", "amount": "1087.37"}] and early["unapplied"] == "0.00"
    assert early["received_on"] == "2026-03-11"
    inv = ok(ar.get("/v1/invoices/INV-SH-E"), 200)
    assert (inv["status"], inv["paid"], inv["discount_taken"], inv["balance"]) == ("paid", "1087.37", "22.19", "0.00")
    assert balance(ar, "EARLY", early["position"])["open_ar"] == "0.00"

    late = ok(pay(ar, "P-L", "LATE", "1087.37", DAY_11))  # the window closed on day 10
    inv = ok(ar.get("/v1/invoices/INV-SH-L"), 200)
    assert (inv["status"], inv["discount_taken"], inv["balance"]) == ("partially_paid", "0.00", "22.19")
    assert balance(ar, "LATE", late["position"])["open_ar"] == "22.19"
    rest = ok(pay(ar, "P-L2", "LATE", "22.19", DAY_11))
    assert ok(ar.get("/v1/invoices/INV-SH-L"), 200)["status"] == "paid"
    assert balance(ar, "LATE", rest["position"])["open_ar"] == "0.00"


def test_a_payment_without_a_date_is_received_today_and_repeats_answer_the_original(ar: Api) -> None:
    ok(customer(ar, "C-P"))
    invoiced(ar, "C-P", "P1", qty=1, freight="0.00")  # 100.00 + 8.25 tax = 108.25, discount 2.17
    first = ok(pay(ar, "P-1", "C-P", "106.08"))
    assert first["received_on"] == ISSUE_DAY.isoformat()
    assert ok(ar.get("/v1/invoices/INV-SH-P1"), 200)["discount_taken"] == "2.17"
    assert pay(ar, "P-1", "C-P", "106.08").json() == first
    problem(pay(ar, "P-1", "C-P", "106.08", DAY_9), 409, "duplicate_id")
