"""Order lines in units of measure: qty (and every other quantity) in base units, the unit ordered
in recorded, the price per base unit with its source; changes follow in base units."""

from __future__ import annotations

from decimal import Decimal
from functools import reduce

import msgspec
import pytest

from domain import order
from domain.allocation import plan_lines
from domain.catalog import ProductUnit
from domain.errors import PriceMismatchError, UnknownUomError
from domain.order import AddLine, ChangeOrder, Order, OrderPlaced, PlacedLine, PlaceOrder
from domain.price_list import PriceListItem
from domain.pricing import Offer
from tests.domain.change_events import CHANGED_AT
from tests.domain.order_events import ACCEPTED, allocated

CS = ProductUnit(uom="CS", factor=12)
BX = ProductUnit(uom="BX", factor=100)
OFFERS = {
    "WIDGET": Offer(Decimal("2.00"), "EA", (CS,), sku="WIDGET"),
    "NUT-4": Offer(
        Decimal("0.25"),
        "EA",
        (BX,),
        items=(PriceListItem(sku="NUT-4", unit_price=Decimal("0.20"), min_qty=200),),
        sku="NUT-4",
    ),
}
STOCK = {"WIDGET": {"W-A": 100}, "NUT-4": {"W-A": 1000}}


def evolve(state: Order | None, events: list[object]) -> Order:
    folded = reduce(order.evolve_order, events, state)  # type: ignore[arg-type]
    assert folded is not None
    return folded


def two_cases() -> list[object]:
    lines = order.at_prices([AddLine("1", "WIDGET", 2, Decimal("24.00"), uom="CS")], OFFERS, "C1", ACCEPTED.date())
    plan = plan_lines([(ln.line_id, ln.sku, ln.qty) for ln in lines], STOCK, None)
    return list(order.decide(PlaceOrder("SO-1", "C1", "web", None, True, lines, ACCEPTED, plan=plan), None))


def change(
    state: Order, *lines: tuple[str, int], add: tuple[AddLine, ...] = (), change_id: str = "CH-1"
) -> list[object]:
    cmd = ChangeOrder("SO-1", change_id, "asked", lines, add, CHANGED_AT, prices=OFFERS)
    plan = plan_lines(order.wanted_for_change(state, cmd), STOCK, None)
    return list(
        order.decide(ChangeOrder("SO-1", change_id, "asked", lines, add, CHANGED_AT, prices=OFFERS, plan=plan), state)
    )


def test_two_cases_are_placed_and_reserved_as_24_each_at_2() -> None:
    placed, allocation = two_cases()
    assert isinstance(placed, OrderPlaced)
    assert placed.lines == [
        PlacedLine(
            line_id="1",
            sku="WIDGET",
            qty=24,
            unit_price=Decimal("2.00"),
            amount=Decimal("48.00"),
            base_uom="EA",
            ordered_uom="CS",
            ordered_qty=2,
            price_source="product",
        )
    ]
    assert placed.total == Decimal("48.00")
    assert allocation == allocated(("1", "WIDGET", "W-A", 24))
    line = evolve(None, [placed, allocation]).lines[0]
    assert (line.qty, line.allocated, line.ordered_uom, line.ordered_qty, line.price_source) == (
        24,
        24,
        "CS",
        2,
        "product",
    )


@pytest.mark.parametrize(
    ("qty", "uom", "ordered"), [(36, "CS", 3), (30, "EA", 30), (12, "CS", 1), (0, "CS", 0), (25, "EA", 25)]
)
def test_a_change_in_base_units_keeps_the_unit_while_the_qty_is_a_whole_number_of_it(
    qty: int, uom: str, ordered: int
) -> None:
    state = evolve(None, two_cases())
    line = evolve(state, change(state, ("1", qty))).lines[0]
    assert (line.qty, line.ordered_uom, line.ordered_qty, line.unit_price) == (qty, uom, ordered, Decimal("2.00"))


def test_a_line_read_in_the_base_unit_goes_back_to_cases_when_the_qty_allows() -> None:
    state = evolve(None, two_cases())
    state = evolve(state, change(state, ("1", 30)))
    state = evolve(state, change(state, ("1", 48), change_id="CH-2"))
    assert (state.lines[0].ordered_uom, state.lines[0].ordered_qty) == ("CS", 4)


def test_an_added_line_in_boxes_is_allocated_in_base_units_at_the_break_its_base_qty_reaches() -> None:
    state = evolve(None, two_cases())
    recorded = change(state, add=(AddLine("2", "NUT-4", 3, Decimal("20.00"), uom="BX"),))  # 300 at 0.20
    changed, allocation = recorded
    assert isinstance(changed, order.OrderChanged)
    [added] = changed.added
    assert (added.qty, added.unit_price, added.ordered_uom, added.ordered_qty, added.price_source) == (
        300,
        Decimal("0.20"),
        "BX",
        3,
        "price_list",
    )
    assert allocation == allocated(("2", "NUT-4", "W-A", 300), reason="order_change")
    assert changed.total == Decimal("108.00")


def test_an_added_line_sent_per_box_at_the_price_per_each_is_a_mismatch_per_box() -> None:
    state = evolve(None, two_cases())
    with pytest.raises(PriceMismatchError) as caught:
        change(state, add=(AddLine("2", "NUT-4", 1, Decimal("0.25"), uom="BX"),))
    assert caught.value.facts["expected_unit_price"] == "25.00"


def test_an_added_line_in_a_unit_the_product_lacks_is_refused_before_its_price() -> None:
    state = evolve(None, two_cases())
    with pytest.raises(UnknownUomError):
        change(state, add=(AddLine("2", "NUT-4", 1, Decimal("9.99"), uom="CS"),))
    assert (
        order.wanted_for_change(
            state,
            ChangeOrder("SO-1", "CH-1", "asked", (), (AddLine("2", "NUT-4", 1, uom="CS"),), CHANGED_AT, prices=OFFERS),
        )
        == []
    )


def test_a_line_recorded_before_units_reads_its_qty_and_no_unit() -> None:
    raw = (
        b'{"order_id":"SO-1","customer_id":"C1","channel":"web","warehouse_id":null,"allow_backorder":true,'
        b'"lines":[{"line_id":"1","sku":"BOLT-10","qty":9,"unit_price":"8.50","amount":"76.50"}],'
        b'"total":"76.50","accepted_at":"2025-03-03T09:30:00Z"}'
    )
    line = evolve(None, [msgspec.json.decode(raw, type=OrderPlaced)]).lines[0]
    assert (line.qty, line.ordered_uom, line.ordered_qty, line.price_source) == (9, None, 9, None)


def test_the_unit_fields_survive_the_order_document() -> None:
    state = evolve(None, two_cases())
    assert msgspec.json.decode(msgspec.json.encode(state), type=Order) == state
