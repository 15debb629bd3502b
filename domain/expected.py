"""ExpectedReceipt: supply announced for a date (a purchase order, an inbound ASN), one per `expected_id`.

It says that `qty` of a SKU should arrive at a warehouse on `expected_on`. Receipts that name it
count against it, up to what is still open; what a receipt brings beyond that is stock all the same,
it just was not expected. Nothing open (received in full, cut to what came, or closed) is `closed`:
closed supply is no longer expected, so promises stop counting on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal, assert_never

from domain.decider import Decider
from domain.errors import (
    BelowReceivedError,
    DuplicateIdError,
    ExpectedReceiptClosedError,
    InvalidRequestError,
    NotFoundError,
)
from domain.events import Event, register
from domain.frozen import replace
from domain.values import MAX_QTY

TEXT_MAX = 200
RECEIVED_IN_FULL = "received_in_full"  # the reason recorded when receipts leave nothing open
CUT_TO_RECEIVED = "cut_to_received"  # ... and when a change sets qty to what was received
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

Status = Literal["open", "closed"]


# --- events (their names and fields are stored) ----------------------------------------------


class ExpectedEvent(Event, frozen=True, kw_only=True):
    """Every event names the supply it is about, so a reader keeps incoming rows from events alone."""

    expected_id: str
    warehouse_id: str
    sku: str


class ExpectedReceiptCreated(ExpectedEvent, frozen=True, kw_only=True):
    qty: int
    expected_on: date
    reference: str | None = None


class ExpectedReceiptChanged(ExpectedEvent, frozen=True, kw_only=True):
    """The date or qty moved; `open` is what is still expected after the change."""

    expected_on: date
    qty: int
    previous_expected_on: date
    previous_qty: int
    received: int
    open: int


class ExpectedReceiptReceived(ExpectedEvent, frozen=True, kw_only=True):
    """A receipt of `receipt_qty` counted `qty` against the open rest (never more than was open)."""

    receipt_id: str
    receipt_qty: int
    qty: int
    received: int
    open: int


class ExpectedReceiptClosed(ExpectedEvent, frozen=True, kw_only=True):
    """Nothing more is expected: `dropped` is the open rest given up (0 when all came)."""

    reason: str
    dropped: int
    received: int


EXPECTED_EVENTS: tuple[type[Event], ...] = (
    ExpectedReceiptCreated,
    ExpectedReceiptChanged,
    ExpectedReceiptReceived,
    ExpectedReceiptClosed,
)
register(*EXPECTED_EVENTS)


# --- state ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedReceipt:
    expected_id: str
    warehouse_id: str
    sku: str
    qty: int
    expected_on: date
    reference: str | None = None
    received: int = 0
    status: Status = "open"
    close_reason: str | None = None
    receipt_ids: tuple[str, ...] = ()  # receipts counted against it, oldest first
    created_qty: int = 0  # as created (a repeated create is compared with these, not with changes)
    created_on: date | None = None

    @property
    def open(self) -> int:
        """What is still expected: nothing once closed."""
        return 0 if self.status == "closed" else max(self.qty - self.received, 0)


def initial_state(expected_id: str) -> ExpectedReceipt | None:
    return None


def evolve_expected(state: ExpectedReceipt | None, event: Event) -> ExpectedReceipt | None:
    if isinstance(event, ExpectedReceiptCreated):
        return ExpectedReceipt(
            event.expected_id,
            event.warehouse_id,
            event.sku,
            event.qty,
            event.expected_on,
            event.reference,
            created_qty=event.qty,
            created_on=event.expected_on,
        )
    if state is None:
        return None
    match event:
        case ExpectedReceiptChanged(expected_on=on, qty=qty):
            return replace(state, expected_on=on, qty=qty)
        case ExpectedReceiptReceived(receipt_id=rid, received=received):
            return replace(state, received=received, receipt_ids=(*state.receipt_ids, rid))
        case ExpectedReceiptClosed(reason=reason):
            return replace(state, status="closed", close_reason=reason)
    return state


# --- commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateExpectedReceipt:
    expected_id: str
    warehouse_id: str
    sku: str
    qty: int
    expected_on: date
    reference: str | None = None


@dataclass(frozen=True)
class ChangeExpectedReceipt:
    """A new date, a new qty, or both (None: unchanged)."""

    expected_id: str
    expected_on: date | None = None
    qty: int | None = None


@dataclass(frozen=True)
class CloseExpectedReceipt:
    expected_id: str
    reason: str


@dataclass(frozen=True)
class ReceiveAgainstExpected:
    """A receipt line of `qty` names this expected receipt; `warehouse_id` and `sku` are the
    receipt's own, which must be the expected ones."""

    expected_id: str
    receipt_id: str
    warehouse_id: str
    sku: str
    qty: int


ExpectedCommand = CreateExpectedReceipt | ChangeExpectedReceipt | CloseExpectedReceipt | ReceiveAgainstExpected


# --- decisions -----------------------------------------------------------------------------


def _qty_errors(qty: int, field: str = "qty") -> list[dict[str, str]]:
    return [] if 1 <= qty <= MAX_QTY else [{"field": field, "message": f"must be 1-{MAX_QTY}"}]


def _text_errors(value: str | None, field: str) -> list[dict[str, str]]:
    if value is None:
        return []
    if not 1 <= len(value) <= TEXT_MAX:
        return [{"field": field, "message": f"must be 1-{TEXT_MAX} characters"}]
    if _CONTROL.search(value):
        return [{"field": field, "message": "must not contain control characters (U+0000-U+001F, U+007F)"}]
    return []


def _ensure_valid(errors: list[dict[str, str]]) -> None:
    if errors:
        raise InvalidRequestError(f"{errors[0]['field']} {errors[0]['message']}", errors=errors)


def create(cmd: CreateExpectedReceipt, state: ExpectedReceipt | None) -> list[Event]:
    """A new expected receipt; the same one again records nothing, another under its id is refused."""
    _ensure_valid(_qty_errors(cmd.qty) + _text_errors(cmd.reference, "reference"))
    if state is not None:
        created = (state.warehouse_id, state.sku, state.created_qty, state.created_on, state.reference)
        if created == (cmd.warehouse_id, cmd.sku, cmd.qty, cmd.expected_on, cmd.reference):
            return []
        raise DuplicateIdError(
            f"Expected receipt {cmd.expected_id} already exists with other details", expected_id=cmd.expected_id
        )
    return [
        ExpectedReceiptCreated(
            expected_id=cmd.expected_id,
            warehouse_id=cmd.warehouse_id,
            sku=cmd.sku,
            qty=cmd.qty,
            expected_on=cmd.expected_on,
            reference=cmd.reference,
        )
    ]


def _closed(state: ExpectedReceipt, reason: str) -> ExpectedReceiptClosed:
    return ExpectedReceiptClosed(
        expected_id=state.expected_id,
        warehouse_id=state.warehouse_id,
        sku=state.sku,
        reason=reason,
        dropped=state.open,
        received=state.received,
    )


def _ensure_open(state: ExpectedReceipt) -> None:
    if state.status == "closed":
        raise ExpectedReceiptClosedError(
            f"Expected receipt {state.expected_id} is closed and takes no changes",
            expected_id=state.expected_id,
            reason=state.close_reason,
        )


def change(state: ExpectedReceipt, expected_on: date | None, qty: int | None) -> list[Event]:
    """Move the date or the qty; a qty equal to what was received leaves nothing open: closed."""
    if expected_on is None and qty is None:
        raise InvalidRequestError(
            "A change needs expected_on or qty",
            errors=[{"field": "expected_on", "message": "give expected_on, qty or both"}],
        )
    _ensure_valid(_qty_errors(qty) if qty is not None else [])
    _ensure_open(state)
    if qty is not None and qty < state.received:
        raise BelowReceivedError(
            f"Expected receipt {state.expected_id} has received {state.received}; qty {qty} is below that",
            expected_id=state.expected_id,
            received=state.received,
            requested=qty,
        )
    new_on = state.expected_on if expected_on is None else expected_on
    new_qty = state.qty if qty is None else qty
    if (new_on, new_qty) == (state.expected_on, state.qty):
        return []
    changed = ExpectedReceiptChanged(
        expected_id=state.expected_id,
        warehouse_id=state.warehouse_id,
        sku=state.sku,
        expected_on=new_on,
        qty=new_qty,
        previous_expected_on=state.expected_on,
        previous_qty=state.qty,
        received=state.received,
        open=new_qty - state.received,
    )
    if changed.open > 0:
        return [changed]
    return [changed, _closed(replace(state, qty=new_qty), CUT_TO_RECEIVED)]


def close(state: ExpectedReceipt, reason: str) -> list[Event]:
    """The open rest is no longer expected. Closing a closed one again records nothing."""
    _ensure_valid(_text_errors(reason, "reason"))
    if state.status == "closed":
        return []
    return [_closed(state, reason)]


def receive(state: ExpectedReceipt, receipt_id: str, warehouse_id: str, sku: str, qty: int) -> list[Event]:
    """Count a receipt against the open rest (at most that); all of it in: closed.

    A receipt counted before, or one arriving after the close, counts nothing (its stock is still
    received: this refuses only a receipt that names the wrong SKU or warehouse)."""
    if (warehouse_id, sku) != (state.warehouse_id, state.sku):
        raise InvalidRequestError(
            f"Expected receipt {state.expected_id} is for {state.sku} at {state.warehouse_id}, "
            f"not {sku} at {warehouse_id}",
            errors=[{"field": "expected_id", "message": f"is for {state.sku} at {state.warehouse_id}"}],
        )
    counted = min(qty, state.open)
    if receipt_id in state.receipt_ids or counted <= 0:
        return []
    received = ExpectedReceiptReceived(
        expected_id=state.expected_id,
        warehouse_id=state.warehouse_id,
        sku=state.sku,
        receipt_id=receipt_id,
        receipt_qty=qty,
        qty=counted,
        received=state.received + counted,
        open=state.open - counted,
    )
    if received.open > 0:
        return [received]
    return [received, _closed(replace(state, received=received.received), RECEIVED_IN_FULL)]


def _existing(state: ExpectedReceipt | None, expected_id: str) -> ExpectedReceipt:
    """The expected receipt a command names by path (404 when it does not exist)."""
    if state is None:
        raise NotFoundError(f"Expected receipt {expected_id} does not exist", expected_id=expected_id)
    return state


def _referenced(state: ExpectedReceipt | None, expected_id: str) -> ExpectedReceipt:
    """The expected receipt a receipt line names in its body (422 when it does not exist)."""
    if state is None:
        raise InvalidRequestError(
            f"Expected receipt {expected_id} does not exist",
            errors=[{"field": "expected_id", "message": f"no expected receipt {expected_id}"}],
        )
    return state


def decide(command: ExpectedCommand, state: ExpectedReceipt | None) -> list[Event]:
    match command:
        case CreateExpectedReceipt():
            return create(command, state)
        case ChangeExpectedReceipt(expected_id=eid, expected_on=on, qty=qty):
            return change(_existing(state, eid), on, qty)
        case CloseExpectedReceipt(expected_id=eid, reason=reason):
            return close(_existing(state, eid), reason)
        case ReceiveAgainstExpected(expected_id=eid, receipt_id=rid, warehouse_id=wh, sku=sku, qty=qty):
            return receive(_referenced(state, eid), rid, wh, sku, qty)
    assert_never(command)


decider: Decider[ExpectedCommand, ExpectedReceipt | None] = Decider(decide, evolve_expected, initial_state)
