"""What o2c sends a trading partner, each a pure function of recorded state to X12 text: the 997 that
acknowledges an interchange, the 855 (order acknowledgment), 856 (ship notice) and 810 (invoice).

Every document is one interchange holding one group and one set, all three numbered with the partner's next
control number (given by the caller, from the partner's sequence), from us (the partner's `our_*` ids) to
the partner. Its date and time are the state's own (acceptance, shipment, issue), so a document asked again
is the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.invoice import Invoice
from domain.order import Order
from domain.order.state import Line
from domain.shipment import Shipment
from domain.trading_partner import PartnerOrderReceived, TradingPartner
from domain.values import ZERO
from infra.adapters.x12.writer import (
    Elements,
    Party,
    ccyymmdd,
    cents,
    decimal_text,
    interchange,
    segment,
    transaction_set,
)

SET_REJECTED = "5"  # AK502: one or more segments in error (a set refused for what it says)


@dataclass(frozen=True)
class SetAck:
    set_id: str  # ST01
    control_number: str  # ST02
    accepted: bool


@dataclass(frozen=True)
class GroupAck:
    functional_id: str  # GS01
    control_number: str  # GS06
    sets: tuple[SetAck, ...]


def _parties(partner: TradingPartner) -> tuple[Party, Party]:
    us = Party(partner.our_isa_qualifier, partner.our_isa_id, partner.our_gs_id)
    them = Party(partner.isa_qualifier, partner.isa_id, partner.gs_id)
    return us, them


def functional_ack(partner: TradingPartner, groups: Sequence[GroupAck], control: int, at: datetime) -> str:
    """The 997: per received group an ST 997 with AK1, AK2/AK5 per set, AK9."""
    us, them = _parties(partner)
    sets = []
    for n, group in enumerate(groups):
        body: list[Elements] = [segment("AK1", group.functional_id, group.control_number)]
        for one in group.sets:
            body.append(segment("AK2", one.set_id, one.control_number))
            body.append(segment("AK5", "A") if one.accepted else segment("AK5", "R", SET_REJECTED))
        accepted = sum(1 for one in group.sets if one.accepted)
        status = "A" if accepted == len(group.sets) else ("R" if accepted == 0 else "P")
        body.append(segment("AK9", status, str(len(group.sets)), str(len(group.sets)), str(accepted)))
        sets.append(transaction_set("997", n + 1, body))
    return interchange(us, them, "FA", control, at, sets)


def _line_ref(line: Line) -> str:
    return line.customer_line_ref or line.line_id


def _ack_code(line: Line, placed_qty: int | None) -> str:
    """IR nothing left of it, IQ its qty changed since placed, IB some of it backordered, else IA."""
    if line.qty - line.cancelled <= 0:
        return "IR"
    if placed_qty is not None and line.qty != placed_qty:
        return "IQ"
    if line.backordered > 0:
        return "IB"
    return "IA"


def order_ack(partner: TradingPartner, state: Order, received: PartnerOrderReceived, control: int) -> str:
    """The 855: BAK, then per line its PO1 and an ACK with code, qty, unit and promised date (068)."""
    us, them = _parties(partner)
    body: list[Elements] = [segment("BAK", "00", "AC", received.customer_po, ccyymmdd(state.accepted_at))]
    for line in state.lines:
        placed = received.placed_qty.get(line.line_id, line.qty)  # PO1 echoes the line as ordered
        as_ordered = placed % line.factor == 0
        body.append(
            segment(
                "PO1",
                _line_ref(line),
                str(placed // line.factor if as_ordered else placed),
                (line.unit or line.base_uom if as_ordered else line.base_uom) or "EA",
                decimal_text(line.unit_price * line.factor if as_ordered else line.unit_price),
                "",
                "VN",
                line.sku,
            )
        )
        code = _ack_code(line, received.placed_qty.get(line.line_id))
        left = 0 if code == "IR" else line.qty - line.cancelled
        whole = left % line.factor == 0  # in the buyer's unit while a whole number of it
        qty = str(left // line.factor if whole else left)
        uom = (line.unit or line.base_uom if whole else line.base_uom) or "EA"
        promised = line.promised_date
        body.append(
            segment("ACK", code, qty, uom, "068" if promised else "", promised.strftime("%Y%m%d") if promised else "")
        )
    body.append(segment("CTT", str(len(state.lines))))
    return interchange(us, them, "PR", control, state.accepted_at, [transaction_set("855", control, body)])


def ship_notice(partner: TradingPartner, shipment: Shipment, state: Order, customer_po: str, control: int) -> str:
    """The 856: BSN; HL 1 the shipment (TD5 carrier, REF*CN tracking, DTM*011 ship date), HL 2 the order
    (PRF with the PO number), one HL per item (LIN with the SKU, SN1 shipped qty and unit)."""
    us, them = _parties(partner)
    at = shipment.shipped_at
    body: list[Elements] = [
        segment("BSN", "00", shipment.shipment_id, ccyymmdd(at), at.strftime("%H%M")),
        segment("HL", "1", "", "S"),
        *([segment("TD5", "B", "2", shipment.carrier)] if shipment.carrier else []),
        *([segment("REF", "CN", shipment.tracking)] if shipment.tracking else []),
        segment("DTM", "011", ccyymmdd(at)),
        segment("HL", "2", "1", "O"),
        segment("PRF", customer_po),
    ]
    for n, item in enumerate(shipment.lines, start=3):
        line = state.line_for_sku(item.sku)
        body.append(segment("HL", str(n), "2", "I"))
        body.append(segment("LIN", _line_ref(line) if line else "", "VN", item.sku))
        body.append(segment("SN1", "", str(item.qty), (line.base_uom if line else None) or "EA"))
    body.append(segment("CTT", str(len(shipment.lines))))
    return interchange(us, them, "SH", control, at, [transaction_set("856", control, body)])


def invoice_doc(
    partner: TradingPartner, inv: Invoice, state: Order, customer_po: str, number: str, at: datetime, control: int
) -> str:
    """The 810: BIG (date, invoice number, order date, PO number), IT1 per line (qty, unit, unit price,
    SKU), TDS total in cents, TXI tax, SAC freight (in cents), CTT."""
    us, them = _parties(partner)
    body: list[Elements] = [segment("BIG", ccyymmdd(at), number, ccyymmdd(state.accepted_at), customer_po)]
    for n, item in enumerate(inv.lines, start=1):
        line = next((ln for ln in state.lines if ln.line_id == item.line_id), None) or state.line_for_sku(item.sku)
        ref = _line_ref(line) if line else str(n)
        uom = (line.base_uom if line else None) or "EA"
        body.append(segment("IT1", ref, str(item.qty), uom, decimal_text(item.unit_price), "", "VN", item.sku))
    body.append(segment("TDS", cents(inv.total if inv.total is not None else inv.subtotal)))
    body.append(segment("TXI", "TX", decimal_text(inv.tax if inv.tax is not None else ZERO)))
    if inv.freight:
        body.append(segment("SAC", "C", "D240", "", "", cents(inv.freight)))
    body.append(segment("CTT", str(len(inv.lines))))
    return interchange(us, them, "IN", control, at, [transaction_set("810", control, body)])
