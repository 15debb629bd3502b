"""Order status and the line invariant, for every history the contract names; and the order package's names."""

from __future__ import annotations

from decimal import Decimal

import pytest

import domain.order
from domain.events import EVENT_TYPES, Event
from domain.order import OrderCreditReleased
from domain.order import events as order_events
from tests.domain.order_events import (
    BOLTS_AND_NUTS,
    HELD,
    NINE_ALLOCATED,
    allocated,
    cancelled,
    delivered,
    placed,
    shipped,
    state_of,
)

SHIP_ALL = (shipped("SH-1", "W-A", ("1", "BOLT-10", 6)), shipped("SH-2", "W-B", ("1", "BOLT-10", 3)))
CANCEL_ALL = cancelled("customer asked", "76.50", ("1", "BOLT-10", 9, [("W-A", 6), ("W-B", 3)]))
CANCEL_REST = cancelled("rest not needed", "25.50", ("1", "BOLT-10", 3, [("W-B", 3)]))
HISTORIES: dict[str, tuple[str, list[Event]]] = {
    "held": ("credit_hold", [placed(), HELD]),
    "nothing in stock": ("backordered", [placed()]),
    "partly allocated": ("backordered", [placed(), allocated(("1", "BOLT-10", "W-A", 6))]),
    "fully allocated": ("allocated", [placed(), NINE_ALLOCATED]),
    "filled from backorder": (
        "allocated",
        [
            placed(),
            allocated(("1", "BOLT-10", "W-A", 6)),
            allocated(("1", "BOLT-10", "W-C", 3), reason="backorder_fill"),
        ],
    ),
    "released from hold": (
        "allocated",
        [placed(), HELD, OrderCreditReleased(order_id="SO-1", customer_id="C1"), NINE_ALLOCATED],
    ),
    "one shipment of two": ("partially_shipped", [placed(), NINE_ALLOCATED, SHIP_ALL[0]]),
    "partly shipped and backordered": (
        "partially_shipped",
        [placed(), allocated(("1", "BOLT-10", "W-A", 6)), SHIP_ALL[0]],
    ),
    "partly shipped and delivered": ("partially_shipped", [placed(), NINE_ALLOCATED, SHIP_ALL[0], delivered("SH-1")]),
    "all shipped": ("shipped", [placed(), NINE_ALLOCATED, *SHIP_ALL]),
    "all shipped, one delivered": ("shipped", [placed(), NINE_ALLOCATED, *SHIP_ALL, delivered("SH-1")]),
    "all shipped and delivered": (
        "delivered",
        [placed(), NINE_ALLOCATED, *SHIP_ALL, delivered("SH-1"), delivered("SH-2")],
    ),
    "partly shipped, rest cancelled": ("shipped", [placed(), NINE_ALLOCATED, SHIP_ALL[0], CANCEL_REST]),
    "partly shipped, rest cancelled, delivered": (
        "delivered",
        [placed(), NINE_ALLOCATED, SHIP_ALL[0], CANCEL_REST, delivered("SH-1")],
    ),
    "cancelled": ("cancelled", [placed(), NINE_ALLOCATED, CANCEL_ALL]),
    "cancelled while held": ("cancelled", [placed(), HELD, cancelled("x", "76.50", ("1", "BOLT-10", 9, []))]),
}


@pytest.mark.parametrize("history", HISTORIES.values(), ids=HISTORIES.keys())
def test_the_order_reports_the_status_its_history_implies(history: tuple[str, list[Event]]) -> None:
    status, events = history
    assert state_of(*events).status == status


@pytest.mark.parametrize("history", HISTORIES.values(), ids=HISTORIES.keys())
def test_every_line_qty_is_allocated_plus_backordered_plus_shipped_plus_cancelled(
    history: tuple[str, list[Event]],
) -> None:
    for line in state_of(*history[1]).lines:
        parts = (line.allocated, line.backordered, line.shipped, line.cancelled)
        assert min(parts) >= 0
        assert sum(parts) == line.qty


def test_every_status_of_the_contract_is_reachable() -> None:
    reached = {status for status, _ in HISTORIES.values()}
    assert reached == {
        "credit_hold",
        "backordered",
        "allocated",
        "partially_shipped",
        "shipped",
        "delivered",
        "cancelled",
    }


def test_the_order_total_is_the_sum_of_its_line_amounts() -> None:
    assert state_of(placed(BOLTS_AND_NUTS)).total == Decimal("79.00")


# --- the package keeps every name where callers and the codec look ---------------------------

DEFINED_EVENTS = sorted(
    name
    for name, cls in vars(order_events).items()
    if isinstance(cls, type) and issubclass(cls, Event) and cls.__module__ == order_events.__name__
)


def test_every_order_event_is_registered_for_the_codec_under_its_stored_name() -> None:
    assert len(DEFINED_EVENTS) == 11
    assert all(EVENT_TYPES[name] is getattr(order_events, name) for name in DEFINED_EVENTS)
    assert sorted(cls.__name__ for cls in domain.order.ORDER_EVENTS) == DEFINED_EVENTS


def test_every_public_name_of_the_order_package_is_reachable_as_order_x() -> None:
    modules = (
        domain.order.events,
        domain.order.state,
        domain.order.commands,
        domain.order.decide,
        domain.order.changes,
        domain.order.effects,
        domain.order.fields,
        domain.order.lines,
        domain.order.promises,
    )
    for module in modules:
        public = {
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
        }
        assert public <= set(domain.order.__all__), module.__name__
    assert all(hasattr(domain.order, name) for name in domain.order.__all__)
