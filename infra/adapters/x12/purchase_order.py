"""An 850 purchase order as the values an order is placed from (API.md "EDI (ANSI X12 004010)").

BEG03 is the PO number, DTM*002 the requested delivery date, the N1*ST loop (N1, N3, N4) the ship-to, and
each PO1 a line: PO101 the buyer's line number, PO102 qty, PO103 unit, PO104 price per that unit, and the
SKU from the first PO106/PO107, PO108/PO109, ... pair qualified VN (vendor's item number) or BP (buyer's part
number, which o2c takes to be its SKU too). What cannot be read is an `InvalidRequestError` naming the
segment and element (`field`: e.g. `PO1[2].PO102`), so the set is refused with a problem document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from domain.errors import InvalidRequestError
from domain.order import ShipTo
from domain.values import MAX_QTY, parse_money
from infra.adapters.x12.reader import Segment, Separators, TransactionSet

SKU_QUALIFIERS = ("VN", "BP")
_GLN_QUALIFIER = "UL"  # N103: the N104 code is a GS1 Global Location Number


@dataclass(frozen=True)
class PurchaseOrderLine:
    line_ref: str
    qty: int
    uom: str
    unit_price: Decimal | None
    sku: str


@dataclass(frozen=True)
class PurchaseOrder:
    po_number: str
    requested_date: date | None
    ship_to: ShipTo | None
    lines: tuple[PurchaseOrderLine, ...]


def _bad(field: str, message: str) -> InvalidRequestError:
    return InvalidRequestError(f"{field} {message}", errors=[{"field": field, "message": message}])


def _date(seg: Segment, index: int, field: str) -> date:
    text = seg[index]
    try:
        if len(text) != 8 or not text.isdigit():
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise _bad(field, "must be a date CCYYMMDD") from None


def _qty(text: str, field: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_QTY:
        raise _bad(field, f"must be a whole quantity 1-{MAX_QTY}")
    return int(text)


def _price(text: str, field: str) -> Decimal | None:
    if text == "":
        return None  # no price sent: the order prices the line
    try:
        return parse_money("0" + text if text.startswith(".") else text)
    except ValueError:
        raise _bad(field, "must be an amount with at most 2 decimal places") from None


def _line(seg: Segment, n: int, sep: Separators) -> PurchaseOrderLine:
    where = f"PO1[{n}]"
    sku = None
    for i in range(6, max(len(seg.elements), 6) + 1, 2):
        if seg[i] in SKU_QUALIFIERS and seg[i + 1]:
            sku = seg.repeats(i + 1, sep)[0]
            break
    if sku is None:
        raise _bad(f"{where}.PO106", "no product id qualified VN or BP")
    uom = seg[3]
    if not uom:
        raise _bad(f"{where}.PO103", "the unit of measure is required")
    return PurchaseOrderLine(
        seg[1] or str(n), _qty(seg[2], f"{where}.PO102"), uom, _price(seg[4], f"{where}.PO104"), sku
    )


def _ship_to(loop: list[Segment]) -> ShipTo:
    n1 = loop[0]
    address: list[str] = []
    city = postal = country = ""
    region = None
    for seg in loop[1:]:
        if seg.id == "N3":
            address += [v for v in (seg[1], seg[2]) if v]
        elif seg.id == "N4":
            city, region, postal, country = seg[1], seg[2] or None, seg[3], seg[4] or "US"
    gln = n1[4] if n1[3] == _GLN_QUALIFIER and n1[4] else None
    if not city:
        raise _bad("N4", "the ship-to's N4 (city, state, postal code, country) is required")
    return ShipTo(
        name=n1[2], address=tuple(address), city=city, postal_code=postal, country=country, region=region, gln=gln
    )


def read_purchase_order(ts: TransactionSet, sep: Separators) -> PurchaseOrder:
    """The order an 850 asks for; InvalidRequestError when a segment it needs is missing or wrong."""
    if ts.id != "850":
        raise _bad("ST01", f"transaction set {ts.id} is not accepted here (850 only)")
    segments = list(ts.segments)
    beg = next((s for s in segments if s.id == "BEG"), None)
    if beg is None or not beg[3]:
        raise _bad("BEG03", "the purchase order number is required")
    requested = next((_date(s, 2, "DTM02") for s in segments if s.id == "DTM" and s[1] == "002"), None)
    lines: list[PurchaseOrderLine] = []
    ship_to_loop: list[Segment] = []
    in_ship_to = False
    for seg in segments:
        if seg.id == "N1":
            in_ship_to = seg[1] == "ST" and not ship_to_loop
            if in_ship_to:
                ship_to_loop.append(seg)
        elif seg.id in ("N2", "N3", "N4", "PER") and in_ship_to:
            ship_to_loop.append(seg)
        else:
            in_ship_to = False
            if seg.id == "PO1":
                lines.append(_line(seg, len(lines) + 1, sep))
    ship_to = _ship_to(ship_to_loop) if ship_to_loop else None
    if not lines:
        raise _bad("PO1", "a purchase order holds at least one PO1 line")
    ctt = next((s for s in segments if s.id == "CTT"), None)
    if ctt is not None and ctt[1] != str(len(lines)):
        raise _bad("CTT01", f"is {ctt[1] or 'empty'}; the number of PO1 lines is {len(lines)}")
    return PurchaseOrder(beg[3], requested, ship_to, tuple(lines))
