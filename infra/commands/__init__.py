"""The application service: each command loads what it needs, asks the aggregates to decide,
and records their events in the unit of work (saved atomically by the ledger)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from domain import allocation, backorders, catalog, customer, inventory, order, shipment, transfer
from domain.errors import (
    CustomerBlockedError,
    DuplicateIdError,
    InvalidRequestError,
    NotFoundError,
    PriceMismatchError,
    UnknownCustomerError,
    UnknownOrderError,
    UnknownSkuError,
    UnknownWarehouseError,
)
from domain.values import format_money
from infra.ledger.kinds import (
    ACCOUNT,
    BOOK,
    CUSTOMER,
    ORDER,
    POSITION,
    PRODUCT,
    SHIPMENT,
    TRANSFER,
    WAREHOUSE,
    WAREHOUSE_INDEX,
    position_key,
)
from infra.ledger.unitofwork import UnitOfWork

INDEX_KEY = "all"


# --- reference data -------------------------------------------------------------------------


def put_product(uow: UnitOfWork, cmd: catalog.PutProduct) -> tuple[bool, catalog.Product]:
    """Returns (created, product)."""
    existing = uow.get(PRODUCT, cmd.sku)
    state = uow.record(PRODUCT, cmd.sku, catalog.decide_put_product(existing, cmd))
    assert state is not None
    return existing is None, state


def put_warehouse(uow: UnitOfWork, cmd: catalog.PutWarehouse) -> tuple[bool, catalog.Warehouse]:
    existing = uow.get(WAREHOUSE, cmd.warehouse_id)
    state = uow.record(WAREHOUSE, cmd.warehouse_id, catalog.decide_put_warehouse(existing, cmd))
    index = uow.get(WAREHOUSE_INDEX, INDEX_KEY)
    uow.record(WAREHOUSE_INDEX, INDEX_KEY, catalog.decide_index_warehouse(index, cmd.warehouse_id))
    assert state is not None
    return existing is None, state


def put_customer(uow: UnitOfWork, cmd: customer.PutCustomer) -> tuple[bool, customer.Customer]:
    existing = uow.get(CUSTOMER, cmd.customer_id)
    state = uow.record(CUSTOMER, cmd.customer_id, customer.decide_put_customer(existing, cmd))
    assert state is not None
    return existing is None, state


def set_contract_price(uow: UnitOfWork, cmd: customer.SetContractPrice) -> tuple[bool, customer.Customer]:
    state = uow.get(CUSTOMER, cmd.customer_id)
    if state is None:
        raise NotFoundError(f"Customer {cmd.customer_id} does not exist", customer_id=cmd.customer_id)
    _product(uow, cmd.sku)
    created = cmd.sku not in state.prices
    state = uow.record(CUSTOMER, cmd.customer_id, customer.decide_set_contract_price(state, cmd))
    assert state is not None
    return created, state


def _product(uow: UnitOfWork, sku: str) -> catalog.Product:
    product = uow.get(PRODUCT, sku)
    if product is None:
        raise UnknownSkuError(f"SKU {sku} is not in the catalog", sku=sku)
    return product


def _warehouse(uow: UnitOfWork, warehouse_id: str, field_name: str = "warehouse_id") -> catalog.Warehouse:
    wh = uow.get(WAREHOUSE, warehouse_id)
    if wh is None:
        raise UnknownWarehouseError(
            f"Warehouse {warehouse_id} does not exist", warehouse_id=warehouse_id, field=field_name
        )
    return wh


def _check_skus(uow: UnitOfWork, skus: Sequence[str]) -> None:
    unknown = [sku for sku in skus if uow.get(PRODUCT, sku) is None]
    if unknown:
        raise UnknownSkuError(f"Unknown SKU: {', '.join(unknown)}", sku=unknown[0], skus=unknown)


# --- inventory ---------------------------------------------------------------------------------


def _position(uow: UnitOfWork, sku: str, warehouse_id: str) -> inventory.Position:
    return uow.get(POSITION, position_key(sku, warehouse_id))


def _record_position(uow: UnitOfWork, sku: str, warehouse_id: str, events: list) -> inventory.Position:  # type: ignore[type-arg]
    return uow.record(POSITION, position_key(sku, warehouse_id), events)


def receive_stock(uow: UnitOfWork, receipt_id: str, warehouse_id: str, lines: Sequence[tuple[str, int]]) -> None:
    _warehouse(uow, warehouse_id)
    _check_skus(uow, [sku for sku, _ in lines])
    for sku, qty in lines:
        pos = _position(uow, sku, warehouse_id)
        _record_position(uow, sku, warehouse_id, inventory.receive(pos, receipt_id, qty))
    for sku in dict.fromkeys(sku for sku, _ in lines):
        fill_backorders(uow, sku)


def adjust_stock(
    uow: UnitOfWork, adjustment_id: str, warehouse_id: str, sku: str, qty_delta: int, reason: str
) -> inventory.Position:
    _warehouse(uow, warehouse_id)
    _product(uow, sku)
    pos = _position(uow, sku, warehouse_id)
    state = _record_position(uow, sku, warehouse_id, inventory.adjust(pos, adjustment_id, qty_delta, reason))
    if qty_delta > 0:
        fill_backorders(uow, sku)
        state = _position(uow, sku, warehouse_id)
    return state


def count_stock(uow: UnitOfWork, count_id: str, warehouse_id: str, sku: str, counted_qty: int) -> inventory.Position:
    _warehouse(uow, warehouse_id)
    _product(uow, sku)
    pos = _position(uow, sku, warehouse_id)
    state = _record_position(uow, sku, warehouse_id, inventory.count(pos, count_id, counted_qty))
    if counted_qty > pos.on_hand:
        fill_backorders(uow, sku)
        state = _position(uow, sku, warehouse_id)
    return state


def start_transfer(
    uow: UnitOfWork, transfer_id: str, from_wh: str, to_wh: str, sku: str, qty: int
) -> transfer.Transfer:
    if uow.get(TRANSFER, transfer_id) is not None:
        raise DuplicateIdError(f"Transfer {transfer_id} already exists", transfer_id=transfer_id)
    _warehouse(uow, from_wh, "from_warehouse_id")
    _warehouse(uow, to_wh, "to_warehouse_id")
    _product(uow, sku)
    state = uow.record(TRANSFER, transfer_id, transfer.initiate(transfer_id, sku, from_wh, to_wh, qty))
    source = _position(uow, sku, from_wh)
    _record_position(uow, sku, from_wh, inventory.dispatch_transfer(source, transfer_id, to_wh, qty))
    target = _position(uow, sku, to_wh)
    _record_position(uow, sku, to_wh, inventory.expect_transfer(target, transfer_id, from_wh, qty))
    assert state is not None
    return state


def receive_transfer(uow: UnitOfWork, transfer_id: str) -> transfer.Transfer:
    state = uow.get(TRANSFER, transfer_id)
    if state is None:
        raise NotFoundError(f"Transfer {transfer_id} does not exist", transfer_id=transfer_id)
    state = uow.record(TRANSFER, transfer_id, transfer.receive(state))
    assert state is not None
    target = _position(uow, state.sku, state.to_warehouse_id)
    _record_position(
        uow,
        state.sku,
        state.to_warehouse_id,
        inventory.arrive_transfer(target, transfer_id, state.from_warehouse_id, state.qty),
    )
    fill_backorders(uow, state.sku)
    return state


# --- orders ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineInput:
    line_id: str
    sku: str
    qty: int
    unit_price: Decimal | None


@dataclass(frozen=True)
class PlaceOrderInput:
    order_id: str
    customer_id: str
    channel: str
    warehouse_id: str | None
    allow_backorder: bool
    lines: tuple[OrderLineInput, ...]
    accepted_at: datetime


def _availability(uow: UnitOfWork, skus: Sequence[str], pin: str | None) -> dict[str, dict[str, int]]:
    warehouses = (pin,) if pin else uow.get(WAREHOUSE_INDEX, INDEX_KEY)
    return {sku: {wh: _position(uow, sku, wh).available for wh in warehouses} for sku in skus}


def _reserve_plan(uow: UnitOfWork, state: order.Order, events: list) -> None:  # type: ignore[type-arg]
    for event in events:
        if isinstance(event, order.OrderLinesAllocated):
            for a in event.allocations:
                pos = _position(uow, a.sku, a.warehouse_id)
                _record_position(uow, a.sku, a.warehouse_id, inventory.reserve(pos, state.order_id, a.line_id, a.qty))


def _queue_backorders(uow: UnitOfWork, state: order.Order) -> None:
    for line in state.lines:
        if line.backordered > 0:
            book = uow.get(BOOK, line.sku)
            queued = book.entries.get((state.order_id, line.line_id))
            missing = line.backordered - (queued.qty if queued else 0)
            uow.record(
                BOOK,
                line.sku,
                backorders.queue(book, state.order_id, line.line_id, state.warehouse_id, missing, state.accepted_at),
            )


def place_order(uow: UnitOfWork, cmd: PlaceOrderInput) -> order.Order:
    buyer = uow.get(CUSTOMER, cmd.customer_id)
    if buyer is None:
        raise UnknownCustomerError(f"Customer {cmd.customer_id} does not exist", customer_id=cmd.customer_id)
    if buyer.status == "blocked":
        raise CustomerBlockedError(f"Customer {cmd.customer_id} is blocked", customer_id=cmd.customer_id)
    _check_skus(uow, [ln.sku for ln in cmd.lines])
    skus = [ln.sku for ln in cmd.lines]
    if len(set(skus)) != len(skus):
        dup = next(s for s in skus if skus.count(s) > 1)
        raise InvalidRequestError(
            f"SKU {dup} appears on more than one line", errors=[{"field": "lines", "message": f"duplicate sku {dup}"}]
        )
    if cmd.warehouse_id is not None:
        _warehouse(uow, cmd.warehouse_id)
    if uow.get(ORDER, cmd.order_id) is not None:
        raise DuplicateIdError(f"Order {cmd.order_id} already exists", order_id=cmd.order_id)

    priced: list[order.OrderLineRequest] = []
    mismatches = []
    for ln in cmd.lines:
        expected = customer.price_for(buyer, ln.sku, _product(uow, ln.sku).unit_price)
        if ln.unit_price is not None and ln.unit_price != expected:
            mismatches.append(
                {
                    "line_id": ln.line_id,
                    "sku": ln.sku,
                    "sent": format_money(ln.unit_price),
                    "expected_unit_price": format_money(expected),
                }
            )
        priced.append(order.OrderLineRequest(ln.line_id, ln.sku, ln.qty, expected))
    if mismatches:
        first = mismatches[0]
        raise PriceMismatchError(
            f"Line {first['line_id']} ({first['sku']}): sent {first['sent']}, the price for customer "
            f"{cmd.customer_id} is {first['expected_unit_price']}",
            line_id=first["line_id"],
            sku=first["sku"],
            expected_unit_price=first["expected_unit_price"],
            lines=mismatches,
        )

    place = order.PlaceOrder(
        cmd.order_id,
        cmd.customer_id,
        cmd.channel,
        cmd.warehouse_id,
        cmd.allow_backorder,
        tuple(priced),
        cmd.accepted_at,
    )
    account = uow.get(ACCOUNT, cmd.customer_id)
    over = customer.is_over_limit(buyer, account, place.total)
    if not over:
        serve_the_queue_first(uow, skus)
    plan = (
        {}
        if over
        else allocation.plan_lines(
            [(ln.line_id, ln.sku, ln.qty) for ln in priced],
            _availability(uow, skus, cmd.warehouse_id),
            cmd.warehouse_id,
        )
    )
    events = order.place(
        place,
        over_credit=over,
        exposure=account.exposure if account else Decimal("0.00"),
        credit_limit=buyer.credit_limit,
        plan=plan,
    )
    state = uow.record(ORDER, cmd.order_id, events)
    assert state is not None
    _reserve_plan(uow, state, events)
    uow.record(
        ACCOUNT,
        cmd.customer_id,
        [customer.CreditCommitted(customer_id=cmd.customer_id, order_id=cmd.order_id, amount=place.total)],
    )
    if not over:
        _queue_backorders(uow, state)
    return state


def _order(uow: UnitOfWork, order_id: str) -> order.Order:
    state = uow.get(ORDER, order_id)
    if state is None:
        raise NotFoundError(f"Order {order_id} does not exist", order_id=order_id)
    return state


def release_hold(uow: UnitOfWork, order_id: str) -> order.Order:
    state = _order(uow, order_id)
    wanted = order.wanted_for_allocation(state)
    serve_the_queue_first(uow, [sku for _, sku, _ in wanted])
    plan = allocation.plan_lines(
        wanted, _availability(uow, [sku for _, sku, _ in wanted], state.warehouse_id), state.warehouse_id
    )
    events = order.release_hold(state, plan)
    state = uow.record(ORDER, order_id, events)
    assert state is not None
    _reserve_plan(uow, state, events)
    _queue_backorders(uow, state)
    return state


def cancel_order(uow: UnitOfWork, order_id: str, reason: str) -> tuple[order.Order, list[tuple[str, str]]]:
    """Returns the order and the (sku, warehouse) positions whose stock became free."""
    state = _order(uow, order_id)
    events = order.cancel(state, reason)
    freed: list[tuple[str, str]] = []
    for event in events:
        if isinstance(event, order.OrderCancelled):
            for cl in event.lines:
                for r in cl.released:
                    pos = _position(uow, r.sku, r.warehouse_id)
                    _record_position(
                        uow, r.sku, r.warehouse_id, inventory.release(pos, order_id, r.line_id, "order_cancelled")
                    )
                    freed.append((r.sku, r.warehouse_id))
                book = uow.get(BOOK, cl.sku)
                uow.record(BOOK, cl.sku, backorders.withdraw(book, order_id, cl.line_id, "order_cancelled"))
            uow.record(
                ACCOUNT,
                state.customer_id,
                [
                    customer.CreditReleased(
                        customer_id=state.customer_id, order_id=order_id, amount=event.amount, reason="order_cancelled"
                    )
                ],
            )
    new_state = uow.record(ORDER, order_id, events)
    assert new_state is not None
    serve_the_queue_first(uow, [sku for sku, _ in freed])
    return new_state, freed


def serve_the_queue_first(uow: UnitOfWork, skus: Sequence[str]) -> None:
    """Stock that older backorders are owed is theirs: fill them, in this same write, before
    anything else may take free stock of these SKUs (a command that frees stock, or a new order,
    never leaves free stock beside an open backorder that could take it, whatever the fill lag)."""
    for sku in dict.fromkeys(skus):
        fill_backorders(uow, sku)


def fill_backorders(uow: UnitOfWork, sku: str) -> int:
    """Give free stock of the SKU to waiting order lines, first accepted first. Returns units filled."""
    book = uow.get(BOOK, sku)
    if not book.entries:
        return 0
    warehouses = uow.get(WAREHOUSE_INDEX, INDEX_KEY)
    available = {wh: _position(uow, sku, wh).available for wh in warehouses}
    filled = 0
    for entry, wh, qty in backorders.plan_fill(book, available):
        state = uow.get(ORDER, entry.order_id)
        if state is None or state.cancelled or state.on_hold:
            uow.record(BOOK, sku, backorders.withdraw(uow.get(BOOK, sku), entry.order_id, entry.line_id, "not_open"))
            continue
        events = order.fill_backorder(state, entry.line_id, wh, qty)
        if not events:
            uow.record(BOOK, sku, backorders.withdraw(uow.get(BOOK, sku), entry.order_id, entry.line_id, "not_open"))
            continue
        take = events[0].allocations[0].qty  # type: ignore[attr-defined]
        uow.record(ORDER, entry.order_id, events)
        pos = _position(uow, sku, wh)
        _record_position(uow, sku, wh, inventory.reserve(pos, entry.order_id, entry.line_id, take))
        uow.record(BOOK, sku, backorders.fill(uow.get(BOOK, sku), entry, wh, take))
        filled += take
    return filled


# --- fulfilment --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShipInput:
    shipment_id: str
    order_id: str
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]
    carrier: str | None
    tracking: str | None
    freight: Decimal
    shipped_at: datetime


def ship(uow: UnitOfWork, cmd: ShipInput) -> shipment.Shipment:
    if uow.get(SHIPMENT, cmd.shipment_id) is not None:
        raise DuplicateIdError(f"Shipment {cmd.shipment_id} already exists", shipment_id=cmd.shipment_id)
    state = uow.get(ORDER, cmd.order_id)
    if state is None:
        raise UnknownOrderError(f"Order {cmd.order_id} does not exist", order_id=cmd.order_id)
    _warehouse(uow, cmd.warehouse_id)
    skus = [sku for sku, _ in cmd.lines]
    if len(set(skus)) != len(skus):
        raise InvalidRequestError(
            "A SKU appears on more than one shipment line", errors=[{"field": "lines", "message": "duplicate sku"}]
        )
    _check_skus(uow, skus)
    events = order.record_shipment(state, cmd.shipment_id, cmd.warehouse_id, list(cmd.lines))
    uow.record(ORDER, cmd.order_id, events)
    for shipped in events[0].lines:  # type: ignore[attr-defined]
        pos = _position(uow, shipped.sku, cmd.warehouse_id)
        _record_position(
            uow,
            shipped.sku,
            cmd.warehouse_id,
            inventory.ship(pos, cmd.shipment_id, cmd.order_id, shipped.line_id, shipped.qty),
        )
    result = uow.record(
        SHIPMENT,
        cmd.shipment_id,
        shipment.confirm(
            shipment_id=cmd.shipment_id,
            order_id=cmd.order_id,
            customer_id=state.customer_id,
            warehouse_id=cmd.warehouse_id,
            lines=list(cmd.lines),
            carrier=cmd.carrier,
            tracking=cmd.tracking,
            freight=cmd.freight,
            shipped_at=cmd.shipped_at,
        ),
    )
    assert result is not None
    return result


def deliver(uow: UnitOfWork, shipment_id: str, delivered_at: datetime, signed_by: str | None) -> shipment.Shipment:
    state = uow.get(SHIPMENT, shipment_id)
    if state is None:
        raise NotFoundError(f"Shipment {shipment_id} does not exist", shipment_id=shipment_id)
    events = shipment.deliver(state, delivered_at, signed_by)
    result = uow.record(SHIPMENT, shipment_id, events)
    if events:
        the_order = _order(uow, state.order_id)
        uow.record(ORDER, state.order_id, order.record_delivery(the_order, shipment_id, delivered_at))
    assert result is not None
    return result
