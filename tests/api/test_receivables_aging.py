"""Aging, statements, unallocated payments by due date and applying credit over HTTP on both stores,
as of past dates from what was dated up to them, exact to the cent; balances stay exact."""

from __future__ import annotations

from datetime import date

from tests.api.receivables import ar, balance, customer, invoiced, pay
from tests.conftest import Api
from tests.http import ok, problem

__all__ = ["ar"]


def aging(api: Api, as_of: str, position: int, **filters: str) -> dict[str, object]:
    return ok(api.get("/v1/ar/aging", as_of=as_of, min_position=position, **filters), 200)


def test_aging_and_statement_as_of_past_dates_with_a_payment_by_due_date_then_number(ar: Api) -> None:
    ok(customer(ar, "A"))
    ok(customer(ar, "N", terms=None))
    invoiced(ar, "A", "A1", qty=1, freight="0.00")  # 108.25, due 2026-04-01
    invoiced(ar, "A", "A2", qty=2, freight="0.00")  # 216.50, due 2026-04-01
    invoiced(ar, "N", "N1", qty=1, freight="0.00")  # 108.25, due on issue (2026-03-02)
    paid = ok(pay(ar, "P-A", "A", "150.00", date(2026, 4, 20)))  # after the window: no discount
    assert paid["applied"] == [
        {"invoice_id": "INV-SH-A1", "amount": "108.25"},
        {"invoice_id": "INV-SH-A2", "amount": "41.75"},
    ]
    at = paid["position"]

    assert aging(ar, "2026-03-01", at)["customers"] == []  # nothing issued yet
    march = aging(ar, "2026-03-31", at)
    rows = {c["customer_id"]: c for c in march["customers"]}  # type: ignore[attr-defined]
    assert (rows["A"]["current"], rows["A"]["total"]) == ("324.75", "324.75")  # the payment is dated later
    assert (rows["N"]["days_1_30"], rows["N"]["total"]) == ("108.25", "108.25")
    assert march["totals"] == {  # type: ignore[comparison-overlap]
        "current": "324.75", "days_1_30": "108.25", "days_31_60": "0.00", "days_61_90": "0.00",
        "days_over_90": "0.00", "total": "433.00", "unapplied_credit": "0.00",
    }  # fmt: skip
    april = aging(ar, "2026-04-30", at)
    rows = {c["customer_id"]: c for c in april["customers"]}  # type: ignore[attr-defined]
    assert (rows["A"]["days_1_30"], rows["A"]["total"]) == ("174.75", "174.75")
    assert rows["N"]["days_31_60"] == "108.25"
    only = aging(ar, "2026-04-30", at, customer_id="N")
    assert [c["customer_id"] for c in only["customers"]] == ["N"]  # type: ignore[attr-defined]
    assert only["as_of"] == "2026-04-30" and only["currency"] == "USD"

    body = ok(ar.get("/v1/customers/A/statement", min_position=at, **{"from": "2026-03-01", "to": "2026-04-30"}), 200)
    lines = [(ln["date"], ln["kind"], ln["ref"], ln["amount"], ln["balance"]) for ln in body["lines"]]
    assert lines == [
        ("2026-03-02", "invoice", "INV-SH-A1", "108.25", "108.25"),
        ("2026-03-02", "invoice", "INV-SH-A2", "216.50", "324.75"),
        ("2026-04-20", "payment", "P-A", "-150.00", "174.75"),
    ]
    assert (body["from"], body["to"], body["opening_balance"], body["closing_balance"]) == (
        "2026-03-01", "2026-04-30", "0.00", "174.75",
    )  # fmt: skip
    later = ok(ar.get("/v1/customers/A/statement", min_position=at, **{"from": "2026-04-01", "to": "2026-04-30"}), 200)
    assert (later["opening_balance"], len(later["lines"])) == ("324.75", 1)
    assert balance(ar, "A", at)["open_ar"] == "174.75"
    problem(ar.get("/v1/customers/NOPE/statement", **{"from": "2026-04-01", "to": "2026-04-30"}), 404, "not_found")


def test_apply_credit_uses_unapplied_credit_earliest_due_first_and_is_idempotent(ar: Api) -> None:
    ok(customer(ar, "N", terms=None))
    ok(customer(ar, "M", terms=None))
    invoiced(ar, "N", "N1", qty=1, freight="0.00")  # 108.25
    credit = ok(pay(ar, "P-N", "N", "200.00", allocations=[]))
    assert credit["unapplied"] == "200.00"
    assert balance(ar, "N", credit["position"])["unapplied_credit"] == "200.00"

    applied = ok(ar.post("/v1/customers/N/apply-credit", {"application_id": "APP-1"}), 200)
    assert applied["applied"] == [{"invoice_id": "INV-SH-N1", "amount": "108.25"}]
    assert (applied["application_id"], applied["unapplied_credit"]) == ("APP-1", "91.75")
    after = balance(ar, "N", applied["position"])
    assert (after["open_ar"], after["unapplied_credit"]) == ("0.00", "91.75")
    assert ok(ar.get("/v1/invoices/INV-SH-N1"), 200)["status"] == "paid"
    assert ok(ar.post("/v1/customers/N/apply-credit", {"application_id": "APP-1"}), 200) == applied
    problem(ar.post("/v1/customers/M/apply-credit", {"application_id": "APP-1"}), 409, "duplicate_id")
    nothing = ok(ar.post("/v1/customers/M/apply-credit", {"application_id": "APP-2"}), 200)
    assert (nothing["applied"], nothing["unapplied_credit"]) == ([], "0.00")
    problem(ar.post("/v1/customers/NOPE/apply-credit", {"application_id": "APP-3"}), 404, "not_found")
    rows = {c["customer_id"]: c for c in aging(ar, "2026-03-02", applied["position"])["customers"]}  # type: ignore[attr-defined]
    assert (rows["N"]["total"], rows["N"]["unapplied_credit"]) == ("0.00", "91.75")
    types = [e["type"] for e in ar.get("/v1/events", limit=1000).json()["events"]]
    assert types.count("o2c.CreditApplied") == 1


def test_a_credit_note_is_due_on_issue_and_ages_and_states_from_its_date(ar: Api) -> None:
    ok(customer(ar, "R"))
    invoiced(ar, "R", "R1", qty=2, freight="0.00")  # 216.50, discount 4.33 until 2026-03-12
    body = {
        "return_id": "RET-1",
        "order_id": "SO-R1",
        "warehouse_id": "W-A",
        "lines": [{"sku": "P100", "qty": 1}],
        "restock": True,
    }
    note = ok(ar.post("/v1/returns", body))["credit_note"]
    assert (note["total"], note["issued_on"], note["due_date"]) == ("-108.25", "2026-03-02", "2026-03-02")
    inv = ok(ar.get("/v1/invoices/INV-SH-R1"), 200)
    assert (inv["balance"], inv["discount_amount"]) == ("108.25", "4.33")
    paid = ok(pay(ar, "P-R", "R", "103.92", date(2026, 3, 12)))  # the discount stays what issue fixed
    assert ok(ar.get("/v1/invoices/INV-SH-R1"), 200)["status"] == "paid"
    at = paid["position"]
    assert aging(ar, "2026-03-02", at, customer_id="R")["customers"][0]["current"] == "108.25"  # type: ignore[index]
    assert aging(ar, "2026-03-12", at, customer_id="R")["customers"] == []
    body = ok(ar.get("/v1/customers/R/statement", min_position=at, **{"from": "2026-03-01", "to": "2026-03-31"}), 200)
    assert [(ln["kind"], ln["amount"]) for ln in body["lines"]] == [
        ("invoice", "216.50"), ("credit_note", "-108.25"), ("payment", "-103.92"), ("discount", "-4.33"),
    ]  # fmt: skip
    assert body["closing_balance"] == "0.00"
    assert balance(ar, "R", at)["open_ar"] == "0.00"
