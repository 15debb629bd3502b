"""Value rules shared by every aggregate: identifiers, quantities and money.

Money is exact at every size the limits allow (API.md, "Corrections to the first edition"): one line
is at most 1e9 x 999,999,999,999.99 (23 digits), an order 500 such lines (26 digits), and sums run
over any number of orders and invoices. Decimal's default context keeps 28 significant digits per
thread and rounds silently past them, so money arithmetic goes through `MONEY` (exact or an error,
never rounded) and `money()` (half-up to the cent, at any size). `MONEY_DIGITS` is far beyond any
sum a log can hold (2^63 events of 26 digits need 45); importing this module also raises the
default context of every thread to it, for arithmetic written with plain operators.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation

ID_CHARS = "[A-Za-z0-9._:-]"  # the characters of every identifier: the one place they are written


def id_pattern(max_length: int) -> str:
    """The anchored regex of an identifier of 1 to `max_length` characters (as Litestar, msgspec and the
    OpenAPI document take it)."""
    return rf"\A{ID_CHARS}{{1,{max_length}}}\Z"


ID_PATTERN = id_pattern(64)  # an identifier: customers, products, warehouses, orders, keys, ...
DOC_ID_PATTERN = id_pattern(80)  # a document (invoice, credit note, dead letter): a shipment's id and a prefix
_ID = re.compile(ID_PATTERN)
MONEY_PATTERN = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")  # ASCII digits; used with fullmatch
AMOUNT_PATTERN = re.compile(r"-?[0-9]{1,100}(\.[0-9]{1,2})?")  # a computed amount of any size
MAX_QTY = 1_000_000_000
MAX_LINES = 500
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MONEY_DIGITS = 100
_TRAPS = [InvalidOperation, decimal.DivisionByZero, decimal.Overflow]
MONEY = Context(prec=MONEY_DIGITS, rounding=ROUND_HALF_UP, traps=[*_TRAPS, Inexact])  # sums and products
_ROUNDING = Context(prec=MONEY_DIGITS, rounding=ROUND_HALF_UP, traps=_TRAPS)  # half-up to a place


def use_exact_money_defaults() -> None:
    """Raise Decimal's default precision (which every thread copies when it first uses decimal)
    and this thread's own, so plain `+`, `-` and `*` on money never round in any thread."""
    for context in (decimal.DefaultContext, decimal.getcontext()):
        context.prec = max(context.prec, MONEY_DIGITS)


use_exact_money_defaults()


def is_valid_id(value: str) -> bool:
    return bool(_ID.fullmatch(value))


def format_timestamp(value: datetime) -> str:
    """An aware UTC time as answers write it: ISO 8601 with `Z` for +00:00."""
    return value.isoformat().replace("+00:00", "Z")


def parse_money(text: str) -> Decimal:
    """Parse a wire money string; raises ValueError when it is not a 2-place decimal."""
    if not isinstance(text, str) or not MONEY_PATTERN.fullmatch(text):
        raise ValueError("money must be a string with at most 2 decimal places, e.g. '12.50'")
    return money(Decimal(text))


def parse_amount(text: str) -> Decimal:
    """Parse a computed amount (a tax engine's answer): 2 places at most, but of any size."""
    if not isinstance(text, str) or not AMOUNT_PATTERN.fullmatch(text):
        raise ValueError("an amount must be a string with at most 2 decimal places, e.g. '12.50'")
    return money(Decimal(text))


def quantize(value: Decimal, places: Decimal) -> Decimal:
    """`value` rounded half-up to `places` (CENT, or a rate's places): exact at any size, never raises
    for a finite value (ValueError for NaN or infinity, which are no amount)."""
    if not value.is_finite():
        raise ValueError(f"{value} is not an amount")
    try:  # any amount a log holds fits MONEY_DIGITS: one call
        return value.quantize(places, context=_ROUNDING)
    except InvalidOperation:  # more digits than that: a context as wide as the rounded coefficient
        digits = value.adjusted() - places.adjusted() + 2  # a carry included
        return value.quantize(places, context=Context(prec=digits, rounding=ROUND_HALF_UP, traps=_TRAPS))


def money(value: Decimal | int | str) -> Decimal:
    """An amount to the cent, half-up."""
    return quantize(value if isinstance(value, Decimal) else Decimal(value), CENT)


def format_money(value: Decimal) -> str:
    return str(money(value))


def add(*amounts: Decimal) -> Decimal:
    """The exact sum of these amounts."""
    return sum_money(amounts)


def sum_money(amounts: Iterable[Decimal]) -> Decimal:
    """The exact sum of any number of amounts (0.00 for none)."""
    total = ZERO
    for amount in amounts:
        total = MONEY.add(total, amount)
    return total


def subtract(a: Decimal, b: Decimal) -> Decimal:
    return MONEY.subtract(a, b)


def times(amount: Decimal, factor: Decimal | int) -> Decimal:
    """The exact product of an amount and a quantity or rate (not yet rounded to the cent)."""
    return MONEY.multiply(amount, Decimal(factor))


def line_amount(qty: int, unit_price: Decimal) -> Decimal:
    return money(times(unit_price, qty))
