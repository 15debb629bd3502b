"""Value rules shared by every aggregate: identifiers, quantities and money."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
MONEY_PATTERN = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,2})?")  # ASCII digits; used with fullmatch
MAX_QTY = 1_000_000_000
MAX_LINES = 500
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def is_valid_id(value: str) -> bool:
    return bool(ID_PATTERN.fullmatch(value))


def parse_money(text: str) -> Decimal:
    """Parse a wire money string; raises ValueError when it is not a 2-place decimal."""
    if not isinstance(text, str) or not MONEY_PATTERN.fullmatch(text):
        raise ValueError("money must be a string with at most 2 decimal places, e.g. '12.50'")
    try:
        return Decimal(text).quantize(CENT)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes this
        raise ValueError(str(exc)) from exc


def money(value: Decimal | int | str) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(value: Decimal) -> str:
    return str(money(value))


def line_amount(qty: int, unit_price: Decimal) -> Decimal:
    return money(unit_price * qty)
