"""What the API answers: aggregate state turned into the JSON shapes of API.md."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain import catalog, customer, inventory, invoice, order, payment, shipment, transfer
from domain.values import format_money, format_timestamp


def ts(value: datetime | None) -> str | None:
    return format_timestamp(value) if value else None


def product_view(p: catalog.Product, currency: str) -> dict[str, Any]:
    return {"sku": p.sku, "name": p.name, "unit_price": format_money(p.unit_price), "uom": p.uom, "currency": currency}


def warehouse_view(w: catalog.Warehouse) -> dict[str, Any]:
    return {"warehouse_id": w.warehouse_id, "name": w.name}


def customer_view(c: customer.Customer, currency: str) -> dict[str, Any]:
    return {
        "customer_id": c.customer_id,
        "name": c.name,
        "credit_limit": format_money(c.credit_limit),
        "tax_region": c.tax_region,
        "status": c.status,
        "currency": currency,
        "contract_prices": [{"sku": sku, "unit_price": format_money(p)} for sku, p in sorted(c.prices.items())],
    }


def price_view(c: customer.Customer, sku: str, currency: str) -> dict[str, Any]:
    return {"customer_id": c.customer_id, "sku": sku, "unit_price": format_money(c.prices[sku]), "currency": currency}


def ship_to_view(s: order.ShipTo | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "name": s.name,
        "address": list(s.address),
        "city": s.city,
        "region": s.region,
        "postal_code": s.postal_code,
        "country": s.country,
        "gln": s.gln,
    }


def order_view(o: order.Order, currency: str) -> dict[str, Any]:
    return {
        "order_id": o.order_id,
        "customer_id": o.customer_id,
        "channel": o.channel,
        "warehouse_id": o.warehouse_id,
        "allow_backorder": o.allow_backorder,
        "status": o.status,
        "currency": currency,
        "total": format_money(o.total),
        "accepted_at": ts(o.accepted_at),
        "customer_po": o.customer_po,
        "requested_date": o.requested_date.isoformat() if o.requested_date else None,
        "ship_to": ship_to_view(o.ship_to),
        "lines": [
            {
                "line_id": ln.line_id,
                "sku": ln.sku,
                "qty": ln.qty,
                "unit_price": format_money(ln.unit_price),
                "amount": format_money(ln.amount),
                "allocated": ln.allocated,
                "backordered": ln.backordered,
                "shipped": ln.shipped,
                "delivered": ln.delivered,
                "invoiced": ln.invoiced,
                "returned": ln.returned,
                "cancelled": ln.cancelled,
                "allocations": [{"warehouse_id": wh, "qty": q} for wh, q in sorted(ln.allocations.items())],
                "requested_date": ln.requested_date.isoformat() if ln.requested_date else None,
                "customer_line_ref": ln.customer_line_ref,
            }
            for ln in o.lines
        ],
    }


def shipment_view(s: shipment.Shipment, currency: str, invoice_id: str | None = None) -> dict[str, Any]:
    return {
        "shipment_id": s.shipment_id,
        "order_id": s.order_id,
        "warehouse_id": s.warehouse_id,
        "lines": [{"sku": ln.sku, "qty": ln.qty} for ln in s.lines],
        "carrier": s.carrier,
        "tracking": s.tracking,
        "freight": format_money(s.freight),
        "currency": currency,
        "shipped_at": ts(s.shipped_at),
        "delivered_at": ts(s.delivered_at),
        "signed_by": s.signed_by,
        "invoice_id": invoice_id,
    }


def transfer_view(t: transfer.Transfer) -> dict[str, Any]:
    return {
        "transfer_id": t.transfer_id,
        "sku": t.sku,
        "from_warehouse_id": t.from_warehouse_id,
        "to_warehouse_id": t.to_warehouse_id,
        "qty": t.qty,
        "status": "received" if t.received else "in_transit",
    }


def position_view(p: inventory.Position) -> dict[str, Any]:
    return {
        "sku": p.sku,
        "warehouse_id": p.warehouse_id,
        "on_hand": p.on_hand,
        "reserved": p.reserved,
        "available": p.available,
        "in_transit": p.in_transit,
    }


def _money(value: Any) -> str | None:
    return None if value is None else format_money(value)


def invoice_view(inv: invoice.Invoice, currency: str) -> dict[str, Any]:
    view: dict[str, Any] = {"invoice_id": inv.invoice_id, "kind": inv.kind}
    if inv.number is not None:
        view["number"] = inv.number
    view.update(
        {
            "order_id": inv.order_id,
            "shipment_id": inv.shipment_id,
            "return_id": inv.return_id,
            "customer_id": inv.customer_id,
            "status": inv.status,
            "currency": currency,
            "lines": [
                {
                    "sku": ln.sku,
                    "qty": ln.qty,
                    "unit_price": format_money(ln.unit_price),
                    "amount": format_money(ln.amount),
                }
                for ln in inv.lines
            ],
            "freight": format_money(inv.freight),
            "subtotal": format_money(inv.subtotal),
            "tax": _money(inv.tax),
            "total": _money(inv.total),
            "paid": format_money(inv.paid),
            "credited": format_money(inv.credited),
            "balance": format_money(inv.balance),
            "tax_attempts": inv.attempts,
            "last_tax_error": inv.last_error,
        }
    )
    return view


def payment_view(p: payment.PaymentReceived, currency: str) -> dict[str, Any]:
    return {
        "payment_id": p.payment_id,
        "customer_id": p.customer_id,
        "amount": format_money(p.amount),
        "currency": currency,
        "applied": [{"invoice_id": a.invoice_id, "amount": format_money(a.amount)} for a in p.applied],
        "unapplied": format_money(p.unapplied),
    }
