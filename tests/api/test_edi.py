"""EDI over HTTP on both stores (API.md "EDI (ANSI X12 004010)"): an 850 interchange of two sets (one
refused), its 997 segment by segment, the replay of the same control number, then the 855, 856 and 810
read back by o2c's own reader."""

from __future__ import annotations

import pytest

from infra.service import Service
from tests.api.billing import wait_invoice
from tests.api.edi_world import PARTNER, elements, only_set, post_x12, with_partner, x12_of
from tests.conftest import Api
from tests.http import ok, problem, read, receive
from tests.x12_build import interchange, po850

GOOD = po850(
    "0001",
    "PO-1",
    [["1", "10", "EA", "8.50", "", "VN", "BOLT-10"], ["2", "4", "EA", ".25", "", "UP", "0001", "BP", "NUT-4"]],
)
BAD = po850("0002", "PO-2", [["1", "3", "EA", "1.00", "", "VN", "NO-SUCH-SKU"]])


def service(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


@pytest.fixture
def edi(seeded: Api) -> Api:
    receive(seeded, "R-1", "W-A", "BOLT-10", 100)
    return with_partner(seeded)


def test_a_partner_is_put_and_read_and_its_identity_is_its_own(seeded: Api) -> None:
    api = seeded
    created = ok(api.put("/v1/trading-partners/ACME", PARTNER))
    assert created["partner_id"] == "ACME" and created["isa_id"] == "ACMEBUY"
    assert ok(api.put("/v1/trading-partners/ACME", PARTNER), 200)["position"] == created["position"]
    assert read(api, "/v1/trading-partners/ACME")["customer_id"] == "C1"
    problem(api.put("/v1/trading-partners/OTHER", PARTNER), 409, "partner_identity_taken")
    moved = {**PARTNER, "gs_id": "ACMEWEST"}
    ok(api.put("/v1/trading-partners/ACME", moved), 200)
    ok(api.put("/v1/trading-partners/OTHER", PARTNER))  # the old identity was released
    problem(
        api.put("/v1/trading-partners/X", {**PARTNER, "isa_id": "NEW", "customer_id": "NOPE"}), 422, "unknown_customer"
    )
    problem(api.get("/v1/trading-partners/NOPE"), 404, "not_found")


def test_two_sets_one_refused_the_997_per_set_and_the_same_icn_answers_the_same(edi: Api) -> None:
    api = edi
    r = post_x12(api, interchange([GOOD, BAD]))
    body = ok(r, 200)
    assert body["interchange_control_number"] == "000000101"
    first, second = body["transactions"]
    assert (first["control_number"], first["status"], first["order_id"], first["problem"]) == (
        "0001",
        "accepted",
        "ACME-PO-1",
        None,
    )
    assert (second["control_number"], second["status"], second["order_id"]) == ("0002", "rejected", "ACME-PO-2")
    assert second["problem"]["code"] == "unknown_sku" and second["problem"]["status"] == 422

    placed = read(api, "/v1/orders/ACME-PO-1")
    assert (placed["channel"], placed["customer_id"], placed["customer_po"], placed["requested_date"]) == (
        "edi",
        "C1",
        "PO-1",
        "2026-12-15",
    )
    assert placed["ship_to"] == {
        "name": "ACME Dock 4",
        "address": ["1 Harbour Road", "Gate B"],
        "city": "Oakland",
        "region": "CA",
        "postal_code": "94607",
        "country": "US",
        "gln": "4012345000009",
    }
    assert [(ln["sku"], ln["qty"], ln["unit_price"], ln["customer_line_ref"]) for ln in placed["lines"]] == [
        ("BOLT-10", 10, "8.50", "1"),
        ("NUT-4", 4, "0.25", "2"),
    ]
    problem(api.get("/v1/orders/ACME-PO-2"), 404, "not_found")

    ack = read_ack(body["ack_997"])
    assert ack == [
        ("ST", "997", "0001"),
        ("AK1", "PO", "4001"),
        ("AK2", "850", "0001"),
        ("AK5", "A"),
        ("AK2", "850", "0002"),
        ("AK5", "R", "5"),
        ("AK9", "P", "2", "2", "1"),
    ]

    svc = service(api)
    head = svc.store.head()
    again = post_x12(api, interchange([GOOD, BAD]))
    assert again.status_code == 200 and again.content == r.content  # the original answer, byte for byte
    assert svc.store.head() == head  # nothing recorded again
    # the same control number from the same partner, even with other sets: the original answer
    assert post_x12(api, interchange([BAD])).content == r.content


def read_ack(text: str) -> list[tuple[str, ...]]:
    """The 997 read back: envelopes from us to the partner, then its set's segments."""
    from infra.adapters.x12.reader import read_interchange

    x = read_interchange(text)
    assert (x.sender_qualifier, x.sender_id, x.receiver_qualifier, x.receiver_id) == ("ZZ", "O2CSELL", "ZZ", "ACMEBUY")
    group, one = only_set(x)
    assert (group.functional_id, group.sender, group.receiver, group.version) == ("FA", "O2CSELL", "ACMEBUY", "004010")
    assert int(x.control_number) == int(group.control_number)
    return [("ST", one.id, one.control_number), *elements(one.segments)]


def test_a_set_that_cannot_be_read_is_refused_alone(edi: Api) -> None:
    api = edi
    no_sku = po850("0003", "PO-3", [["1", "3", "EA", "8.50", "", "UP", "0001"]])
    bad_qty = po850("0004", "PO-4", [["1", "x", "EA", "8.50", "", "VN", "BOLT-10"]])
    body = ok(post_x12(api, interchange([no_sku, GOOD, bad_qty], icn="000000102")), 200)
    assert [(t["status"], (t["problem"] or {}).get("code")) for t in body["transactions"]] == [
        ("rejected", "invalid_request"),
        ("accepted", None),
        ("rejected", "invalid_request"),
    ]
    assert body["transactions"][0]["problem"]["errors"] == [
        {"field": "PO1[1].PO106", "message": "no product id qualified VN or BP"}
    ]
    assert body["transactions"][2]["problem"]["errors"][0]["field"] == "PO1[1].PO102"
    again = ok(post_x12(api, interchange([GOOD], icn="000000103")), 200)  # a PO number placed before
    assert again["transactions"][0]["problem"]["code"] == "duplicate_id"


def test_the_855_856_and_810_read_back_with_control_numbers_rising_per_partner(edi: Api) -> None:
    api = edi
    ok(post_x12(api, interchange([GOOD])), 200)  # its 997 took control number 1
    x855 = x12_of(api.get("/v1/orders/ACME-PO-1/edi/855"))
    assert (x855.sender_id, x855.receiver_id, x855.control_number) == ("O2CSELL", "ACMEBUY", "000000002")
    group, ack = only_set(x855)
    assert (group.functional_id, ack.id, ack.control_number) == ("PR", "855", "0002")
    assert elements(ack.segments, "BAK", "ACK") == [
        ("BAK", "00", "AC", "PO-1", elements(ack.segments, "BAK")[0][4]),
        ("ACK", "IA", "10", "EA"),
        ("ACK", "IB", "4", "EA"),
    ]
    assert api.get("/v1/orders/ACME-PO-1/edi/855").text == api.get("/v1/orders/ACME-PO-1/edi/855").text

    shipment = {
        "shipment_id": "SH-1",
        "order_id": "ACME-PO-1",
        "warehouse_id": "W-A",
        "lines": [{"sku": "BOLT-10", "qty": 10}],
        "carrier": "UPS",
        "tracking": "1Z999",
        "freight": "12.00",
    }
    ok(api.post("/v1/shipments", shipment))
    x856 = x12_of(api.get("/v1/shipments/SH-1/edi/856"))
    group, notice = only_set(x856)
    assert (x856.control_number, group.functional_id, notice.id) == ("000000003", "SH", "856")
    assert elements(notice.segments, "BSN")[0][1:3] == ("00", "SH-1")
    assert elements(notice.segments, "HL", "TD5", "REF", "PRF", "LIN", "SN1") == [
        ("HL", "1", "", "S"),
        ("TD5", "B", "2", "UPS"),
        ("REF", "CN", "1Z999"),
        ("HL", "2", "1", "O"),
        ("PRF", "PO-1"),
        ("HL", "3", "2", "I"),
        ("LIN", "1", "VN", "BOLT-10"),
        ("SN1", "", "10", "EA"),
    ]

    issued = wait_invoice(api, "INV-SH-1", "issued")
    x810 = x12_of(api.get("/v1/invoices/INV-SH-1/edi/810"))
    group, inv = only_set(x810)
    assert (x810.control_number, group.functional_id, inv.id) == ("000000004", "IN", "810")
    big = elements(inv.segments, "BIG")[0]
    assert (big[2], big[4]) == (str(issued["number"]), "PO-1")
    total_cents = str(int(issued["total"].replace(".", "")))
    assert elements(inv.segments, "IT1", "TDS", "TXI", "SAC") == [
        ("IT1", "1", "10", "EA", "8.5", "", "VN", "BOLT-10"),
        ("TDS", total_cents),
        ("TXI", "TX", _r(issued["tax"])),
        ("SAC", "C", "D240", "", "", "1200"),
    ]
    problem(api.get("/v1/orders/NOPE/edi/855"), 404, "not_found")


def _r(amount: str) -> str:
    from decimal import Decimal

    return format(Decimal(amount).normalize(), "f")


def test_documents_of_orders_that_came_from_no_partner_are_not_found(edi: Api) -> None:
    api = edi
    ok(
        api.post(
            "/v1/orders",
            {"order_id": "WEB-1", "customer_id": "C1", "channel": "web", "lines": [{"sku": "BOLT-10", "qty": 1}]},
        )
    )
    problem(api.get("/v1/orders/WEB-1/edi/855"), 404, "not_found")
    ok(
        api.post(
            "/v1/shipments",
            {
                "shipment_id": "SH-W",
                "order_id": "WEB-1",
                "warehouse_id": "W-A",
                "lines": [{"sku": "BOLT-10", "qty": 1}],
            },
        )
    )
    problem(api.get("/v1/shipments/SH-W/edi/856"), 404, "not_found")
    problem(api.get("/v1/invoices/INV-SH-W/edi/810"), 404, "not_found")
