"""Expected supply and promise dates over HTTP (API.md "Expected supply and promise dates"), on
both stores, with the service's clock fixed: expected receipts, ATP incoming, the promise answer,
and the promising workflow recording each line's date on its order."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from infra.clock import FixedClock
from infra.service import Service
from tests.conftest import Api, settle, wait_until
from tests.http import line, ok, place, problem, read, receive

TODAY = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def clocked(seeded: Api) -> Api:
    """The seeded app with its clock at 2027-01-10 09:00 UTC."""
    service(seeded).clock = FixedClock(TODAY)
    return seeded


def service(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


def expect(api: Api, expected_id: str, qty: int, on: str, warehouse_id: str = "W-A", sku: str = "BOLT-10") -> Any:
    body = {"expected_id": expected_id, "warehouse_id": warehouse_id, "sku": sku, "qty": qty, "expected_on": on}
    return api.post("/v1/inventory/expected-receipts", body)


def head(api: Api) -> int:
    return max((e["position"] for e in ok(api.get("/v1/events", after=0, limit=1000), 200)["events"]), default=0)


def promised(api: Api, order_id: str) -> list[str | None]:
    settle(service(api))
    return [ln["promised_date"] for ln in read(api, f"/v1/orders/{order_id}")["lines"]]


def test_an_expected_receipt_is_created_changed_counted_against_and_closed(clocked: Api) -> None:
    created = ok(expect(clocked, "E-1", 10, "2027-01-20"))
    assert {k: created[k] for k in ("qty", "received", "open", "expected_on", "status")} == {
        "qty": 10,
        "received": 0,
        "open": 10,
        "expected_on": "2027-01-20",
        "status": "open",
    }
    assert ok(expect(clocked, "E-1", 10, "2027-01-20")) == created  # same id, same body: the first answer
    problem(expect(clocked, "E-1", 11, "2027-01-20"), 409, "duplicate_id")
    lines = [{"sku": "BOLT-10", "qty": 4, "expected_id": "E-1"}]
    ok(clocked.post("/v1/inventory/receipts", {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": lines}))
    got = read(clocked, "/v1/inventory/expected-receipts/E-1")
    assert (got["received"], got["open"], got["status"]) == (4, 6, "open")
    below = problem(clocked.post("/v1/inventory/expected-receipts/E-1/changes", {"qty": 3}), 409, "below_received")
    assert below["received"] == 4
    moved = ok(
        clocked.post("/v1/inventory/expected-receipts/E-1/changes", {"expected_on": "2027-01-25", "qty": 8}), 200
    )
    assert (moved["expected_on"], moved["qty"], moved["open"]) == ("2027-01-25", 8, 4)
    closed = ok(clocked.post("/v1/inventory/expected-receipts/E-1/close", {"reason": "supplier short"}), 200)
    assert (closed["status"], closed["open"]) == ("closed", 0)
    assert read(clocked, "/v1/atp/BOLT-10", closed["position"])["incoming"] == []


def test_a_receipt_counts_only_the_open_rest_and_closes_the_expected_receipt(clocked: Api) -> None:
    ok(expect(clocked, "E-1", 5, "2027-01-20"))
    lines = [{"sku": "BOLT-10", "qty": 7, "expected_id": "E-1"}]
    ok(clocked.post("/v1/inventory/receipts", {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": lines}))
    got = read(clocked, "/v1/inventory/expected-receipts/E-1")
    assert (got["received"], got["open"], got["status"]) == (5, 0, "closed")
    assert read(clocked, "/v1/atp/BOLT-10")["on_hand"] == 7  # the stock is all received


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"qty": 0}, "invalid_request", "qty"),
        ({"expected_on": "2027-02-30"}, "invalid_request", "expected_on"),
        ({"expected_on": "soon"}, "invalid_request", "expected_on"),
        ({"warehouse_id": "W-NONE"}, "unknown_warehouse", None),
        ({"sku": "NOPE-1"}, "unknown_sku", None),
        ({"reference": "a\u0000b"}, "invalid_request", "reference"),
    ],
)
def test_bad_expected_receipts_are_refused_and_record_nothing(
    clocked: Api, body: dict[str, Any], code: str, field: str | None
) -> None:
    before = head(clocked)
    sent = {
        "expected_id": "E-9",
        "warehouse_id": "W-A",
        "sku": "BOLT-10",
        "qty": 3,
        "expected_on": "2027-01-20",
        **body,
    }
    refused = problem(clocked.post("/v1/inventory/expected-receipts", sent), 422, code)
    if field:
        assert field in [e["field"] for e in refused["errors"]]
    assert head(clocked) == before
    problem(clocked.get("/v1/inventory/expected-receipts/E-9"), 404, "not_found")


def test_a_receipt_naming_an_expected_receipt_of_another_sku_is_refused_whole(clocked: Api) -> None:
    ok(expect(clocked, "E-1", 5, "2027-01-20", sku="NUT-4"))
    before = head(clocked)
    body = {"receipt_id": "R-1", "warehouse_id": "W-B", "lines": [{"sku": "NUT-4", "qty": 2, "expected_id": "E-1"}]}
    refused = problem(clocked.post("/v1/inventory/receipts", body), 422, "invalid_request")
    assert refused["errors"][0]["field"] == "lines[0].expected_id"
    assert head(clocked) == before and read(clocked, "/v1/atp/NUT-4")["on_hand"] == 0


def test_atp_shows_incoming_by_date_then_warehouse_with_past_dates_as_today(clocked: Api) -> None:
    receive(clocked, "R-1", "W-A", "BOLT-10", 10)
    ok(expect(clocked, "E-LATE", 4, "2027-01-03", warehouse_id="W-B"))  # overdue: counts as today
    ok(expect(clocked, "E-1", 6, "2027-01-20", warehouse_id="W-C"))
    transfer = {
        "transfer_id": "T-1",
        "from_warehouse_id": "W-A",
        "to_warehouse_id": "W-C",
        "sku": "BOLT-10",
        "qty": 3,
        "expected_on": "2027-01-20",
    }
    moved = ok(clocked.post("/v1/inventory/transfers", transfer))
    assert moved["expected_on"] == "2027-01-20"
    atp = read(clocked, "/v1/atp/BOLT-10", moved["position"])
    assert atp["incoming"] == [
        {"date": "2027-01-10", "warehouse_id": "W-B", "qty": 4},
        {"date": "2027-01-20", "warehouse_id": "W-C", "qty": 9},
    ]
    assert read(clocked, "/v1/atp/BOLT-10", warehouse_id="W-C")["incoming"] == [
        {"date": "2027-01-20", "warehouse_id": "W-C", "qty": 9}
    ]
    ok(clocked.post("/v1/inventory/transfers/T-1/receive", {}), 200)
    assert read(clocked, "/v1/atp/BOLT-10")["incoming"][-1] == {"date": "2027-01-20", "warehouse_id": "W-C", "qty": 6}


def test_the_promise_answer_is_today_a_supply_date_or_null(clocked: Api) -> None:
    receive(clocked, "R-1", "W-A", "BOLT-10", 5)
    ok(place(clocked, "SO-1", [line("BOLT-10", 8)]))  # 5 allocated, 3 waiting ahead of any new order
    ok(expect(clocked, "E-1", 4, "2027-01-15", warehouse_id="W-B"))
    ok(expect(clocked, "E-2", 10, "2027-01-25"))
    answer = read(clocked, "/v1/atp/BOLT-10/promise", qty=1)
    assert (answer["available_now"], answer["promise_date"]) == (0, "2027-01-15")  # 3 for SO-1, then 1
    assert read(clocked, "/v1/atp/BOLT-10/promise", qty=2)["promise_date"] == "2027-01-25"
    assert read(clocked, "/v1/atp/BOLT-10/promise", qty=11)["promise_date"] == "2027-01-25"
    assert read(clocked, "/v1/atp/BOLT-10/promise", qty=12)["promise_date"] is None  # supply never covers it
    assert read(clocked, "/v1/atp/BOLT-10/promise", qty=1, warehouse_id="W-B")["promise_date"] == "2027-01-15"
    receive(clocked, "R-2", "W-C", "NUT-4", 9)
    now = read(clocked, "/v1/atp/NUT-4/promise", qty=9)
    assert (now["available_now"], now["promise_date"]) == (9, "2027-01-10")
    problem(clocked.get("/v1/atp/BOLT-10/promise", qty=0), 422, "invalid_request")
    problem(clocked.get("/v1/atp/BOLT-10/promise"), 422, "invalid_request")
    problem(clocked.get("/v1/atp/NOPE/promise", qty=1), 404, "unknown_sku")
    problem(clocked.get("/v1/atp/BOLT-10/promise", qty=1, warehouse_id="W-NONE"), 422, "unknown_warehouse")


def test_the_workflow_promises_backorders_in_queue_order_and_reschedules(clocked: Api) -> None:
    """Several backorders, a pinned one, supply arriving early and late, and a date that moves."""
    ok(place(clocked, "SO-1", [line("BOLT-10", 4)]))
    ok(place(clocked, "SO-2", [line("BOLT-10", 3)], warehouse_id="W-B"))  # pinned to W-B
    ok(place(clocked, "SO-3", [line("BOLT-10", 2)]))
    assert promised(clocked, "SO-1") == [None]  # no known supply: no date
    ok(expect(clocked, "E-A", 5, "2027-01-15"))  # at W-A: SO-1 (4), then 1 of SO-3; SO-2 is pinned
    ok(expect(clocked, "E-B", 3, "2027-01-18", warehouse_id="W-B"))
    assert (promised(clocked, "SO-1"), promised(clocked, "SO-2"), promised(clocked, "SO-3")) == (
        ["2027-01-15"],
        ["2027-01-18"],
        [None],
    )
    ok(expect(clocked, "E-A2", 1, "2027-01-22"))
    assert promised(clocked, "SO-3") == ["2027-01-22"]
    ok(clocked.post("/v1/inventory/expected-receipts/E-A/changes", {"expected_on": "2027-01-12"}), 200)  # early
    assert (promised(clocked, "SO-1"), promised(clocked, "SO-3")) == (["2027-01-12"], ["2027-01-22"])
    ok(clocked.post("/v1/inventory/expected-receipts/E-B/changes", {"expected_on": "2027-01-30"}), 200)  # late
    assert promised(clocked, "SO-2") == ["2027-01-30"]
    history = read(clocked, "/v1/orders/SO-2/history")["events"]
    slips = [e["data"] for e in history if e["type"] == "BackorderPromised"]
    assert [(s["previous"], s["promised_date"]) for s in slips] == [(None, "2027-01-18"), ("2027-01-18", "2027-01-30")]
    ok(
        clocked.post(
            "/v1/inventory/receipts",
            {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 5, "expected_id": "E-A"}]},
        )
    )
    assert promised(clocked, "SO-1") == [None]  # filled: nothing waits any more
    feed = ok(clocked.get("/v1/events", after=0, limit=1000), 200)["events"]
    assert any(e["type"] == "o2c.BackorderPromised" for e in feed)
    before = len([e for e in read(clocked, "/v1/orders/SO-3/history")["events"] if e["type"] == "BackorderPromised"])
    receive(clocked, "R-2", "W-C", "NUT-4", 1)  # another SKU: SO-3's promise is not recorded again
    settle(service(clocked))
    after = [e for e in read(clocked, "/v1/orders/SO-3/history")["events"] if e["type"] == "BackorderPromised"]
    assert len(after) == before
    assert wait_until(lambda: promised(clocked, "SO-3") == ["2027-01-22"])
