"""The outbound documents as pure functions of state, against golden files (tests/infra/x12/golden), and
read back by o2c's own reader: the 997, an 855 with every ACK code, an 856 and an 810.
`O2C_GOLDEN=write` rewrites the files (then read the diff)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from domain.invoice import Invoice, InvoiceLine
from domain.order import Order
from domain.order.state import Line
from domain.shipment import Shipment, ShipmentLine
from domain.trading_partner import PartnerOrderReceived, TradingPartner
from infra.adapters.x12 import documents
from infra.adapters.x12.reader import read_interchange
from infra.adapters.x12.writer import clean

GOLDEN = Path(__file__).parent / "golden"
PARTNER = TradingPartner("ACME", "C1", "ZZ", "ACMEBUY", "ACMEBUY", "12", "5551234567", "O2CSELL")
AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
ORDER = Order(
    order_id="ACME-PO-1",
    customer_id="C1",
    channel="edi",
    warehouse_id=None,
    allow_backorder=True,
    accepted_at=AT,
    customer_po="PO-1",
    lines=(
        Line("1", "BOLT-10", 10, Decimal("8.50"), allocations={"W-A": 10}, customer_line_ref="1", base_uom="EA"),
        Line(
            "2",
            "WIDGET",
            24,
            Decimal("2.00"),
            allocations={"W-A": 24},
            customer_line_ref="2",
            base_uom="EA",
            unit="CS",
            factor=12,
        ),
        Line("3", "NUT-4", 4, Decimal("0.25"), promised_date=date(2026, 12, 20), customer_line_ref="3", base_uom="EA"),
        Line("4", "GASKET", 5, Decimal("1.10"), cancelled=5, customer_line_ref="4", base_uom="EA"),
    ),
)
RECEIVED = PartnerOrderReceived(
    order_id="ACME-PO-1",
    partner_id="ACME",
    interchange_control_number="000000101",
    control_number="0001",
    customer_po="PO-1",
    placed_qty={"1": 10, "2": 36, "3": 4, "4": 5},
)


def golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("O2C_GOLDEN") == "write":
        path.write_text(text)
    assert text == path.read_text()


def test_the_997_acknowledges_each_set_and_the_group() -> None:
    groups = [
        documents.GroupAck(
            "PO", "4001", (documents.SetAck("850", "0001", True), documents.SetAck("850", "0002", False))
        ),
        documents.GroupAck("PO", "4002", (documents.SetAck("850", "0001", False),)),
    ]
    text = documents.functional_ack(PARTNER, groups, 7, AT)
    golden("997.x12", text)
    x = read_interchange(text)
    assert (x.sender_qualifier, x.sender_id, x.receiver_id, x.control_number) == (
        "12",
        "5551234567",
        "ACMEBUY",
        "000000007",
    )
    (group,) = x.groups
    assert [s.control_number for s in group.sets] == ["0001", "0002"]
    assert [(s.id, *s.elements) for s in group.sets[1].segments] == [
        ("AK1", "PO", "4002"),
        ("AK2", "850", "0001"),
        ("AK5", "R", "5"),
        ("AK9", "R", "1", "1", "0"),
    ]


def test_the_855_codes_each_line_ia_iq_ib_ir_with_qty_unit_and_promised_date() -> None:
    text = documents.order_ack(PARTNER, ORDER, RECEIVED, 8)
    golden("855.x12", text)
    (group,) = read_interchange(text).groups
    acks = [(s.id, *s.elements) for s in group.sets[0].segments if s.id == "ACK"]
    assert acks == [
        ("ACK", "IA", "10", "EA"),
        ("ACK", "IQ", "2", "CS"),
        ("ACK", "IB", "4", "EA", "068", "20261220"),
        ("ACK", "IR", "0", "EA"),
    ]


def test_the_856_has_the_hl_hierarchy_carrier_tracking_and_shipped_items() -> None:
    shipment = Shipment(
        "SH-1",
        "ACME-PO-1",
        "C1",
        "W-A",
        (ShipmentLine(sku="BOLT-10", qty=10), ShipmentLine(sku="WIDGET", qty=24)),
        "UPS",
        "1Z999",
        Decimal("12.00"),
        AT,
    )
    text = documents.ship_notice(PARTNER, shipment, ORDER, "PO-1", 9)
    golden("856.x12", text)
    (group,) = read_interchange(text).groups
    hls = [(s.id, *s.elements) for s in group.sets[0].segments if s.id == "HL"]
    assert hls == [("HL", "1", "", "S"), ("HL", "2", "1", "O"), ("HL", "3", "2", "I"), ("HL", "4", "2", "I")]


def test_the_810_totals_in_cents_with_tax_and_freight() -> None:
    inv = Invoice(
        invoice_id="INV-SH-1",
        kind="invoice",
        order_id="ACME-PO-1",
        shipment_id="SH-1",
        customer_id="C1",
        tax_region="CA",
        lines=(
            InvoiceLine(sku="BOLT-10", qty=10, unit_price=Decimal("8.50"), amount=Decimal("85.00"), line_id="1"),
            InvoiceLine(sku="WIDGET", qty=24, unit_price=Decimal("2.00"), amount=Decimal("48.00"), line_id="2"),
        ),
        freight=Decimal("12.00"),
        subtotal=Decimal("145.00"),
        tax=Decimal("10.51"),
        tax_rate=Decimal("0.0725"),
        total=Decimal("155.51"),
        number=42,
    )
    text = documents.invoice_doc(PARTNER, inv, ORDER, "PO-1", "42", AT, 10)
    golden("810.x12", text)
    (group,) = read_interchange(text).groups
    found = {s.id: s.elements for s in group.sets[0].segments}
    assert (found["BIG"][1], found["BIG"][3], found["TDS"], found["TXI"], found["SAC"][4]) == (
        "42",
        "PO-1",
        ("15551",),
        ("TX", "10.51"),
        "1200",
    )


@pytest.mark.parametrize(("value", "cleaned"), [("A*B~C>D", "A B C D"), ("Caf\u00e9\n", "Caf? ")])
def test_a_value_never_carries_a_separator_or_non_ascii(value: str, cleaned: str) -> None:
    assert clean(value) == cleaned
