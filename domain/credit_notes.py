"""Credit notes for returns: negative amounts taxed at the original invoices' rates, applied to the
invoices the returned units were billed on up to their balances; the rest is unapplied credit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from domain.invoice import CreditNoteIssued, Invoice, InvoiceLine, round_tax
from domain.values import MONEY, ZERO, add, line_amount, money, subtract, sum_money, times


@dataclass(frozen=True)
class ReturnedItem:
    """One returned order line as its credit note sees it: quantity, price, and the invoice it credits."""

    sku: str
    line_id: str
    qty: int
    unit_price: Decimal
    original: Invoice


def credit_note(
    credit_note_id: str, return_id: str, order_id: str, customer_id: str, number: int, items: list[ReturnedItem]
) -> CreditNoteIssued:
    """The credit note for a return: negative amounts, tax at each original invoice's rate (rounded
    once), applied to the originals (see `credit_originals`); what they cannot take is unapplied."""
    lines: list[InvoiceLine] = []
    taxes: list[Decimal] = []
    shares: dict[str, Decimal] = {}  # original invoice id -> its returned lines with their tax, unrounded
    originals: dict[str, Invoice] = {}
    for item in items:
        amount = line_amount(item.qty, item.unit_price)
        tax = times(amount, item.original.tax_rate or ZERO)
        lines.append(
            InvoiceLine(
                sku=item.sku, qty=item.qty, unit_price=item.unit_price, amount=MONEY.minus(amount), line_id=item.line_id
            )
        )
        taxes.append(tax)
        inv_id = item.original.invoice_id
        originals[inv_id] = item.original
        shares[inv_id] = add(shares.get(inv_id, ZERO), amount, tax)
    subtotal = sum_money(ln.amount for ln in lines)
    tax = MONEY.minus(round_tax(sum_money(taxes)))
    total = add(subtotal, tax)
    applies = credit_originals(MONEY.minus(total), shares, {i: inv.balance for i, inv in originals.items()})
    return CreditNoteIssued(
        invoice_id=credit_note_id,
        return_id=return_id,
        order_id=order_id,
        customer_id=customer_id,
        number=number,
        lines=lines,
        subtotal=subtotal,
        tax=tax,
        total=total,
        applies_to=applies,
        unapplied=subtract(MONEY.minus(total), sum_money(applies.values())),
    )


def credit_originals(credit: Decimal, shares: dict[str, Decimal], balances: dict[str, Decimal]) -> dict[str, Decimal]:
    """How much of `credit` each original invoice takes. Each takes its share (to the cent; the last
    takes the rounding) up to its balance; what a share cannot fit goes to the other originals that
    still have a balance, in order. The rest, if any, is the customer's unapplied credit."""
    rest = credit
    applied: dict[str, Decimal] = {}
    ids = list(shares)
    for n, inv_id in enumerate(ids):
        share = rest if n == len(ids) - 1 else min(money(shares[inv_id]), rest)
        applied[inv_id] = max(ZERO, min(share, balances[inv_id]))
        rest = subtract(rest, share)
    over = subtract(credit, sum_money(applied.values()))
    for inv_id in ids:
        take = min(over, subtract(balances[inv_id], applied[inv_id]))
        if take > ZERO:
            applied[inv_id] = add(applied[inv_id], take)
            over = subtract(over, take)
    return {inv_id: amount for inv_id, amount in applied.items() if amount > ZERO}
