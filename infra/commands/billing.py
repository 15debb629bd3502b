"""Billing commands: open an invoice for a shipment, take proof of delivery, record tax attempts,
issue with a gap-free number, dead-letter and retry, credit returns, apply payments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import msgspec

from domain import credit_notes, customer, inventory, invoice, order, payment, terms
from domain.errors import NotFoundError, NotInvoicedError, UnknownOrderError
from domain.values import ZERO, subtract
from infra.commands.backorders import serve_the_queue_first
from infra.commands.lookups import record_position, require_order, require_warehouse
from infra.ledger.kinds import ACCOUNT, CUSTOMER, INVOICE, ORDER, PAYMENT, SEQUENCE, SHIPMENT, TERMS
from infra.ledger.unitofwork import UnitOfWork

INVOICE_NUMBERS = "invoices"
CREDIT_NOTE_NUMBERS = "credit-notes"


def invoice_id_for(shipment_id: str) -> str:
    return f"INV-{shipment_id}"


def open_invoice(uow: UnitOfWork, shipment_id: str, needs_proof: bool) -> invoice.Invoice | None:
    """Start billing a shipment (idempotent: the invoice id is derived from the shipment id)."""
    inv_id = invoice_id_for(shipment_id)
    existing = uow.get(INVOICE, inv_id)
    if existing is not None:
        return existing
    shp = uow.get(SHIPMENT, shipment_id)
    if shp is None:
        return None
    the_order = require_order(uow, shp.order_id)
    buyer = uow.get(CUSTOMER, shp.customer_id)
    events = invoice.open_for_shipment(inv_id, the_order, shp, buyer, needs_proof=needs_proof)
    return uow.record(INVOICE, inv_id, events)


def receive_proof(uow: UnitOfWork, shipment_id: str, delivered_at: datetime) -> None:
    inv = open_invoice(uow, shipment_id, needs_proof=True)
    if inv is not None:
        uow.record(INVOICE, inv.invoice_id, invoice.receive_proof(inv, delivered_at))


def _invoice(uow: UnitOfWork, invoice_id: str) -> invoice.Invoice:
    inv = uow.get(INVOICE, invoice_id)
    if inv is None:
        raise NotFoundError(f"Invoice {invoice_id} does not exist", invoice_id=invoice_id)
    return inv


def terms_of(uow: UnitOfWork, customer_id: str) -> terms.PaymentTerms | None:
    """The payment terms the customer has now (None: due on issue)."""
    buyer = uow.get(CUSTOMER, customer_id)
    if buyer is None or buyer.payment_terms_id is None:
        return None
    return uow.get(TERMS, buyer.payment_terms_id)


def issue_invoice(
    uow: UnitOfWork, invoice_id: str, tax: Decimal, rate: Decimal, attempt: int, issued_on: date | None = None
) -> invoice.Invoice:
    """Tax is known: take the next number and issue, in one write with the receivable booking; the
    due date and discount come from the customer's terms in force now."""
    inv = _invoice(uow, invoice_id)
    if not invoice.awaits_tax(inv):
        return inv
    number, numbered = invoice.next_number(uow.get(SEQUENCE, INVOICE_NUMBERS), INVOICE_NUMBERS, invoice_id)
    uow.record(SEQUENCE, INVOICE_NUMBERS, numbered)
    in_force = terms_of(uow, inv.customer_id) if issued_on is not None else None
    events = invoice.issue(
        inv, number=number, tax=tax, tax_rate=rate, attempt=attempt, issued_on=issued_on, terms=in_force
    )
    issued = uow.record(INVOICE, invoice_id, events)
    assert issued is not None and issued.total is not None
    the_order = require_order(uow, inv.order_id)
    assert inv.shipment_id is not None
    uow.record(ORDER, inv.order_id, order.invoice_lines(the_order, invoice_id, inv.shipment_id))
    uow.record(
        ACCOUNT,
        inv.customer_id,
        [
            customer.ReceivableBooked(
                customer_id=inv.customer_id,
                invoice_id=invoice_id,
                unbilled=inv.subtotal,
                amount=issued.total,
                due_date=issued.due_date,
            )
        ],
    )
    return issued


def fail_tax(
    uow: UnitOfWork, invoice_id: str, attempt: int, error: str, next_attempt_at: datetime, max_attempts: int
) -> invoice.Invoice:
    inv = _invoice(uow, invoice_id)
    result = uow.record(INVOICE, invoice_id, invoice.fail_tax(inv, attempt, error, next_attempt_at, max_attempts))
    assert result is not None
    return result


def retry_dead_letter(uow: UnitOfWork, invoice_id: str) -> invoice.Invoice:
    inv = _invoice(uow, invoice_id)
    result = uow.record(INVOICE, invoice_id, invoice.request_retry(inv))
    assert result is not None
    return result


# --- returns -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnInput:
    return_id: str
    order_id: str
    warehouse_id: str
    lines: tuple[tuple[str, int], ...]
    restock: bool
    returned_on: date | None = None  # the service's day: the credit note's issue (and due) date


def record_return(uow: UnitOfWork, cmd: ReturnInput) -> invoice.Invoice:
    """Goods come back: the order records it, stock is restocked if asked, and a credit note
    `CN-<return_id>` is issued at once, taxed at the rate of the invoices it credits. The note goes to
    the invoices the units were billed on, up to their balances; the rest is unapplied credit."""
    the_order = uow.get(ORDER, cmd.order_id)
    if the_order is None:
        raise UnknownOrderError(f"Order {cmd.order_id} does not exist", order_id=cmd.order_id)
    require_warehouse(uow, cmd.warehouse_id)
    planned = order.plan_return(the_order, list(cmd.lines))
    originals: dict[str, invoice.Invoice] = {}
    for rl in planned:
        inv = uow.get(INVOICE, invoice_id_for(rl.shipment_id))
        if inv is None or not inv.issued:
            raise NotInvoicedError(
                f"Shipment {rl.shipment_id}'s invoice is not issued yet; return after it is",
                shipment_id=rl.shipment_id,
            )
        originals[inv.invoice_id] = inv
    uow.record(
        ORDER, cmd.order_id, order.record_return(the_order, cmd.return_id, cmd.warehouse_id, cmd.restock, planned)
    )
    if cmd.restock:
        for sku, qty in cmd.lines:
            restocked = inventory.StockRestocked(
                sku=sku, warehouse_id=cmd.warehouse_id, return_id=cmd.return_id, order_id=cmd.order_id, qty=qty
            )
            record_position(uow, sku, cmd.warehouse_id, [restocked])
        serve_the_queue_first(uow, [sku for sku, _ in cmd.lines])  # restocked units go to older backorders

    cn_id = f"CN-{cmd.return_id}"
    items = [
        credit_notes.ReturnedItem(
            sku=rl.sku,
            line_id=rl.line_id,
            qty=rl.qty,
            unit_price=the_order.line(rl.line_id).unit_price,
            original=originals[invoice_id_for(rl.shipment_id)],
        )
        for rl in planned
    ]
    number, numbered = invoice.next_number(uow.get(SEQUENCE, CREDIT_NOTE_NUMBERS), CREDIT_NOTE_NUMBERS, cn_id)
    uow.record(SEQUENCE, CREDIT_NOTE_NUMBERS, numbered)
    issued = credit_notes.credit_note(cn_id, cmd.return_id, cmd.order_id, the_order.customer_id, number, items)
    issued = msgspec.structs.replace(issued, issued_on=cmd.returned_on)
    note = uow.record(INVOICE, cn_id, [issued])
    for inv_id, amount in issued.applies_to.items():
        uow.record(INVOICE, inv_id, invoice.credit(originals[inv_id], cn_id, amount))
    booked = customer.CreditNoteBooked(
        customer_id=the_order.customer_id,
        credit_note_id=cn_id,
        amount=issued.total,
        unapplied=issued.unapplied,
        applies_to=dict(issued.applies_to),
    )
    uow.record(ACCOUNT, the_order.customer_id, [booked])
    assert note is not None
    return note


# --- payments ----------------------------------------------------------------------------------


def open_invoices(uow: UnitOfWork, ids: Sequence[str], on: date | None = None) -> list[payment.OpenInvoice]:
    """The open invoices among `ids`, with the discount a payment dated `on` may still take."""
    out = []
    for inv_id in ids:
        inv = uow.get(INVOICE, inv_id)
        if inv is not None and inv.issued and inv.kind == "invoice" and inv.balance > ZERO:
            assert inv.number is not None
            discount = (
                payment.discount_open(inv.balance, inv.discount_amount, inv.discount_until, on)
                if on is not None
                else ZERO
            )
            out.append(payment.OpenInvoice(inv_id, inv.number, inv.balance, inv.due_date, discount))
    return out


def settle(
    uow: UnitOfWork,
    customer_id: str,
    source_id: str,
    on: date | None,
    opened: Sequence[payment.OpenInvoice],
    applied: Sequence[payment.Allocation],
) -> list[customer.DiscountBooked]:
    """Record what `applied` puts on each invoice, and the discount of each it settles in its window."""
    taken = payment.discounts(opened, applied) if on is not None else {}
    booked = []
    for alloc in applied:
        inv = uow.get(INVOICE, alloc.invoice_id)
        assert inv is not None
        inv = uow.record(INVOICE, alloc.invoice_id, invoice.apply_payment(inv, source_id, alloc.amount))
        if alloc.invoice_id in taken and inv is not None and on is not None:
            amount = taken[alloc.invoice_id]
            uow.record(INVOICE, alloc.invoice_id, invoice.take_discount(inv, source_id, amount, on))
            booked.append(
                customer.DiscountBooked(
                    customer_id=customer_id, invoice_id=alloc.invoice_id, payment_id=source_id, amount=amount
                )
            )
    return booked


def receive_payment(
    uow: UnitOfWork,
    payment_id: str,
    customer_id: str,
    amount: Decimal,
    requested: list[payment.Allocation] | None,
    received_on: date | None = None,
) -> payment.PaymentReceived:
    """Apply cash to the customer's issued invoices (listed on its account stream, so an invoice
    issued a moment ago is never missed), with balances read from the invoice streams."""
    customer.ensure_exists(uow.get(CUSTOMER, customer_id), customer_id)
    account = uow.get(ACCOUNT, customer_id)
    issued = list(account.invoices) if account else []
    ids = issued + [a.invoice_id for a in requested or [] if a.invoice_id not in issued]
    owned = [i for i in ids if (inv := uow.get(INVOICE, i)) is not None and inv.customer_id == customer_id]
    opened = open_invoices(uow, owned, received_on)
    applied = payment.allocate_payment(amount, opened, requested)
    events = payment.receive_payment(payment_id, customer_id, amount, applied, received_on)
    received = uow.record(PAYMENT, payment_id, events)
    discounts = settle(uow, customer_id, payment_id, received_on, opened, applied)
    booked = events[0]
    assert isinstance(booked, payment.PaymentReceived) and received is not None
    uow.record(
        ACCOUNT,
        customer_id,
        [
            customer.PaymentBooked(
                customer_id=customer_id,
                payment_id=payment_id,
                applied=subtract(amount, booked.unapplied),
                unapplied=booked.unapplied,
                allocations=list(applied),
            ),
            *discounts,
        ],
    )
    return received
