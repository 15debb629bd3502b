"""The journal over HTTP (API.md "Posting to finance: the journal"): GET /v1/journal lists the entries
the posting workflow records within seconds (and the feed carries them), in posting order, paged and
filtered by day; GET /v1/journal/trial-balance sums them as of a day, balanced, its ar and unapplied
accounts equal to the customer's balance. Bad days are 4xx problems, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from infra.service import Service
from tests.api.test_credit_notes import RATE, give_back, shipped_and_issued
from tests.conftest import Api, make_settings, wait_until
from tests.http import line, ok, place, problem, receive

ENTRY_KEYS = {"entry_id", "posted_on", "source", "customer_id", "memo", "lines"}


@pytest.fixture
def api(database_url: str) -> Iterator[Api]:
    """Built-in tax (CA 7.25 %); customer CAL, WIDGET at 12.49, 100 in stock at W-A; short read waits."""
    settings = make_settings(database_url, tax_rates=RATE, min_position_wait=2.0)
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        ok(api.put("/v1/warehouses/W-A", {"name": "A"}))
        ok(api.put("/v1/products/WIDGET", {"name": "Widget", "unit_price": "12.49"}))
        receive(api, "R-1", "W-A", "WIDGET", 100)
        customer = {"name": "Cal Co", "credit_limit": "100000.00", "tax_region": "CA", "status": "active"}
        ok(api.put("/v1/customers/CAL", customer))
        yield api


def svc_of(api: Api) -> Service:
    service: Service = api.client.app.state.service  # type: ignore[attr-defined]
    return service


def journal(api: Api, position: int, **params: Any) -> list[dict[str, Any]]:
    """The journal as of `position`: every source up to it posted (min_position waits for the workflow)."""
    items: list[dict[str, Any]] = ok(api.get("/v1/journal", min_position=position, **params), 200)["items"]
    return items


def story(api: Api) -> int:
    """An invoice of 61.63 (4 x 12.49 + 7.50 freight, tax 4.17), paid with 70.00 (8.37 unapplied), a
    return of 1 unit of it credited (13.40, unapplied: the invoice is paid). Returns the last position."""
    ok(place(api, "SO-1", [line("WIDGET", 6)], "CAL"))
    assert shipped_and_issued(api, "SH-1", "SO-1", 4, freight="7.50")["total"] == "61.63"
    ok(api.post("/v1/payments", {"payment_id": "PAY-1", "customer_id": "CAL", "amount": "70.00"}))
    position: int = give_back(api, "RMA-1", "SO-1", 1)["position"]
    return position


def dr(account: str, amount: str) -> dict[str, str]:
    return {"account": account, "debit": amount, "credit": "0.00"}


def cr(account: str, amount: str) -> dict[str, str]:
    return {"account": account, "debit": "0.00", "credit": amount}


def test_each_invoice_payment_and_credit_note_posts_one_balanced_entry_in_posting_order(api: Api) -> None:
    story(api)
    entries = wait_until(lambda: len(found := ok(api.get("/v1/journal"), 200)["items"]) == 3 and found, timeout=10)
    assert entries, "the entries are posted within seconds"
    today = svc_of(api).clock.today().isoformat()
    assert all(set(e) == ENTRY_KEYS and e["customer_id"] == "CAL" and e["posted_on"] == today for e in entries)
    assert [(e["entry_id"], e["source"], e["lines"]) for e in entries] == [
        (
            "JE-invoice-INV-SH-1",
            {"kind": "invoice", "id": "INV-SH-1"},
            [dr("1200", "61.63"), cr("4000", "49.96"), cr("4100", "7.50"), cr("2200", "4.17")],
        ),
        (
            "JE-payment-PAY-1",
            {"kind": "payment", "id": "PAY-1"},
            [dr("1000", "70.00"), cr("1200", "61.63"), cr("2300", "8.37")],
        ),
        (
            "JE-credit_note-CN-RMA-1",
            {"kind": "credit_note", "id": "CN-RMA-1"},
            [dr("4000", "12.49"), dr("2200", "0.91"), cr("2300", "13.40")],
        ),
    ]
    for e in entries:
        debits = sum(Decimal(ln["debit"]) for ln in e["lines"])
        assert debits == sum(Decimal(ln["credit"]) for ln in e["lines"]) and e["memo"], e
    feed = ok(api.get("/v1/events", limit=1000), 200)["events"]
    posted = [e for e in feed if e["type"] == "o2c.JournalEntryPosted"]
    assert [e["data"]["entry_id"] for e in posted] == [e["entry_id"] for e in entries]
    assert posted[0]["subject"] == "journal/JE-invoice-INV-SH-1" and posted[0]["actor"] == "workflow:journal"


def test_the_journal_pages_by_cursor_and_filters_by_day(api: Api) -> None:
    entries = journal(api, story(api))
    assert len(entries) == 3
    first = ok(api.get("/v1/journal", limit=2), 200)
    assert first["items"] == entries[:2] and isinstance(first["next_after"], str)
    rest = ok(api.get("/v1/journal", limit=2, after=first["next_after"]), 200)
    assert rest["items"] == entries[2:] and rest["next_after"] is None
    today = svc_of(api).clock.today()
    day, before, after = today.isoformat(), (today - timedelta(days=1)).isoformat(), (today + timedelta(1)).isoformat()
    assert ok(api.get("/v1/journal", **{"from": day, "to": day}), 200)["items"] == entries
    assert ok(api.get("/v1/journal", **{"from": after}), 200)["items"] == []
    assert ok(api.get("/v1/journal", to=before), 200)["items"] == []
    assert ok(api.get("/v1/journal", **{"from": after, "to": before}), 200)["items"] == []  # an empty range
    assert ok(api.get("/v1/journal", customer_id="OTHER"), 200)["items"] == []


def test_the_trial_balance_balances_and_its_ar_and_unapplied_are_the_customer_balance(api: Api) -> None:
    position = story(api)
    today = svc_of(api).clock.today()
    tb = ok(api.get("/v1/journal/trial-balance", as_of=today.isoformat(), min_position=position), 200)
    assert (tb["as_of"], tb["currency"]) == (today.isoformat(), "USD")
    accounts = {a["account"]: a for a in tb["accounts"]}
    assert list(accounts) == ["1000", "1200", "2200", "2300", "4000", "4100", "4900"]
    assert accounts["1200"] == {"account": "1200", "role": "ar", "debit": "61.63", "credit": "61.63", "balance": "0.00"}
    assert accounts["2300"]["balance"] == "-21.77" and accounts["1000"]["balance"] == "70.00"
    assert accounts["4000"]["balance"] == "-37.47" and accounts["4900"]["balance"] == "0.00"
    assert tb["totals"] == {"debit": "145.03", "credit": "145.03"}
    bal = ok(api.get("/v1/customers/CAL/balance", min_position=position), 200)
    assert (bal["open_ar"], bal["unapplied_credit"]) == ("0.00", "21.77")
    assert ok(api.get("/v1/journal/trial-balance"), 200)["as_of"] == today.isoformat()  # as of today by default
    yesterday = ok(api.get("/v1/journal/trial-balance", as_of=(today - timedelta(days=1)).isoformat()), 200)
    assert {a["balance"] for a in yesterday["accounts"]} == {"0.00"}
    assert yesterday["totals"] == {"debit": "0.00", "credit": "0.00"}


def test_reads_wait_for_min_position_and_answer_the_position_they_reflect(api: Api) -> None:
    ok(place(api, "SO-1", [line("WIDGET", 6)], "CAL"))
    shipped_and_issued(api, "SH-1", "SO-1", 4)
    paid = ok(api.post("/v1/payments", {"payment_id": "PAY-1", "customer_id": "CAL", "amount": "1.00"}))
    position = paid["position"]
    assert journal(api, position)[-1]["entry_id"] == "JE-payment-PAY-1"  # at once: no polling
    for path in ("/v1/journal", "/v1/journal/trial-balance"):
        assert ok(api.get(path, min_position=position), 200)["position"] > position  # the entry's, after it
        body = problem(api.get(path, min_position=position + 10_000), 503, "stale_read_model")
        assert body["min_position"] == position + 10_000


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/v1/journal/trial-balance", {"as_of": "2026-13-01"}, "as_of"),
        ("/v1/journal/trial-balance", {"as_of": "2026-02-30"}, "as_of"),
        ("/v1/journal/trial-balance", {"as_of": "yesterday"}, "as_of"),
        ("/v1/journal/trial-balance", {"as_of": "2026-12-01T00:00:00Z"}, "as_of"),
        ("/v1/journal/trial-balance", {"as_of": ""}, "as_of"),
        ("/v1/journal", {"from": "2026-1-1"}, "from"),
        ("/v1/journal", {"to": "20261201"}, "to"),
        ("/v1/journal", {"after": "-1"}, "after"),
        ("/v1/journal", {"limit": "0"}, "limit"),
        ("/v1/journal", {"customer_id": "bad id"}, "customer_id"),
    ],
)
def test_bad_days_and_cursors_are_422_problems_naming_the_parameter(
    api: Api, path: str, params: dict[str, str], field: str
) -> None:
    head = svc_of(api).store.head()
    body = problem(api.get(path, **params), 422, "invalid_request")
    assert [e["field"] for e in body["errors"]] == [field], body
    assert svc_of(api).store.head() == head
