"""The journal of discounts and credit applications, end to end over HTTP on both stores: the README's
worked example (2/10 net 30, paid on day 9) posts the payment and the discount taken, a credit applied
posts its own entry, and the trial balance's ar and unapplied accounts equal the customers' balances."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from tests.api.receivables import ar, balance, customer, invoiced, pay
from tests.conftest import Api
from tests.http import ok

__all__ = ["ar"]


def entries(api: Api, position: int) -> dict[str, dict[str, Any]]:
    page = ok(api.get("/v1/journal", min_position=position, limit=1000), 200)
    return {e["entry_id"]: e for e in page["items"]}


def lines(entry: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(ln["account"], ln["debit"], ln["credit"]) for ln in entry["lines"]]


def trial(api: Api, as_of: str, position: int) -> dict[str, dict[str, str]]:
    body = ok(api.get("/v1/journal/trial-balance", as_of=as_of, min_position=position), 200)
    assert body["totals"]["debit"] == body["totals"]["credit"], body
    return {a["account"]: a for a in body["accounts"]}


def test_a_payment_in_the_discount_window_posts_the_payment_and_the_discount(ar: Api) -> None:
    ok(customer(ar, "D"))
    assert invoiced(ar, "D", "D1")["total"] == "1109.56"  # 1000.00 + 25.00 freight + 84.56 tax
    paid = ok(pay(ar, "P-D", "D", "1087.37", on=date(2026, 3, 11)))  # day 9: 1109.56 - 22.19 settles it
    found = entries(ar, paid["position"])
    assert lines(found["JE-payment-P-D"]) == [("1000", "1087.37", "0.00"), ("1200", "0.00", "1087.37")]
    discount = found["JE-discount-INV-SH-D1"]
    assert discount["source"] == {"kind": "discount", "id": "INV-SH-D1"} and discount["posted_on"] == "2026-03-11"
    assert lines(discount) == [("4900", "22.19", "0.00"), ("1200", "0.00", "22.19")]
    accounts = trial(ar, "2026-03-11", paid["position"])
    assert balance(ar, "D", paid["position"])["open_ar"] == "0.00"
    assert accounts["1200"]["balance"] == "0.00"  # ar: what the customer owes
    assert accounts["4900"]["balance"] == "22.19"
    before = trial(ar, "2026-03-10", paid["position"])  # as of the day before the payment: all of it open
    assert before["1200"]["balance"] == "1109.56" and before["4900"]["balance"] == "0.00"


def test_credit_applied_posts_unapplied_against_ar_and_the_accounts_match_the_balance(ar: Api) -> None:
    ok(customer(ar, "N", terms=None))
    credit = ok(pay(ar, "P-N", "N", "200.00", allocations=[]))  # nothing open: all of it unapplied
    invoiced(ar, "N", "N1", qty=1, freight="0.00")  # 108.25, due on issue
    applied = ok(ar.post("/v1/customers/N/apply-credit", {"application_id": "APP-1"}), 200)
    found = entries(ar, applied["position"])
    assert lines(found["JE-payment-P-N"]) == [("1000", "200.00", "0.00"), ("2300", "0.00", "200.00")]
    application = found["JE-credit_application-APP-1"]
    assert application["source"] == {"kind": "credit_application", "id": "APP-1"}
    assert lines(application) == [("2300", "108.25", "0.00"), ("1200", "0.00", "108.25")]
    accounts = trial(ar, "2026-03-02", applied["position"])
    held = balance(ar, "N", applied["position"])
    assert (held["open_ar"], held["unapplied_credit"]) == ("0.00", "91.75")
    assert Decimal(accounts["1200"]["balance"]) == Decimal(held["open_ar"])
    assert Decimal(accounts["2300"]["balance"]) == -Decimal(held["unapplied_credit"])
    assert credit["position"] < applied["position"]
