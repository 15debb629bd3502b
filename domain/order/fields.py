"""The buyer's own references on an order (API.md "Order header and line fields"): the purchase-order
number, requested dates, where it ships to, and the buyer's line numbers. All optional; each rule
here answers a list of `{field, message}` so one 422 `invalid_request` names every bad field.

The GLN's check digit is validated (GS1 General Specifications, mod-10 with weights 3 and 1): every
GLN GS1 issues carries a correct one, EDI partners check it, and a wrong one is almost always a typo
that would route goods to the wrong dock. A 13-digit number with a bad check digit is refused.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import msgspec

from domain.countries import is_country_code
from domain.errors import InvalidRequestError

CUSTOMER_PO_MAX = 64
LINE_REF_MAX = 20
TEXT_MAX = 200  # a name, an address line, a city or a region
POSTAL_CODE_MAX = 20
ADDRESS_LINES_MAX = 3
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_GLN = re.compile(r"[0-9]{13}")  # ASCII digits only: str.isdigit() would take other scripts' digits

FieldError = dict[str, str]


class ShipTo(msgspec.Struct, frozen=True, kw_only=True):
    """Where the goods go: a delivery address, optionally with its GS1 Global Location Number."""

    name: str
    address: tuple[str, ...]  # 1-3 lines
    city: str
    postal_code: str
    country: str  # ISO 3166-1 alpha-2, capitals
    region: str | None = None
    gln: str | None = None  # 13 digits, GS1 check digit


def gln_check_digit(first_twelve: str) -> int:
    """The GS1 mod-10 check digit of 12 digits: weights 3, 1, 3, ... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(first_twelve)))
    return (10 - total % 10) % 10


def is_gln(text: str) -> bool:
    """13 ASCII digits whose last is the GS1 check digit of the first 12."""
    return bool(_GLN.fullmatch(text)) and gln_check_digit(text[:12]) == int(text[12])


def _text(value: str, field: str, most: int, *, printable: bool = False) -> list[FieldError]:
    """1..most characters; no control characters (the text rule), or only printable ones."""
    if not 1 <= len(value) <= most:
        return [{"field": field, "message": f"must be 1-{most} characters"}]
    if printable and not value.isprintable():
        return [{"field": field, "message": "must be printable characters only"}]
    if _CONTROL.search(value):
        return [{"field": field, "message": "must not contain control characters (U+0000-U+001F, U+007F)"}]
    return []


def customer_po_errors(value: str | None, field: str = "customer_po") -> list[FieldError]:
    """The buyer's purchase-order number: 1-64 printable characters (letters, digits, punctuation,
    symbols and the ASCII space; no control, format or line-separator characters)."""
    return [] if value is None else _text(value, field, CUSTOMER_PO_MAX, printable=True)


def line_ref_errors(value: str | None, field: str = "customer_line_ref") -> list[FieldError]:
    """The buyer's own line number: 1-20 characters."""
    return [] if value is None else _text(value, field, LINE_REF_MAX)


def ship_to_errors(ship_to: ShipTo | None, field: str = "ship_to") -> list[FieldError]:
    if ship_to is None:
        return []
    errors = _text(ship_to.name, f"{field}.name", TEXT_MAX)
    if not 1 <= len(ship_to.address) <= ADDRESS_LINES_MAX:
        errors.append({"field": f"{field}.address", "message": f"must hold 1-{ADDRESS_LINES_MAX} lines"})
    for i, line in enumerate(ship_to.address):
        errors += _text(line, f"{field}.address[{i}]", TEXT_MAX)
    errors += _text(ship_to.city, f"{field}.city", TEXT_MAX)
    if ship_to.region is not None:
        errors += _text(ship_to.region, f"{field}.region", TEXT_MAX)
    errors += _text(ship_to.postal_code, f"{field}.postal_code", POSTAL_CODE_MAX)
    if not is_country_code(ship_to.country):
        errors.append(
            {"field": f"{field}.country", "message": "must be an assigned ISO 3166-1 alpha-2 code in capitals"}
        )
    if ship_to.gln is not None and not is_gln(ship_to.gln):
        errors.append({"field": f"{field}.gln", "message": "must be 13 digits with a valid GS1 check digit"})
    return errors


def ensure_valid(errors: Sequence[FieldError]) -> None:
    """422 invalid_request naming every bad field, the first one in `detail`."""
    if errors:
        first = errors[0]
        raise InvalidRequestError(f"{first['field']} {first['message']}", errors=list(errors))
