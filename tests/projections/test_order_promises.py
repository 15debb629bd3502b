"""Orders read model for promises: promised dates in the order document, one row per backordered
line (what `promises_late` counts), and the counts promise accuracy sums."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import msgspec
from hypothesis import given, settings

from domain.events import Event
from domain.order import (
    BackorderPromised,
    CancelledLine,
    ChangedLine,
    LineAllocation,
    OrderCancelled,
    OrderChanged,
    PlacedLine,
)
from projections.base import Row
from projections.orders import ORDERS, decode_state
from tests.domain import test_order_changes_property as world_of
from tests.projections.fold import at, fold, table
from tests.projections.test_orders import allocated, placed, shipped

ORDERS_TABLE = table(ORDERS.tables, "orders")
LINES = table(ORDERS.tables, "backordered_lines")
MAR_10, MAR_11, MAR_12 = date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)


def promised(on: date | None, previous: date | None = None, order_id: str = "SO-1") -> BackorderPromised:
    return BackorderPromised(order_id=order_id, line_id="1", sku="BOLT-10", promised_date=on, previous=previous)


def line_row(backordered: int, on: date | None = None, order_id: str = "SO-1") -> dict:
    return {
        "order_id": order_id,
        "line_id": "1",
        "sku": "BOLT-10",
        "backordered": backordered,
        "promised_date": on.isoformat() if on else None,
    }


def late_promises(rows: dict, today: date) -> list[tuple[str, str]]:
    """What the reader asks in SQL: backordered > 0 AND promised_date < :today (ISO text compares as dates)."""
    return sorted(
        (r["order_id"], r["line_id"])
        for r in rows.values()
        if r["backordered"] > 0 and r["promised_date"] is not None and r["promised_date"] < today.isoformat()
    )


# --- the order document and its row ----------------------------------------------------------


def test_a_promised_date_shows_on_the_line_in_the_order_document() -> None:
    [row] = fold(ORDERS_TABLE, [placed(), promised(MAR_10)]).values()
    line = decode_state(row["doc"]).lines[0]
    assert (line.promised_date, line.last_promised_date, line.backordered) == (MAR_10, MAR_10, 4)
    assert ORDERS_TABLE.keys_for(promised(MAR_10)) == [("SO-1",)]


def test_the_order_row_counts_shipped_lines_and_those_that_shipped_late() -> None:
    on_time = msgspec.structs.replace(shipped(4), shipped_on=MAR_10)
    late = msgspec.structs.replace(shipped(4), shipped_on=MAR_11, late_line_ids=["1"])
    events: list[Event] = [
        placed("SO-1"),
        placed("SO-2"),
        placed("SO-3"),
        allocated(4, order_id="SO-1"),
        allocated(4, order_id="SO-2"),
        on_time,
        msgspec.structs.replace(late, order_id="SO-2"),
    ]
    rows = fold(ORDERS_TABLE, events)
    counts = {key[0]: (r["lines_shipped"], r["lines_shipped_late"]) for key, r in rows.items()}
    assert counts == {"SO-1": (1, 0), "SO-2": (1, 1), "SO-3": (0, 0)}
    shipped_lines = sum(n for n, _ in counts.values())
    late_lines = sum(n for _, n in counts.values())
    assert (shipped_lines - late_lines) / shipped_lines == 0.5  # SUM over the table: accuracy 1 of 2


# --- backordered lines --------------------------------------------------------------------------


def test_a_backordered_line_has_a_row_until_it_is_filled_and_unpromised() -> None:
    assert fold(LINES, [placed()]) == {("SO-1", "1"): line_row(4)}
    assert fold(LINES, [placed(), promised(MAR_10)]) == {("SO-1", "1"): line_row(4, MAR_10)}
    partly = [placed(), promised(MAR_10), allocated(3, reason="backorder_fill")]
    assert fold(LINES, partly) == {("SO-1", "1"): line_row(1, MAR_10)}
    filled = [*partly, allocated(1, reason="backorder_fill")]
    assert fold(LINES, filled) == {("SO-1", "1"): line_row(0, MAR_10)}  # its None is on the way
    assert fold(LINES, [*filled, promised(None, MAR_10)]) == {}


def test_a_line_allocated_in_full_at_placement_has_no_row() -> None:
    assert fold(LINES, [placed(), allocated(4)]) == {}
    assert fold(LINES, [placed(), allocated(4), shipped(4)]) == {}


def test_a_cancel_ends_the_wait_of_the_open_qty_that_was_not_reserved() -> None:
    cancel = OrderCancelled(
        order_id="SO-1",
        customer_id="C1",
        reason="customer",
        lines=[
            CancelledLine(
                line_id="1",
                sku="BOLT-10",
                qty=4,
                released=[LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-A", qty=1)],
            )
        ],
        amount=Decimal("34.00"),
    )
    assert fold(LINES, [placed(), allocated(1), promised(MAR_10), cancel]) == {("SO-1", "1"): line_row(0, MAR_10)}
    assert fold(LINES, [placed(), allocated(1), cancel]) == {}


def test_a_change_moves_the_backorder_by_the_new_qty_and_what_it_released() -> None:
    def change(previous: int, qty: int, released: int, added: list[PlacedLine] | None = None) -> OrderChanged:
        return OrderChanged(
            order_id="SO-1",
            customer_id="C1",
            change_id="CH-1",
            reason="buyer",
            lines=[
                ChangedLine(
                    line_id="1",
                    sku="BOLT-10",
                    previous_qty=previous,
                    qty=qty,
                    unit_price=Decimal("8.50"),
                    amount=Decimal("8.50") * qty,
                    backorder_dropped=0,
                    released=[LineAllocation(line_id="1", sku="BOLT-10", warehouse_id="W-A", qty=released)]
                    if released
                    else [],
                )
            ],
            added=added or [],
            value_change=Decimal("8.50") * (qty - previous),
            total=Decimal("8.50") * qty,
            changed_at=at(5),
        )

    history = [placed(qty=10), allocated(6)]  # 6 reserved, 4 wait
    assert fold(LINES, [*history, change(10, 12, 0)]) == {("SO-1", "1"): line_row(6)}  # raised: 6 wait
    assert fold(LINES, [*history, change(10, 8, 0)]) == {("SO-1", "1"): line_row(2)}  # cut: the wait first
    assert fold(LINES, [*history, change(10, 3, 3)]) == {}  # cut below the reserved: nothing waits
    extra = PlacedLine(line_id="2", sku="NUT-4", qty=5, unit_price=Decimal("0.25"), amount=Decimal("1.25"))
    rows = fold(LINES, [*history, change(10, 10, 0, [extra])])
    assert rows[("SO-1", "2")] == {**line_row(5), "line_id": "2", "sku": "NUT-4"}


def test_late_promises_are_backordered_lines_promised_before_today() -> None:
    events: list[Event] = [
        placed("SO-1"),
        placed("SO-2"),
        placed("SO-3"),
        promised(MAR_10, order_id="SO-1"),
        promised(MAR_12, order_id="SO-2"),
        promised(MAR_10, order_id="SO-3"),
        allocated(4, order_id="SO-3", reason="backorder_fill"),  # filled: late no more, whatever it said
    ]
    rows = fold(LINES, events)
    assert late_promises(rows, MAR_11) == [("SO-1", "1")]
    assert late_promises(rows, date(2026, 3, 13)) == [("SO-1", "1"), ("SO-2", "1")]
    assert late_promises(rows, MAR_10) == []


# --- the line rows follow the domain's own figures through any history -------------------------


def _lines_match_the_order(world: world_of.World) -> None:
    rows: dict[tuple[str, str], Row] = fold(LINES, world.log)
    for line in world.order.lines:
        row = rows.get(("SO-1", line.line_id))
        assert (row["backordered"] if row else 0) == line.backordered, (line, row)
        assert (row["sku"] if row else line.sku) == line.sku


@settings(max_examples=150, deadline=None)
@given(
    skus=world_of.st.lists(world_of.st.sampled_from(world_of.SKUS), min_size=1, max_size=2, unique=True),
    qtys=world_of.st.lists(world_of.st.integers(1, 12), min_size=2, max_size=2),
    on_hand=world_of.stock,
    baseline=world_of.st.sampled_from([0, 4, 10]),
    pin=world_of.st.sampled_from([None, *world_of.WAREHOUSES]),
    backorder=world_of.st.booleans(),
    held=world_of.st.sampled_from([False, False, True]),
    steps=world_of.st.lists(world_of.step, max_size=8),
)
def test_every_line_row_holds_the_backordered_qty_of_the_order_state(
    skus: list[str],
    qtys: list[int],
    on_hand: dict[tuple[str, str], int],
    baseline: int,
    pin: str | None,
    backorder: bool,
    held: bool,
    steps: list[tuple[object, ...]],
) -> None:
    world_of.play(skus, qtys, on_hand, baseline, pin, backorder, held, steps, _lines_match_the_order)
