"""ATP for promises: incoming supply rows (expected receipts, dated transfers), the backorder queue
with its parts, and the promise answer built from those rows alone."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import backorders
from domain.backorders import BackorderFilled, BackorderQueued, BackorderWithdrawn
from domain.events import Event
from domain.expected import (
    ExpectedReceiptChanged,
    ExpectedReceiptClosed,
    ExpectedReceiptCreated,
    ExpectedReceiptReceived,
)
from domain.inventory import StockReceived, StockReserved
from domain.promising import Supply, Waiting, queue_of
from domain.transfer import TransferInitiated, TransferReceived
from projections.atp import ATP, incoming_from_rows, incoming_view, promise_view, queue_from_rows
from tests.projections.fold import at, fold, table

INCOMING = table(ATP.tables, "incoming")
BACKORDERS = table(ATP.tables, "backorders")
POSITIONS = table(ATP.tables, "positions")
TODAY = date(2026, 3, 2)
EXP = {"expected_id": "EXP-1", "warehouse_id": "W-A", "sku": "NUT-4"}
KEY = ("NUT-4", "expected", "EXP-1")


def day(n: int) -> date:
    return date(2026, 3, n)


def row(wh: str, on: date, qty: int, source: str = "expected", source_id: str = "EXP-1") -> dict:
    return {
        "sku": "NUT-4",
        "source": source,
        "source_id": source_id,
        "warehouse_id": wh,
        "expected_on": on.isoformat(),
        "qty": qty,
    }


CREATED = ExpectedReceiptCreated(**EXP, qty=10, expected_on=day(10), reference="PO-1")


def received(qty: int, total: int, open_: int, rid: str = "R-1") -> ExpectedReceiptReceived:
    return ExpectedReceiptReceived(**EXP, receipt_id=rid, receipt_qty=qty, qty=qty, received=total, open=open_)


def transfer(tid: str, qty: int, on: date | None, to: str = "W-B") -> TransferInitiated:
    return TransferInitiated(
        transfer_id=tid, sku="NUT-4", from_warehouse_id="W-A", to_warehouse_id=to, qty=qty, expected_on=on
    )


# --- incoming rows ----------------------------------------------------------------------------


def test_an_expected_receipt_is_incoming_at_its_warehouse_on_its_day() -> None:
    assert fold(INCOMING, [CREATED]) == {KEY: row("W-A", day(10), 10)}


def test_a_change_moves_the_day_and_the_open_qty() -> None:
    changed = ExpectedReceiptChanged(
        **EXP, expected_on=day(12), qty=8, previous_expected_on=day(10), previous_qty=10, received=0, open=8
    )
    assert fold(INCOMING, [CREATED, changed]) == {KEY: row("W-A", day(12), 8)}


def test_receipts_leave_the_open_rest_and_the_last_one_removes_the_row() -> None:
    partly = fold(INCOMING, [CREATED, received(4, 4, 6)])
    assert partly == {KEY: row("W-A", day(10), 6)}
    closed = ExpectedReceiptClosed(**EXP, reason="received_in_full", dropped=0, received=10)
    assert fold(INCOMING, [received(6, 10, 0, rid="R-2"), closed], partly) == {}
    assert fold(INCOMING, [received(6, 10, 0, rid="R-2")], partly) == {}


def test_a_closed_expected_receipt_is_no_longer_incoming() -> None:
    closed = ExpectedReceiptClosed(**EXP, reason="supplier cancelled", dropped=10, received=0)
    assert fold(INCOMING, [CREATED, closed]) == {}


def test_a_dated_transfer_is_incoming_at_its_destination_until_received() -> None:
    on_the_way = fold(INCOMING, [transfer("T-1", 4, day(5))])
    assert on_the_way == {("NUT-4", "transfer", "T-1"): row("W-B", day(5), 4, "transfer", "T-1")}
    arrived = TransferReceived(transfer_id="T-1", sku="NUT-4", to_warehouse_id="W-B", qty=4)
    assert fold(INCOMING, [arrived], on_the_way) == {}


def test_a_transfer_without_a_day_is_no_dated_supply() -> None:
    assert fold(INCOMING, [transfer("T-1", 4, None)]) == {}
    assert INCOMING.keys_for(StockReceived(sku="NUT-4", warehouse_id="W-A", receipt_id="R-1", qty=1)) == []


# --- the ATP answer's `incoming` ----------------------------------------------------------------


def test_incoming_is_by_date_then_warehouse_with_past_days_shown_as_today() -> None:
    rows = [
        row("W-B", day(9), 2, source_id="EXP-2"),
        row("W-A", day(9), 3, source_id="EXP-3"),
        row("W-C", date(2026, 2, 20), 5, source_id="EXP-4"),  # overdue: still expected, from today
        row("W-B", day(4), 4, "transfer", "T-1"),
        row("W-B", day(9), 1, "transfer", "T-2"),
    ]
    assert incoming_view(rows, TODAY) == [
        {"date": TODAY, "warehouse_id": "W-C", "qty": 5},
        {"date": day(4), "warehouse_id": "W-B", "qty": 4},
        {"date": day(9), "warehouse_id": "W-A", "qty": 3},
        {"date": day(9), "warehouse_id": "W-B", "qty": 3},  # what is due at one place on one day, together
    ]
    assert incoming_view(rows, TODAY, "W-A") == [{"date": day(9), "warehouse_id": "W-A", "qty": 3}]
    assert incoming_view([], TODAY) == []


def test_rows_store_the_real_day() -> None:
    rows = [row("W-C", date(2026, 2, 20), 5)]
    assert incoming_from_rows(rows) == [Supply(date(2026, 2, 20), "W-C", 5)]


# --- the queue with its parts -----------------------------------------------------------------


def queued(order_id: str, qty: int, minute: int, wh: str | None = None) -> BackorderQueued:
    return BackorderQueued(
        sku="NUT-4", order_id=order_id, line_id="1", warehouse_id=wh, qty=qty, accepted_at=at(minute)
    )


def test_a_line_raised_later_waits_in_two_parts_and_fills_oldest_first_withdraws_newest_first() -> None:
    events: list[Event] = [queued("SO-1", 2, 0), queued("SO-2", 3, 1), queued("SO-1", 4, 2)]
    rows = list(fold(BACKORDERS, events).values())
    assert queue_from_rows(rows) == [
        Waiting("SO-1", "1", None, 2),
        Waiting("SO-2", "1", None, 3),
        Waiting("SO-1", "1", None, 4),
    ]
    fill = BackorderFilled(sku="NUT-4", order_id="SO-1", line_id="1", warehouse_id="W-A", qty=3)
    assert queue_from_rows(list(fold(BACKORDERS, [*events, fill]).values())) == [
        Waiting("SO-2", "1", None, 3),
        Waiting("SO-1", "1", None, 3),
    ]
    cut = BackorderWithdrawn(sku="NUT-4", order_id="SO-1", line_id="1", qty=4, reason="order_changed")
    assert queue_from_rows(list(fold(BACKORDERS, [*events, cut]).values())) == [
        Waiting("SO-1", "1", None, 2),
        Waiting("SO-2", "1", None, 3),
    ]


def test_a_row_written_before_parts_existed_waits_as_one_part() -> None:
    old = {"sku": "NUT-4", "order_id": "SO-1", "line_id": "1", "warehouse_id": "W-A", "qty": 5, "accepted_at": at(0)}
    assert queue_from_rows([{**old, "parts": None}]) == [Waiting("SO-1", "1", "W-A", 5)]
    more = fold(BACKORDERS, [queued("SO-1", 2, 3, wh="W-A")], {("NUT-4", "SO-1", "1"): {**old, "parts": None}})
    assert queue_from_rows(list(more.values())) == [Waiting("SO-1", "1", "W-A", 5), Waiting("SO-1", "1", "W-A", 2)]


BOOK_EVENT = st.one_of(
    st.builds(
        lambda o, q, m, wh: queued(f"SO-{o}", q, m, wh),
        st.integers(1, 3),
        st.integers(1, 5),
        st.integers(0, 20),
        st.sampled_from([None, "W-A"]),
    ),
    st.builds(
        lambda o, q: BackorderFilled(sku="NUT-4", order_id=f"SO-{o}", line_id="1", warehouse_id="W-A", qty=q),
        st.integers(1, 3),
        st.integers(1, 5),
    ),
    st.builds(
        lambda o, q: BackorderWithdrawn(sku="NUT-4", order_id=f"SO-{o}", line_id="1", qty=q, reason="order_changed"),
        st.integers(1, 3),
        st.integers(1, 5),
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(BOOK_EVENT, max_size=12))
def test_the_rows_give_the_queue_the_backorder_book_gives(events: list[Event]) -> None:
    book = backorders.Book("NUT-4")
    for event in events:
        book = backorders.evolve_book(book, event)
    assert queue_from_rows(list(fold(BACKORDERS, events).values())) == queue_of(book)


# --- the promise answer from rows -------------------------------------------------------------


def test_the_promise_answer_comes_from_positions_backorders_and_incoming_rows() -> None:
    """EXAMPLES.md section 2, dated: SO-1 5 pinned to W-A and SO-2 3 anywhere wait; W-B has 1 free now,
    4 are due at W-B on the 4th and 6 at W-A on the 6th."""
    positions = fold(
        POSITIONS,
        [
            StockReceived(sku="NUT-4", warehouse_id="W-B", receipt_id="R-0", qty=2),
            StockReserved(sku="NUT-4", warehouse_id="W-B", order_id="SO-0", line_id="1", qty=1),
        ],
    )
    waiting = fold(BACKORDERS, [queued("SO-1", 5, 0, wh="W-A"), queued("SO-2", 3, 1)])
    incoming = fold(
        INCOMING,
        [
            ExpectedReceiptCreated(expected_id="EXP-1", warehouse_id="W-B", sku="NUT-4", qty=4, expected_on=day(4)),
            transfer("T-1", 6, day(6), to="W-A"),
        ],
    )

    def answer(qty: int, wh: str | None) -> dict:
        return promise_view(
            "NUT-4", qty, wh, list(positions.values()), list(waiting.values()), list(incoming.values()), TODAY
        )

    # SO-2 takes the 1 free at W-B now and 2 on the 4th; SO-1 5 of W-A's 6 on the 6th
    assert answer(2, None) == {
        "sku": "NUT-4",
        "qty": 2,
        "warehouse_id": None,
        "available_now": 1,
        "promise_date": day(4),
    }
    assert answer(3, None)["promise_date"] == day(6)
    assert answer(2, "W-B")["promise_date"] == day(4)
    assert answer(3, "W-B") == {
        "sku": "NUT-4",
        "qty": 3,
        "warehouse_id": "W-B",
        "available_now": 1,
        "promise_date": None,
    }
    assert answer(1, "W-A")["available_now"] == 0
