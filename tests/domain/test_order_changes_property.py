"""Property: through any mix of changes, shipments, receipts with backorder fills and hold releases,
every line keeps qty = allocated + backordered + shipped + cancelled, the stock positions hold
exactly the order's allocations, and the backorder books exactly its backordered qty.

The world here is one order with its positions and books, run the way the application layer runs
a command: decide on the order, then record on the other streams what the domain says."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from decimal import Decimal
from functools import reduce
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import backorders, inventory, order
from domain.allocation import plan_lines
from domain.errors import DomainError
from domain.events import Event
from domain.order import AddLine, ChangeOrder, Order, OrderLineRequest, PlaceOrder
from domain.values import ZERO, sum_money
from tests.domain.change_events import CHANGED_AT, offers
from tests.domain.change_events import PRICES as KNOWN
from tests.domain.order_events import ACCEPTED

S = TypeVar("S")
PRICES = {**KNOWN, "GEAR-1": Decimal("3.20"), "PIN-7": Decimal("0.05")}
SKUS = tuple(PRICES)
WAREHOUSES = ("W-A", "W-B", "W-C")


def fold(evolve: Callable[[S, Event], S], state: S, events: list[Event]) -> S:
    return reduce(evolve, events, state)


@dataclass
class World:
    order: Order
    positions: dict[tuple[str, str], inventory.Position] = field(default_factory=dict)
    books: dict[str, backorders.Book] = field(default_factory=dict)
    changes: int = 0
    value: Decimal = Decimal("0.00")  # the value placed plus every change's value_change
    log: list[Event] = field(default_factory=list)  # the order stream, oldest first

    def position(self, sku: str, wh: str) -> inventory.Position:
        return self.positions.setdefault((sku, wh), inventory.Position(sku, wh))

    def on_position(self, sku: str, wh: str, events: list[Event]) -> None:
        self.positions[(sku, wh)] = fold(inventory.evolve_position, self.position(sku, wh), events)

    def book(self, sku: str) -> backorders.Book:
        return self.books.setdefault(sku, backorders.Book(sku))

    def on_book(self, sku: str, events: list[Event]) -> None:
        self.books[sku] = fold(backorders.evolve_book, self.book(sku), events)

    def on_order(self, events: list[Event]) -> None:
        self.log += events
        state = fold(order.evolve_order, self.order, events)
        assert state is not None
        self.order = state

    def available(self, skus: list[str]) -> dict[str, dict[str, int]]:
        pins = (self.order.warehouse_id,) if self.order.warehouse_id else WAREHOUSES
        return {sku: {wh: self.position(sku, wh).available for wh in pins} for sku in skus}

    def reserve(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, order.OrderLinesAllocated):
                for a in event.allocations:
                    self.on_position(
                        a.sku,
                        a.warehouse_id,
                        inventory.reserve(self.position(a.sku, a.warehouse_id), "SO-1", a.line_id, a.qty),
                    )

    def queue_backordered(self) -> None:
        """Placement and hold release: every backordered line waits in its SKU's book."""
        for ln in self.order.lines:
            waiting = self.book(ln.sku).entries.get(("SO-1", ln.line_id))
            missing = ln.backordered - (waiting.qty if waiting else 0)
            self.on_book(
                ln.sku,
                backorders.queue(
                    self.book(ln.sku), "SO-1", ln.line_id, self.order.warehouse_id, missing, self.order.accepted_at
                ),
            )

    def fill(self, sku: str) -> None:
        free = {wh: self.position(sku, wh).available for wh in WAREHOUSES}
        for entry, wh, qty in backorders.plan_fill(self.book(sku), free):
            events = order.fill_backorder(self.order, entry.line_id, wh, qty)
            if not events:
                self.on_book(sku, backorders.withdraw(self.book(sku), "SO-1", entry.line_id, "not_open"))
                continue
            self.on_order(events)
            self.reserve(events)
            take = sum(a.qty for e in events if isinstance(e, order.OrderLinesAllocated) for a in e.allocations)
            self.on_book(sku, backorders.fill(self.book(sku), entry, wh, take))

    def change(self, new_qty: dict[int, int], add: list[tuple[str, int]], only_new_skus: bool) -> None:
        state = self.order
        if only_new_skus:  # mostly send what rule 2 accepts; else also SKUs it refuses
            on_order = {ln.sku for ln in state.lines}
            add = list({sku: (sku, qty) for sku, qty in add if sku not in on_order}.values())
        lines = tuple((state.lines[i].line_id, qty) for i, qty in new_qty.items() if i < len(state.lines))
        ids = order.assign_line_ids(state, [None] * len(add))
        added = tuple(AddLine(lid, sku, qty) for lid, (sku, qty) in zip(ids, add, strict=True))
        for sku in sorted({ln.sku for ln in state.lines} | {a.sku for a in added}):
            self.fill(sku)  # older backorders are served first
        cmd = ChangeOrder(
            "SO-1",
            f"CH-{self.changes}",
            "why not",
            lines,
            added,
            CHANGED_AT + timedelta(minutes=self.changes),
            prices=offers(PRICES),
        )
        wanted = order.wanted_for_change(self.order, cmd)
        cmd = replace(
            cmd, plan=plan_lines(wanted, self.available([sku for _, sku, _ in wanted]), self.order.warehouse_id)
        )
        self.changes += 1
        try:
            events = order.decide(cmd, self.order)
        except DomainError:
            return  # a refused change records nothing
        self.on_order(events)
        effects = order.effects_of_change(self.order, events)
        self.value += effects.value_change
        for r in effects.released:
            self.on_position(
                r.sku,
                r.warehouse_id,
                inventory.release(self.position(r.sku, r.warehouse_id), "SO-1", r.line_id, "order_changed", r.qty),
            )
        for w in effects.withdrawn:
            self.on_book(w.sku, backorders.withdraw(self.book(w.sku), "SO-1", w.line_id, "order_changed", w.qty))
        self.reserve(events)
        for q in effects.queued:
            self.on_book(
                q.sku, backorders.queue(self.book(q.sku), "SO-1", q.line_id, q.warehouse_id, q.qty, q.accepted_at)
            )
        for sku, _ in effects.freed:
            self.fill(sku)

    def ship(self, index: int, qty: int) -> None:
        if index >= len(self.order.lines):
            return
        ln = self.order.lines[index]
        for wh, held in sorted(ln.allocations.items()):
            take = min(qty, held)
            events = order.record_shipment(self.order, f"SH-{len(self.order.shipments)}", wh, [(ln.sku, take)])
            self.on_order(events)
            self.on_position(ln.sku, wh, inventory.ship(self.position(ln.sku, wh), "SH", "SO-1", ln.line_id, take))
            return

    def receive(self, sku: str, wh: str, qty: int) -> None:
        self.on_position(sku, wh, inventory.receive(self.position(sku, wh), "R", qty))
        self.fill(sku)

    def release_hold(self) -> None:
        if not self.order.on_hold or self.order.cancelled:
            return
        wanted = order.wanted_for_allocation(self.order)
        plan = plan_lines(wanted, self.available([sku for _, sku, _ in wanted]), self.order.warehouse_id)
        try:
            events = order.release_hold(self.order, plan)
        except DomainError:
            return
        self.on_order(events)
        self.reserve(events)
        self.queue_backordered()


def check(world: World) -> None:
    state = world.order
    for ln in state.lines:
        parts = (ln.allocated, ln.backordered, ln.shipped, ln.cancelled)
        assert min(parts) >= 0 and sum(parts) == ln.qty, (ln, parts)
        for wh in WAREHOUSES:
            assert world.position(ln.sku, wh).reserved_for("SO-1", ln.line_id) == ln.allocations.get(wh, 0)
        waiting = world.book(ln.sku).entries.get(("SO-1", ln.line_id))
        expected = 0 if state.on_hold or state.cancelled else ln.backordered
        assert (waiting.qty if waiting else 0) == expected, (ln, waiting)
    for pos in world.positions.values():
        assert pos.reserved == sum(pos.reservations.values()) and pos.available >= 0
    if all(ln.qty == 0 for ln in state.lines) and not any(ln.shipped for ln in state.lines):
        assert state.status == "cancelled"
    assert state.total == world.value == sum_money(ln.amount for ln in state.lines)


stock = st.dictionaries(st.tuples(st.sampled_from(SKUS), st.sampled_from(WAREHOUSES)), st.integers(0, 30), max_size=12)
step = st.one_of(
    st.tuples(
        st.just("change"),
        st.dictionaries(st.integers(0, 3), st.integers(0, 15), min_size=1, max_size=3),
        st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 8)), max_size=2),
        st.just(True),
    ),
    st.tuples(
        st.just("change"),
        st.dictionaries(st.integers(0, 3), st.integers(0, 15), max_size=3),
        st.lists(st.tuples(st.sampled_from(SKUS), st.integers(1, 8)), max_size=2),
        st.sampled_from([True, True, False]),
    ),
    st.tuples(st.just("ship"), st.integers(0, 2), st.integers(1, 6)),
    st.tuples(st.just("receive"), st.sampled_from(SKUS), st.sampled_from(WAREHOUSES), st.integers(1, 20)),
    st.tuples(st.just("release")),
)


@settings(max_examples=200, deadline=None)
@given(
    skus=st.lists(st.sampled_from(SKUS), min_size=1, max_size=2, unique=True),
    qtys=st.lists(st.integers(1, 12), min_size=2, max_size=2),
    on_hand=stock,
    baseline=st.sampled_from([0, 4, 10]),
    pin=st.sampled_from([None, *WAREHOUSES]),
    backorder=st.booleans(),
    held=st.sampled_from([False, False, False, True]),
    steps=st.lists(step, max_size=8),
)
def test_any_history_of_changes_keeps_every_line_and_stream_in_step(
    skus: list[str],
    qtys: list[int],
    on_hand: dict[tuple[str, str], int],
    baseline: int,
    pin: str | None,
    backorder: bool,
    held: bool,
    steps: list[tuple[object, ...]],
) -> None:
    play(skus, qtys, on_hand, baseline, pin, backorder, held, steps, check)


def play(
    skus: list[str],
    qtys: list[int],
    on_hand: dict[tuple[str, str], int],
    baseline: int,
    pin: str | None,
    backorder: bool,
    held: bool,
    steps: list[tuple[object, ...]],
    after_each: Callable[[World], None],
) -> World | None:
    """Place the order, then take the steps, calling `after_each` at every stop; the world at the
    end (None: the order was refused)."""
    lines = tuple(
        OrderLineRequest(str(i + 1), sku, qty, PRICES[sku])
        for i, (sku, qty) in enumerate(zip(skus, qtys, strict=False))
    )
    placing = PlaceOrder("SO-1", "C1", "web", pin, backorder, lines, ACCEPTED)
    stocked = {(sku, wh): baseline for sku in SKUS for wh in WAREHOUSES} | on_hand
    positions = {(sku, wh): inventory.Position(sku, wh, on_hand=qty) for (sku, wh), qty in stocked.items()}
    available = {sku: {wh: p.available for (s, wh), p in positions.items() if s == sku} for sku in skus}
    plan = {} if held else plan_lines([(ln.line_id, ln.sku, ln.qty) for ln in lines], available, pin)
    try:
        placed = order.place(placing, over_credit=held, exposure=ZERO, credit_limit=ZERO, plan=plan)
    except DomainError:
        return None  # not enough stock for an order without backorders: nothing to change
    state = fold(order.evolve_order, None, placed)
    assert state is not None
    world = World(order=state, positions=positions, value=state.total, log=list(placed))
    world.reserve(placed)
    if not held:
        world.queue_backordered()
    after_each(world)
    for kind, *args in steps:
        if kind == "change":
            world.change(*args)  # type: ignore[arg-type]
        elif kind == "ship":
            world.ship(*args)  # type: ignore[arg-type]
        elif kind == "receive":
            world.receive(*args)  # type: ignore[arg-type]
        else:
            world.release_hold()
        after_each(world)
    return world
