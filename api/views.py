"""What the API answers: aggregate state turned into the resources of API.md (api/resources.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

import msgspec

from api import resources as r
from domain import catalog, customer, expected, inventory, invoice, order, payment, price_list, shipment, transfer
from domain.values import format_money, format_timestamp

R = TypeVar("R", bound=r.Resource)


def ts(value: datetime | None) -> str | None:
    return format_timestamp(value) if value else None


def extended(kind: type[R], base: r.Resource, **more: Any) -> R:
    """`base` as `kind`, a Struct that adds the fields `more` to base's (e.g. `position`)."""
    return kind(**msgspec.structs.asdict(base), **more)


def product_view(p: catalog.Product, currency: str) -> r.Product:
    return r.Product(
        p.sku, p.name, format_money(p.unit_price), p.uom, currency, [r.ProductUnit(u.uom, u.factor) for u in p.units]
    )


def warehouse_view(w: catalog.Warehouse) -> r.Warehouse:
    return r.Warehouse(w.warehouse_id, w.name)


def customer_view(c: customer.Customer, currency: str) -> r.Customer:
    return r.Customer(
        customer_id=c.customer_id,
        name=c.name,
        credit_limit=format_money(c.credit_limit),
        tax_region=c.tax_region,
        status=c.status,
        currency=currency,
        contract_prices=[r.CustomerPrice(sku, format_money(p)) for sku, p in sorted(c.prices.items())],
        price_list_id=c.price_list_id,
        payment_terms_id=c.payment_terms_id,
    )


def price_list_view(pl: price_list.PriceList, currency: str) -> r.PriceList:
    items = [
        r.PriceListItem(i.sku, format_money(i.unit_price), i.min_qty, day(i.valid_from), day(i.valid_to))
        for i in pl.items
    ]
    return r.PriceList(pl.price_list_id, pl.name, currency, items)


def price_view(c: customer.Customer, sku: str, currency: str) -> r.ContractPrice:
    return r.ContractPrice(c.customer_id, sku, format_money(c.prices[sku]), currency)


def day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def ship_to_view(s: order.ShipTo | None) -> r.ShipTo | None:
    if s is None:
        return None
    return r.ShipTo(s.name, list(s.address), s.city, s.region, s.postal_code, s.country, s.gln)


def order_view(o: order.Order, currency: str) -> r.Order:
    return r.Order(
        order_id=o.order_id,
        customer_id=o.customer_id,
        channel=o.channel,
        warehouse_id=o.warehouse_id,
        allow_backorder=o.allow_backorder,
        status=o.status,
        currency=currency,
        total=format_money(o.total),
        accepted_at=format_timestamp(o.accepted_at),
        customer_po=o.customer_po,
        requested_date=day(o.requested_date),
        ship_to=ship_to_view(o.ship_to),
        lines=[
            r.OrderLine(
                line_id=ln.line_id,
                sku=ln.sku,
                qty=ln.qty,
                unit_price=format_money(ln.unit_price),
                amount=format_money(ln.amount),
                allocated=ln.allocated,
                backordered=ln.backordered,
                shipped=ln.shipped,
                delivered=ln.delivered,
                invoiced=ln.invoiced,
                returned=ln.returned,
                cancelled=ln.cancelled,
                allocations=[r.Allocation(wh, q) for wh, q in sorted(ln.allocations.items())],
                requested_date=day(ln.requested_date),
                customer_line_ref=ln.customer_line_ref,
                promised_date=day(ln.promised_date),
                ordered_uom=ln.ordered_uom,
                ordered_qty=ln.ordered_qty,
                price_source=ln.price_source,
            )
            for ln in o.lines
        ],
    )


def shipment_view(s: shipment.Shipment, currency: str, invoice_id: str | None = None) -> r.Shipment:
    return r.Shipment(
        shipment_id=s.shipment_id,
        order_id=s.order_id,
        warehouse_id=s.warehouse_id,
        lines=[r.SkuQty(ln.sku, ln.qty) for ln in s.lines],
        carrier=s.carrier,
        tracking=s.tracking,
        freight=format_money(s.freight),
        currency=currency,
        shipped_at=format_timestamp(s.shipped_at),
        delivered_at=ts(s.delivered_at),
        signed_by=s.signed_by,
        invoice_id=invoice_id,
    )


def transfer_view(t: transfer.Transfer) -> r.Transfer:
    status = "received" if t.received else "in_transit"
    return r.Transfer(t.transfer_id, t.sku, t.from_warehouse_id, t.to_warehouse_id, t.qty, status, day(t.expected_on))


def expected_view(e: expected.ExpectedReceipt) -> r.ExpectedReceipt:
    return r.ExpectedReceipt(
        e.expected_id,
        e.warehouse_id,
        e.sku,
        e.qty,
        e.received,
        e.open,
        e.expected_on.isoformat(),
        e.reference,
        e.status,
    )


def _stock(p: inventory.Position) -> dict[str, Any]:
    return {
        "sku": p.sku,
        "warehouse_id": p.warehouse_id,
        "on_hand": p.on_hand,
        "reserved": p.reserved,
        "available": p.available,
        "in_transit": p.in_transit,
    }


def adjustment_view(adjustment_id: str, qty_delta: int, reason: str, p: inventory.Position) -> r.Adjustment:
    return r.Adjustment(adjustment_id, qty_delta, reason, **_stock(p))


def count_view(count_id: str, counted_qty: int, qty_delta: int, p: inventory.Position) -> r.Count:
    return r.Count(count_id, counted_qty, qty_delta, **_stock(p))


def _money(value: Any) -> str | None:
    return None if value is None else format_money(value)


def invoice_view(inv: invoice.Invoice, currency: str) -> r.Invoice:
    return r.Invoice(
        invoice_id=inv.invoice_id,
        kind=inv.kind,
        number=msgspec.UNSET if inv.number is None else inv.number,  # left out until issued
        order_id=inv.order_id,
        shipment_id=inv.shipment_id,
        return_id=inv.return_id,
        customer_id=inv.customer_id,
        status=inv.status,
        currency=currency,
        lines=[r.InvoiceLine(ln.sku, ln.qty, format_money(ln.unit_price), format_money(ln.amount)) for ln in inv.lines],
        freight=format_money(inv.freight),
        subtotal=format_money(inv.subtotal),
        tax=_money(inv.tax),
        total=_money(inv.total),
        paid=format_money(inv.paid),
        credited=format_money(inv.credited),
        balance=format_money(inv.balance),
        tax_attempts=inv.attempts,
        last_tax_error=inv.last_error,
        issued_on=_day(inv.issued_on),
        due_date=_day(inv.due_date),
        discount_until=_day(inv.discount_until),
        discount_amount=_money(inv.discount_amount),
        discount_taken=format_money(inv.discount_taken),
    )


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def payment_view(p: payment.PaymentReceived, currency: str) -> r.Payment:
    return r.Payment(
        payment_id=p.payment_id,
        customer_id=p.customer_id,
        amount=format_money(p.amount),
        currency=currency,
        applied=[r.Applied(a.invoice_id, format_money(a.amount)) for a in p.applied],
        unapplied=format_money(p.unapplied),
        received_on=_day(p.received_on),
    )
