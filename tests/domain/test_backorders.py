"""BackorderBook (one per SKU): order lines waiting for stock, filled first-accepted first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import backorders
from domain.backorders import (
    BackorderFilled,
    BackorderQueued,
    BackorderWithdrawn,
    Book,
    Entry,
    FillQueuedLine,
    QueueBackorder,
    WithdrawBackorder,
    evolve_book,
)
from domain.events import Event
from tests.spec import Given, given, spec

T1 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
T2 = T1 + timedelta(minutes=5)


def book(*events: Event) -> Given[Book]:
    return given(evolve_book, Book(sku="NUT-4"), *events)


def queued(order_id: str, qty: int, accepted_at: datetime, warehouse_id: str | None = None) -> BackorderQueued:
    return BackorderQueued(
        sku="NUT-4", order_id=order_id, line_id="1", warehouse_id=warehouse_id, qty=qty, accepted_at=accepted_at
    )


def filled(order_id: str, warehouse_id: str, qty: int) -> BackorderFilled:
    return BackorderFilled(sku="NUT-4", order_id=order_id, line_id="1", warehouse_id=warehouse_id, qty=qty)


books = spec(backorders.decider, "NUT-4")


# EXAMPLES.md section 2: SO-1 5 x NUT-4 pinned to W-A, then SO-2 3 x NUT-4 from any warehouse; no stock anywhere.
SO_1 = queued("SO-1", 5, T1, "W-A")
SO_2 = queued("SO-2", 3, T2)


def fills(state: Book, available: dict[str, int]) -> list[Event]:
    """What a fill run records in the book for this free stock."""
    return [
        event
        for entry, wh, qty in backorders.plan_fill(state, available)
        for event in backorders.fill(state, entry, wh, qty)
    ]


def test_a_backordered_line_joins_the_queue() -> None:
    state = book().when(lambda s: backorders.queue(s, "SO-1", "1", "W-A", 5, T1)).then(SO_1)
    assert state.queue() == [Entry("SO-1", "1", "W-A", 5, T1)]
    assert state.total == 5


def test_a_line_with_nothing_backordered_is_not_queued() -> None:
    book().when(lambda s: backorders.queue(s, "SO-1", "1", None, 0, T1)).then()


def test_queueing_more_for_a_waiting_line_adds_to_its_entry() -> None:
    state = book(SO_1).when(lambda s: backorders.queue(s, "SO-1", "1", "W-A", 2, T1)).then(queued("SO-1", 2, T1, "W-A"))
    assert state.queue() == [Entry("SO-1", "1", "W-A", 7, T1)]


def test_the_queue_runs_in_acceptance_order_not_in_queueing_order() -> None:
    state = book(SO_2, SO_1).state
    assert [e.order_id for e in state.queue()] == ["SO-1", "SO-2"]


def test_a_receipt_at_another_warehouse_skips_the_pinned_order_and_fills_the_next() -> None:
    state = book(SO_1, SO_2).when(lambda s: fills(s, {"W-B": 4})).then(filled("SO-2", "W-B", 3))
    assert state.queue() == [Entry("SO-1", "1", "W-A", 5, T1)]


def test_a_receipt_at_the_pinned_warehouse_fills_the_pinned_order_and_leaves_the_rest_free() -> None:
    after_first_fill = book(SO_1, SO_2, filled("SO-2", "W-B", 3)).state
    plan = backorders.plan_fill(after_first_fill, {"W-A": 6, "W-B": 1})
    assert plan == [(Entry("SO-1", "1", "W-A", 5, T1), "W-A", 5)]  # 1 stays available at W-A
    state = (
        given(evolve_book, after_first_fill)
        .when(lambda s: fills(s, {"W-A": 6, "W-B": 1}))
        .then(filled("SO-1", "W-A", 5))
    )
    assert state.entries == {}


def test_the_first_accepted_order_is_filled_first() -> None:
    first, second = queued("SO-1", 4, T1), queued("SO-2", 4, T2)
    book(second, first).when(lambda s: fills(s, {"W-A": 5})).then(filled("SO-1", "W-A", 4), filled("SO-2", "W-A", 1))


def test_a_fill_spreads_over_warehouses_most_free_first() -> None:
    book(queued("SO-1", 6, T1)).when(lambda s: fills(s, {"W-A": 2, "W-B": 3, "W-C": 3})).then(
        filled("SO-1", "W-B", 3), filled("SO-1", "W-C", 3)
    )


def test_warehouses_without_free_stock_fill_nothing() -> None:
    book(SO_1, SO_2).when(lambda s: fills(s, {"W-A": 0, "W-B": -2})).then()


def test_a_partial_fill_leaves_the_rest_waiting() -> None:
    state = book(SO_1).when(lambda s: fills(s, {"W-A": 2})).then(filled("SO-1", "W-A", 2))
    assert state.queue() == [Entry("SO-1", "1", "W-A", 3, T1)]


def test_a_withdrawn_line_leaves_the_queue_with_all_it_waited_for() -> None:
    state = (
        book(SO_1, SO_2)
        .when(lambda s: backorders.withdraw(s, "SO-1", "1", "order_cancelled"))
        .then(BackorderWithdrawn(sku="NUT-4", order_id="SO-1", line_id="1", qty=5, reason="order_cancelled"))
    )
    assert [e.order_id for e in state.queue()] == ["SO-2"]


def test_withdrawing_a_line_that_is_not_waiting_records_nothing() -> None:
    book(SO_1, filled("SO-1", "W-A", 5)).when(lambda s: backorders.withdraw(s, "SO-1", "1", "order_cancelled")).then()


def test_a_fill_for_a_line_no_longer_waiting_changes_nothing() -> None:
    assert book(SO_2, filled("SO-1", "W-A", 5)).state == book(SO_2).state


# --- an order change: what a line waited for keeps its place; its increase queues behind --------

T3 = T2 + timedelta(minutes=5)
SO_1_ANY = queued("SO-1", 2, T1)
SO_1_MORE = queued("SO-1", 3, T3)  # SO-1's line raised by a change after SO-2 was accepted


def test_an_increase_queued_later_waits_behind_older_backorders_while_the_rest_keeps_its_place() -> None:
    state = book(SO_1_ANY, SO_2, SO_1_MORE).state
    assert state.queue() == [Entry("SO-1", "1", None, 5, T1, later=((T3, 3),)), Entry("SO-2", "1", None, 3, T2)]
    assert [(e.order_id, qty) for e, qty in state.slots()] == [("SO-1", 2), ("SO-2", 3), ("SO-1", 3)]
    assert state.total == 8
    book(SO_1_ANY, SO_2, SO_1_MORE).when(lambda s: fills(s, {"W-A": 6})).then(
        filled("SO-1", "W-A", 2), filled("SO-2", "W-A", 3), filled("SO-1", "W-A", 1)
    )


def test_a_fill_serves_the_oldest_tranche_first() -> None:
    state = book(SO_1_ANY, SO_1_MORE, filled("SO-1", "W-A", 3)).state
    assert state.queue() == [Entry("SO-1", "1", None, 2, T3)]


def test_a_change_cutting_a_line_withdraws_part_of_it_newest_tranche_first() -> None:
    state = (
        book(SO_1_ANY, SO_1_MORE)
        .when(lambda s: backorders.withdraw(s, "SO-1", "1", "order_changed", qty=4))
        .then(BackorderWithdrawn(sku="NUT-4", order_id="SO-1", line_id="1", qty=4, reason="order_changed"))
    )
    assert state.queue() == [Entry("SO-1", "1", None, 1, T1)]


def test_a_partial_withdrawal_takes_no_more_than_the_line_waits_for() -> None:
    book(SO_1).when(lambda s: backorders.withdraw(s, "SO-1", "1", "order_changed", qty=9)).then(
        BackorderWithdrawn(sku="NUT-4", order_id="SO-1", line_id="1", qty=5, reason="order_changed")
    )
    book(SO_1).when(lambda s: backorders.withdraw(s, "SO-1", "1", "order_changed", qty=0)).then()
    books.given(SO_1).when(WithdrawBackorder("NUT-4", "SO-1", "1", "order_changed", 2)).then(
        BackorderWithdrawn(sku="NUT-4", order_id="SO-1", line_id="1", qty=2, reason="order_changed")
    )


# --- the decider -----------------------------------------------------------------------------


def test_the_decider_queues_fills_and_withdraws_waiting_lines() -> None:
    books.when(QueueBackorder("NUT-4", "SO-1", "1", "W-A", 5, T1)).then(queued("SO-1", 5, T1, "W-A"))
    state = (
        books.given(queued("SO-1", 5, T1))
        .when(FillQueuedLine("NUT-4", "SO-1", "1", "W-B", 2))
        .then(filled("SO-1", "W-B", 2))
    )
    assert state.total == 3
    books.given(queued("SO-1", 5, T1)).when(WithdrawBackorder("NUT-4", "SO-1", "1", "order_cancelled")).then(
        BackorderWithdrawn(sku="NUT-4", order_id="SO-1", line_id="1", qty=5, reason="order_cancelled")
    )


def test_nothing_is_queued_for_no_qty_and_nothing_filled_or_withdrawn_for_a_line_not_waiting() -> None:
    books.when(QueueBackorder("NUT-4", "SO-1", "1", None, 0, T1)).then()
    books.when(FillQueuedLine("NUT-4", "SO-9", "1", "W-A", 2)).then()
    books.when(WithdrawBackorder("NUT-4", "SO-9", "1", "not_open")).then()


def test_a_new_book_belongs_to_its_sku() -> None:
    assert backorders.initial_state("NUT-4") == Book(sku="NUT-4")
