"""Tax arithmetic: rounded half-up to the cent once per document; rates kept to RATE_PLACES."""

from __future__ import annotations

from decimal import Decimal, Inexact

from domain.values import CENT, MONEY, ZERO, add, quantize, times

RATE_PLACES = Decimal("0.0000000001")
_RATE_DIVISION = MONEY.copy()  # a quotient is rarely exact: rounded far below RATE_PLACES, then to them
_RATE_DIVISION.traps[Inexact] = False


def round_tax(amount: Decimal) -> Decimal:
    """Tax is rounded half-up to the cent, once per document (exactly, at any size)."""
    return quantize(amount, CENT)


def tax_from_rate(subtotal: Decimal, freight: Decimal, rate: Decimal) -> Decimal:
    return round_tax(times(add(subtotal, freight), rate))


def effective_rate(tax: Decimal, subtotal: Decimal, freight: Decimal) -> Decimal:
    """The rate an outside engine applied, kept to tax credit notes alike."""
    base = add(subtotal, freight)
    return quantize(_RATE_DIVISION.divide(tax, base), RATE_PLACES) if base else ZERO
