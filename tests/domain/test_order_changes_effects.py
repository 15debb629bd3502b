"""What an accepted change asks of the other streams (`order.effects_of_change`): stock to release
and reserve, backorders to withdraw and queue, credit to commit or release."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import reduce
from typing import TypeVar

from domain import backorders, inventory, order
from domain.events import Event
from domain.order import AddLine, ChangeEffects, LineAllocation, LineQty, QueuedRest
from tests.domain.change_events import CHANGED_AT, changing
from tests.domain.order_events import ACCEPTED, BOLT, HELD, NINE_ALLOCATED, allocated, placed, placing, state_of

S = TypeVar("S")

OPEN = [placed(), NINE_ALLOCATED]  # W-A 6, W-B 3
PART_BACKORDERED = [placed(), allocated(("1", "BOLT-10", "W-A", 6), ("1", "BOLT-10", "W-C", 2))]  # 1 backordered


def effects(history: list[Event], cmd: order.ChangeOrder) -> ChangeEffects:
    after = state_of(*history, *order.decide(cmd, state_of(*history)))
    return order.effects_of_change(after, order.decide(cmd, state_of(*history)))


def bolts(warehouse_id: str, qty: int) -> LineAllocation:
    return LineAllocation(line_id="1", sku="BOLT-10", warehouse_id=warehouse_id, qty=qty)


def test_a_reduction_releases_stock_withdraws_the_dropped_backorder_and_releases_credit() -> None:
    found = effects(PART_BACKORDERED, changing(PART_BACKORDERED, ("1", 3)))
    assert found == ChangeEffects(
        released=(bolts("W-C", 2), bolts("W-A", 3)),
        reserved=(),
        withdrawn=(LineQty(line_id="1", sku="BOLT-10", qty=1),),
        queued=(),
        value_change=Decimal("-51.00"),
    )
    assert found.freed == [("BOLT-10", "W-C"), ("BOLT-10", "W-A")]


def test_an_increase_reserves_what_it_was_planned_and_queues_the_rest_at_the_time_of_the_change() -> None:
    found = effects(OPEN, changing(OPEN, ("1", 15)))  # stock left: W-B 3, W-C 2
    assert found == ChangeEffects(
        released=(),
        reserved=(bolts("W-B", 3), bolts("W-C", 2)),
        withdrawn=(),
        queued=(QueuedRest("1", "BOLT-10", None, 1, CHANGED_AT),),
        value_change=Decimal("51.00"),
    )
    assert found.freed == []


def test_an_added_line_queues_what_no_stock_covers_at_the_orders_pin() -> None:
    pinned = [placed(placing(("1", "BOLT-10", 9, BOLT), warehouse_id="W-A")), allocated(("1", "BOLT-10", "W-A", 9))]
    cmd = changing(pinned, add=[AddLine("2", "NUT-4", 10)], stock={"NUT-4": {"W-A": 4, "W-B": 50}})
    found = effects(pinned, cmd)
    assert found.reserved == (LineAllocation(line_id="2", sku="NUT-4", warehouse_id="W-A", qty=4),)
    assert found.queued == (QueuedRest("2", "NUT-4", "W-A", 6, CHANGED_AT),)


def test_a_held_order_only_moves_its_value() -> None:
    history = [placed(), HELD]
    assert effects(history, changing(history, ("1", 4))) == ChangeEffects((), (), (), (), Decimal("-42.50"))
    assert effects(history, changing(history, ("1", 12))) == ChangeEffects((), (), (), (), Decimal("25.50"))


def test_events_that_are_no_change_ask_nothing() -> None:
    assert order.effects_of_change(state_of(*OPEN), OPEN[1:]) == ChangeEffects((), (), (), (), Decimal("0.00"))


def test_the_effects_applied_keep_positions_and_the_book_in_step_with_the_order() -> None:
    """The application layer's path, in the domain: decide, then release and withdraw (and reserve
    and queue) what the effects say, in the same write."""
    positions = {wh: inventory.Position("BOLT-10", wh, on_hand=qty) for wh, qty in {"W-A": 6, "W-C": 2}.items()}
    for wh, qty in (("W-A", 6), ("W-C", 2)):
        positions[wh] = fold(
            inventory.evolve_position, positions[wh], inventory.reserve(positions[wh], "SO-1", "1", qty)
        )
    book = backorders.Book("BOLT-10")
    book = fold(backorders.evolve_book, book, backorders.queue(book, "SO-1", "1", None, 1, ACCEPTED))

    events = order.decide(changing(PART_BACKORDERED, ("1", 4)), state_of(*PART_BACKORDERED))
    after = state_of(*PART_BACKORDERED, *events)
    found = order.effects_of_change(after, events)
    for r in found.released:
        released = inventory.release(positions[r.warehouse_id], "SO-1", r.line_id, "order_changed", qty=r.qty)
        positions[r.warehouse_id] = fold(inventory.evolve_position, positions[r.warehouse_id], released)
    for w in found.withdrawn:
        book = fold(backorders.evolve_book, book, backorders.withdraw(book, "SO-1", w.line_id, "order_changed", w.qty))

    line = after.line("1")
    assert (line.allocations, line.backordered) == ({"W-A": 4}, 0)
    assert {wh: p.reserved_for("SO-1", "1") for wh, p in positions.items()} == {"W-A": 4, "W-C": 0}
    assert book.total == 0


def fold(evolve: Callable[[S, Event], S], state: S, events: list[Event]) -> S:
    return reduce(evolve, events, state)
