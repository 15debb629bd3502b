"""Changing an order (API.md "Changing an order"): the rules that belong to the order, checked in
their numbered order, and the events an accepted change records. A rejected change records nothing.

Rule 1's 404 is `decide`'s (`_existing`); unknown SKUs and units (rule 2) and prices (rule 4) are
judged from `ChangeOrder.prices`, which the application fills with `pricing.offers`, so the rules
keep their order even though the catalog and the customer's prices live in other streams. Added
lines are priced on the day of the change; `lines[].qty` of existing lines is in base units (the
line's `ordered_uom`/`ordered_qty` follow, see `order.Line`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from domain.customer import exceeds_credit
from domain.errors import (
    BelowShippedError,
    CreditLimitExceededError,
    DuplicateIdError,
    OrderClosedError,
    UnknownLineError,
    UnknownSkuError,
    UnknownUomError,
)
from domain.events import Event
from domain.order.commands import AddLine, ChangeOrder, Plan
from domain.order.events import ChangedLine, LineAllocation, LineQty, OrderChanged, PlacedLine
from domain.order.fields import FieldError, ensure_valid, line_ref_errors
from domain.order.lines import allocation_events, at_prices, check_all_or_nothing, ensure_units, placed_line
from domain.order.state import Line, Order
from domain.values import MAX_LINES, MAX_QTY, ZERO, format_money, line_amount, subtract, sum_money

CLOSED = frozenset({"cancelled", "shipped", "delivered"})


def ensure_valid_change(cmd: ChangeOrder) -> None:
    """The request itself (422 invalid_request): something to change, quantities in range, the
    buyer's line references well formed."""
    errors: list[FieldError] = []
    if not cmd.lines and not cmd.add_lines:
        errors.append({"field": "lines", "message": "a change needs lines or add_lines"})
    for name, count in (("lines", len(cmd.lines)), ("add_lines", len(cmd.add_lines))):
        if count > MAX_LINES:
            errors.append({"field": name, "message": f"at most {MAX_LINES} entries"})
    for i, (_, qty) in enumerate(cmd.lines):
        if not 0 <= qty <= MAX_QTY:
            errors.append({"field": f"lines[{i}].qty", "message": f"must be 0-{MAX_QTY}"})
    for i, ln in enumerate(cmd.add_lines):
        if not 1 <= ln.qty <= MAX_QTY:
            errors.append({"field": f"add_lines[{i}].qty", "message": f"must be 1-{MAX_QTY}"})
        errors += line_ref_errors(ln.customer_line_ref, f"add_lines[{i}].customer_line_ref")
    ensure_valid(errors)


def _ensure_open(state: Order, change_id: str) -> None:
    """Rule 1. A change id applies once (checked first: a change that closed the order, sent again,
    is a duplicate, not a change to a closed order)."""
    if change_id in state.change_ids:
        raise DuplicateIdError(
            f"Change {change_id} was already applied to order {state.order_id}",
            order_id=state.order_id,
            change_id=change_id,
        )
    if state.status in CLOSED:
        raise OrderClosedError(
            f"Order {state.order_id} is {state.status} and takes no changes",
            order_id=state.order_id,
            order_status=state.status,
        )


def _ensure_lines(state: Order, cmd: ChangeOrder) -> None:
    """Rule 2: lines on the order, each named once; added lines new to the order; SKUs known."""
    on_order = {ln.line_id for ln in state.lines}
    unknown = list(dict.fromkeys(lid for lid, _ in cmd.lines if lid not in on_order))
    if unknown:
        raise UnknownLineError(
            f"Line {unknown[0]} is not on order {state.order_id}",
            order_id=state.order_id,
            line_id=unknown[0],
            line_ids=unknown,
        )
    errors: list[FieldError] = []
    named = Counter(lid for lid, _ in cmd.lines)
    errors += [{"field": "lines", "message": f"line {lid} named twice"} for lid in named if named[lid] > 1]
    skus_on_order = {ln.sku for ln in state.lines}
    ids_seen: set[str] = set()
    skus_seen: set[str] = set()
    for i, ln in enumerate(cmd.add_lines):
        if ln.line_id in on_order:
            errors.append({"field": f"add_lines[{i}].line_id", "message": f"line {ln.line_id} is already on the order"})
        elif ln.line_id in ids_seen:
            errors.append({"field": f"add_lines[{i}].line_id", "message": f"line {ln.line_id} added twice"})
        if ln.sku in skus_on_order:
            errors.append(
                {"field": f"add_lines[{i}].sku", "message": f"sku {ln.sku} is already on the order: change its line"}
            )
        elif ln.sku in skus_seen:
            errors.append({"field": f"add_lines[{i}].sku", "message": f"duplicate sku {ln.sku}"})
        ids_seen.add(ln.line_id)
        skus_seen.add(ln.sku)
    if len(state.lines) + len(cmd.add_lines) > MAX_LINES:
        errors.append({"field": "add_lines", "message": f"an order has at most {MAX_LINES} lines"})
    ensure_valid(errors)
    missing = next((ln.sku for ln in cmd.add_lines if ln.sku not in cmd.prices), None)
    if missing is not None:
        raise UnknownSkuError(f"SKU {missing} is not in the catalog", sku=missing)
    ensure_units(cmd.add_lines, cmd.prices, "add_lines")


def _ensure_not_below_shipped(state: Order, cmd: ChangeOrder) -> None:
    """Rule 3: a new qty may be 0, never below what has shipped."""
    below = [
        {"line_id": lid, "sku": line.sku, "shipped": line.shipped, "requested": qty}
        for lid, qty in cmd.lines
        if qty < (line := state.line(lid)).shipped
    ]
    if below:
        first = below[0]
        raise BelowShippedError(
            f"Line {first['line_id']} ({first['sku']}): {first['requested']} is below the {first['shipped']} shipped",
            order_id=state.order_id,
            lines=below,
        )


def _released(line: Line, qty: int) -> list[LineAllocation]:
    """Rule 6: `qty` of the line's reservations, warehouse_id descending."""
    released: list[LineAllocation] = []
    for wh, held in sorted(line.allocations.items(), reverse=True):
        take = min(qty, held)
        if take > 0:
            released.append(LineAllocation(line_id=line.line_id, sku=line.sku, warehouse_id=wh, qty=take))
            qty -= take
    return released


def _changed_line(line: Line, qty: int) -> ChangedLine:
    cut = max(line.qty - qty, 0)
    dropped = min(cut, line.backordered)  # the unreserved qty goes first (a held order's is all of it)
    return ChangedLine(
        line_id=line.line_id,
        sku=line.sku,
        previous_qty=line.qty,
        qty=qty,
        unit_price=line.unit_price,
        amount=line_amount(qty, line.unit_price),
        backorder_dropped=dropped,
        released=_released(line, cut - dropped),
    )


def _capped(plan: Plan, wanted: Sequence[LineQty]) -> dict[str, list[tuple[str, int]]]:
    """The plan, never giving a line more than it wants (so the line invariant holds whatever is handed in)."""
    capped: dict[str, list[tuple[str, int]]] = {}
    for w in wanted:
        left = w.qty
        for wh, qty in plan.get(w.line_id, []):
            take = min(qty, left)
            if take > 0:
                capped.setdefault(w.line_id, []).append((wh, take))
                left -= take
    return capped


def _increases(changed: Sequence[ChangedLine], added: Sequence[PlacedLine]) -> list[LineQty]:
    """What rule 7 allocates: each increase, then each added line."""
    return [
        LineQty(line_id=cl.line_id, sku=cl.sku, qty=cl.qty - cl.previous_qty)
        for cl in changed
        if cl.qty > cl.previous_qty
    ] + [LineQty(line_id=pl.line_id, sku=pl.sku, qty=pl.qty) for pl in added]


def change(state: Order, cmd: ChangeOrder) -> list[Event]:
    """Apply a change to an open order, rules 1-7 in order: OrderChanged, then the allocation of
    what it increased (OrderLinesAllocated, reason `order_change`) unless the order is held.

    The credit check needs the change's own value, so unlike `place` it takes no `over_credit`
    flag: the facts (`prices`, `exposure`, `credit_limit`, `plan`) ride on the command."""
    ensure_valid_change(cmd)
    _ensure_open(state, cmd.change_id)
    _ensure_lines(state, cmd)
    _ensure_not_below_shipped(state, cmd)
    priced = at_prices(cmd.add_lines, cmd.prices, state.customer_id, cmd.changed_at.date(), "add_lines")  # rule 4
    added = [placed_line(ln, state.requested_date) for ln in priced]
    changed = [_changed_line(line, qty) for lid, qty in cmd.lines if qty != (line := state.line(lid)).qty]
    new_amounts = {cl.line_id: cl.amount for cl in changed}
    total = sum_money([*(new_amounts.get(ln.line_id, ln.amount) for ln in state.lines), *(pl.amount for pl in added)])
    value_change = subtract(total, state.total)
    limit = cmd.credit_limit
    if value_change > ZERO and not state.on_hold and limit is not None:  # rule 5
        if exceeds_credit(value_change, cmd.exposure, limit):
            raise CreditLimitExceededError(
                f"The change adds {format_money(value_change)} to an exposure of {format_money(cmd.exposure)}, "
                f"over the credit limit of {format_money(limit)}",
                order_id=state.order_id,
                credit_limit=format_money(limit),
                exposure=format_money(cmd.exposure),
                increase=format_money(value_change),
            )
    allocated: list[Event] = []
    if not state.on_hold:  # rule 7 (a held order reserves nothing: its new qty waits as backordered)
        wanted = _increases(changed, added)
        plan = _capped(cmd.plan, wanted)
        if not state.allow_backorder:
            check_all_or_nothing([(w.line_id, w.qty) for w in wanted], plan, {w.line_id: w.sku for w in wanted})
        allocated = allocation_events(state.order_id, wanted, plan, "order_change")
    recorded = OrderChanged(
        order_id=state.order_id,
        customer_id=state.customer_id,
        change_id=cmd.change_id,
        reason=cmd.reason,
        lines=changed,
        added=added,
        value_change=value_change,
        total=total,
        changed_at=cmd.changed_at,
    )
    return [recorded, *allocated]


def wanted_for_change(state: Order, cmd: ChangeOrder) -> list[tuple[str, str, int]]:
    """(line_id, sku, qty) a change asks to reserve, for `allocation.plan_lines` (with the order's
    `warehouse_id` as pin, as at placement): each increase and each added line; nothing while the
    order is held. Lenient: what the rules will refuse (unknown lines, say) is left out, not raised."""
    if state.on_hold:
        return []
    current: Mapping[str, Line] = {ln.line_id: ln for ln in state.lines}
    wanted = [
        (lid, current[lid].sku, qty - current[lid].qty)
        for lid, qty in cmd.lines
        if lid in current and qty > current[lid].qty
    ]
    return wanted + [(ln.line_id, ln.sku, qty) for ln in cmd.add_lines if (qty := _base_qty(cmd, ln)) > 0]


def _base_qty(cmd: ChangeOrder, ln: AddLine) -> int:
    """An added line's qty in base units (0 where its SKU or unit is unknown: rule 2 refuses it)."""
    offer = cmd.prices.get(ln.sku)
    try:
        return ln.qty * offer.factor(ln.uom) if offer is not None else 0
    except UnknownUomError:
        return 0


def assign_line_ids(state: Order, sent: Sequence[str | None]) -> list[str]:
    """Ids for added lines: those sent as they are, the others numbered on from the order's line
    count, skipping ids the order or the change already uses (deterministic, so a retry agrees)."""
    taken = {ln.line_id for ln in state.lines} | {lid for lid in sent if lid is not None}
    n = len(state.lines)
    assigned: list[str] = []
    for lid in sent:
        if lid is None:
            n += 1
            while str(n) in taken:
                n += 1
            lid = str(n)
            taken.add(lid)
        assigned.append(lid)
    return assigned
