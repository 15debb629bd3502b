"""Credit notes over HTTP (API.md "Corrections to the first edition", issue 11): a note goes to the
invoices its returned units were billed on, up to their balances, and the rest is the customer's
unapplied credit, so `open_ar` never goes below 0 and every cent shows somewhere; an invoice that
credit notes alone bring to 0 is `credited`, and `paid`/`partially_paid` need money received."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from tests.conftest import Api, make_settings, wait_until
from tests.http import line, ok, place, receive

RATE = {"CA": Decimal("0.0725")}


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """The app with built-in tax (CA 7.25 %); customer CAL, WIDGET at 12.49, 100 in stock at W-A."""
    with TestClient(create_app(make_settings(database_url, tax_rates=RATE))) as client:
        api = Api(client)
        ok(api.put("/v1/warehouses/W-A", {"name": "A"}))
        ok(api.put("/v1/products/WIDGET", {"name": "Widget", "unit_price": "12.49"}))
        receive(api, "R-1", "W-A", "WIDGET", 100)
        customer = {"name": "Cal Co", "credit_limit": "100000.00", "tax_region": "CA", "status": "active"}
        ok(api.put("/v1/customers/CAL", customer))
        yield api


def shipped_and_issued(api: Api, shipment_id: str, order_id: str, qty: int, freight: str = "0.00") -> dict[str, Any]:
    body = {"shipment_id": shipment_id, "order_id": order_id, "warehouse_id": "W-A", "lines": [line("WIDGET", qty)]}
    ok(api.post("/v1/shipments", {**body, "freight": freight}))

    def issued() -> dict[str, Any] | None:
        r = api.get(f"/v1/invoices/INV-{shipment_id}")
        return r.json() if r.status_code == 200 and r.json()["status"] == "issued" else None

    inv: dict[str, Any] | None = wait_until(issued, timeout=20)
    assert inv is not None, api.get(f"/v1/invoices/INV-{shipment_id}").text
    return inv


def pay(api: Api, payment_id: str, amount: str, invoice_id: str) -> dict[str, Any]:
    body = {"payment_id": payment_id, "customer_id": "CAL", "amount": amount}
    return ok(api.post("/v1/payments", {**body, "allocations": [{"invoice_id": invoice_id, "amount": amount}]}))


def give_back(api: Api, return_id: str, order_id: str, qty: int) -> dict[str, Any]:
    body = {
        "return_id": return_id,
        "order_id": order_id,
        "warehouse_id": "W-A",
        "lines": [line("WIDGET", qty)],
        "restock": True,
    }
    return ok(api.post("/v1/returns", body))


def invoice(api: Api, invoice_id: str) -> dict[str, Any]:
    return ok(api.get(f"/v1/invoices/{invoice_id}"), 200)


def balance(api: Api, position: int) -> dict[str, Any]:
    return ok(api.get("/v1/customers/CAL/balance", min_position=position), 200)


def cents(*amounts: str) -> Decimal:
    return sum((Decimal(a) for a in amounts), Decimal("0.00"))


def test_a_credit_note_for_units_of_a_paid_invoice_becomes_unapplied_credit_and_credits_no_other_invoice(
    api: Api,
) -> None:
    ok(place(api, "SO-1", [line("WIDGET", 6)], "CAL"))
    assert shipped_and_issued(api, "SH-1", "SO-1", 4, freight="7.50")["total"] == "61.63"
    pay(api, "PAY-1", "61.63", "INV-SH-1")
    assert shipped_and_issued(api, "SH-2", "SO-1", 2)["total"] == "26.79"

    returned = give_back(api, "RMA-1", "SO-1", 4)  # the 4 units of SH-1, already paid

    assert returned["credit_note"]["total"] == "-53.58"
    first, second = invoice(api, "INV-SH-1"), invoice(api, "INV-SH-2")
    assert (first["status"], first["paid"], first["credited"], first["balance"]) == ("paid", "61.63", "0.00", "0.00")
    assert (second["status"], second["credited"], second["balance"]) == ("issued", "0.00", "26.79")
    bal = balance(api, returned["position"])
    assert (bal["open_ar"], bal["unapplied_credit"], bal["exposure"]) == ("26.79", "53.58", "26.79")
    assert cents(first["credited"], second["credited"], bal["unapplied_credit"]) == Decimal("53.58")


def test_a_credit_note_bigger_than_its_invoices_balance_credits_the_balance_and_the_rest_is_unapplied(
    api: Api,
) -> None:
    ok(place(api, "SO-1", [line("WIDGET", 4)], "CAL"))
    shipped_and_issued(api, "SH-1", "SO-1", 4, freight="7.50")
    pay(api, "PAY-1", "50.00", "INV-SH-1")  # 11.63 still open

    returned = give_back(api, "RMA-1", "SO-1", 4)

    inv = invoice(api, "INV-SH-1")
    assert (inv["status"], inv["paid"], inv["credited"], inv["balance"]) == ("paid", "50.00", "11.63", "0.00")
    bal = balance(api, returned["position"])
    assert (bal["open_ar"], bal["unapplied_credit"]) == ("0.00", "41.95")
    assert cents(inv["credited"], bal["unapplied_credit"]) == -Decimal(returned["credit_note"]["total"])


def test_an_unpaid_invoice_returned_in_full_is_credited_and_one_with_freight_left_stays_issued(api: Api) -> None:
    ok(place(api, "SO-1", [line("WIDGET", 8)], "CAL"))
    shipped_and_issued(api, "SH-1", "SO-1", 4)  # 53.58, no freight
    shipped_and_issued(api, "SH-2", "SO-1", 4, freight="7.50")  # 61.63

    returned = give_back(api, "RMA-1", "SO-1", 8)

    assert returned["credit_note"]["total"] == "-107.16"
    whole, rest = invoice(api, "INV-SH-1"), invoice(api, "INV-SH-2")
    assert (whole["status"], whole["paid"], whole["credited"], whole["balance"]) == (
        "credited",
        "0.00",
        "53.58",
        "0.00",
    )
    assert (rest["status"], rest["paid"], rest["credited"], rest["balance"]) == ("issued", "0.00", "53.58", "8.05")
    position = returned["position"]
    listed = ok(api.get("/v1/invoices", status="credited", min_position=position), 200)["items"]
    assert [i["invoice_id"] for i in listed] == ["INV-SH-1"]
    assert (balance(api, position)["open_ar"], balance(api, position)["unapplied_credit"]) == ("8.05", "0.00")

    paid = pay(api, "PAY-1", "8.05", "INV-SH-2")
    after = invoice(api, "INV-SH-2")
    assert (after["status"], after["paid"], after["balance"]) == ("paid", "8.05", "0.00")
    assert balance(api, paid["position"])["open_ar"] == "0.00"
    statuses = ok(api.get("/v1/invoices", customer_id="CAL", min_position=paid["position"]), 200)["items"]
    assert {i["invoice_id"]: i["status"] for i in statuses if i["kind"] == "invoice"} == {
        "INV-SH-1": "credited",
        "INV-SH-2": "paid",
    }
