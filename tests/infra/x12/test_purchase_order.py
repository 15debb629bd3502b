"""An 850 as the order it asks for: BEG03, DTM*002, the N1*ST loop, PO1 with VN or BP; what cannot be read
is an invalid_request naming the segment and element."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from domain.errors import InvalidRequestError
from infra.adapters.x12.purchase_order import PurchaseOrder, PurchaseOrderLine, read_purchase_order
from infra.adapters.x12.reader import read_interchange
from tests.x12_build import interchange, po850


def read(lines: list[list[str]], **kw: Any) -> PurchaseOrder:
    x = read_interchange(interchange([po850("0001", "PO-7", lines, **kw)]))
    return read_purchase_order(x.groups[0].sets[0], x.separators)


def refused(lines: list[list[str]], **kw: Any) -> str:
    with pytest.raises(InvalidRequestError) as caught:
        read(lines, **kw)
    return str(caught.value.facts["errors"][0]["field"])


def test_an_850_reads_as_its_po_number_date_ship_to_and_lines() -> None:
    po = read([["A1", "2", "CS", "24.00", "", "UP", "0001", "BP", "WIDGET"], ["", "5", "EA", "", "", "VN", "NUT-4"]])
    assert po.po_number == "PO-7" and po.requested_date == date(2026, 12, 15)
    assert po.ship_to is not None
    assert po.ship_to.gln == "4012345000009" and po.ship_to.address == ("1 Harbour Road", "Gate B")
    assert po.lines == (
        PurchaseOrderLine("A1", 2, "CS", Decimal("24.00"), "WIDGET"),
        PurchaseOrderLine("2", 5, "EA", None, "NUT-4"),  # no PO101: the line's position; no price: priced by o2c
    )
    bare = read([["1", "1", "EA", "1", "", "VN", "X"]], requested=None, ship_to=False)
    assert (bare.requested_date, bare.ship_to) == (None, None)


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ([["1", "0", "EA", "1", "", "VN", "X"]], "PO1[1].PO102"),
        ([["1", "1.5", "EA", "1", "", "VN", "X"]], "PO1[1].PO102"),
        ([["1", "1", "", "1", "", "VN", "X"]], "PO1[1].PO103"),
        ([["1", "1", "EA", "1.005", "", "VN", "X"]], "PO1[1].PO104"),
        ([["1", "1", "EA", "1", "", "UP", "X"]], "PO1[1].PO106"),
        ([], "PO1"),
    ],
)
def test_a_line_that_cannot_be_read_names_its_element(lines: list[list[str]], field: str) -> None:
    assert refused(lines) == field


def test_a_wrong_ctt_a_bad_date_a_missing_beg03_and_another_set_are_refused() -> None:
    line = ["1", "1", "EA", "1", "", "VN", "X"]
    assert refused([line], requested="2026-12-15") == "DTM02"
    x = read_interchange(interchange([po850("0001", "PO-7", [line])]).replace("CTT*1", "CTT*2"))
    with pytest.raises(InvalidRequestError, match="CTT01"):
        read_purchase_order(x.groups[0].sets[0], x.separators)
    x = read_interchange(interchange([po850("0001", "", [line])]))
    with pytest.raises(InvalidRequestError, match="BEG03"):
        read_purchase_order(x.groups[0].sets[0], x.separators)
    x = read_interchange(interchange([po850("0001", "PO-7", [line])]).replace("ST*850", "ST*860"))
    with pytest.raises(InvalidRequestError, match="ST01"):
        read_purchase_order(x.groups[0].sets[0], x.separators)
