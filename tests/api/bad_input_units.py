"""Bad requests about price lists and units of measure (API.md "Price lists and units of measure"),
for the table of test_bad_input.py: each a 4xx problem that records nothing."""

from __future__ import annotations

from typing import Any

from tests.api.bad_requests import CUSTOMER, ORDER, PRICE_LIST, PRODUCT, TOO_MANY, bad, case, without

CS = {"uom": "CS", "factor": 12}

UNIT_AND_PRICE_LIST_CASES: list[Any] = [
    # product units
    case("product unit with factor 1", bad(PRODUCT, "units", [{"uom": "CS", "factor": 1}])),
    case("product unit with factor 0", bad(PRODUCT, "units", [{"uom": "CS", "factor": 0}])),
    case("product unit with factor 1.5", bad(PRODUCT, "units", [{"uom": "CS", "factor": 1.5}])),
    case("product unit with factor over 1e9", bad(PRODUCT, "units", [{"uom": "CS", "factor": TOO_MANY}])),
    case("product unit with a lowercase uom", bad(PRODUCT, "units", [{"uom": "cs", "factor": 12}])),
    case("product unit with an 11-character uom", bad(PRODUCT, "units", [{"uom": "C" * 11, "factor": 12}])),
    case("product unit with an empty uom", bad(PRODUCT, "units", [{"uom": "", "factor": 12}])),
    case("product unit named as the base uom", bad(PRODUCT, "units", [{"uom": "EA", "factor": 12}])),
    case("product unit named twice", bad(PRODUCT, "units", [CS, {"uom": "CS", "factor": 24}])),
    case("product unit without factor", bad(PRODUCT, "units", [{"uom": "CS"}])),
    case("product unit with an unknown field", bad(PRODUCT, "units", [{**CS, "name": "case"}])),
    # price lists
    case("price list item with min_qty 0", bad(PRICE_LIST, "items.0.min_qty", 0)),
    case("price list item with min_qty over 1e9", bad(PRICE_LIST, "items.0.min_qty", TOO_MANY)),
    case("price list item with valid_to before valid_from", bad(PRICE_LIST, "items.0.valid_to", "2026-11-30")),
    case("price list item with a date that is no date", bad(PRICE_LIST, "items.0.valid_from", "2026-02-30")),
    case("price list item with a float price", bad(PRICE_LIST, "items.0.unit_price", 8.0)),
    case("price list item with a negative price", bad(PRICE_LIST, "items.0.unit_price", "-1.00")),
    case("price list item without sku", bad(PRICE_LIST, "items.0", {"unit_price": "8.00"})),
    case("price list without items", without(PRICE_LIST, "items")),
    case("price list without name", without(PRICE_LIST, "name")),
    case("price list item of an unknown sku", bad(PRICE_LIST, "items.0.sku", "NOPE-1", codes=("unknown_sku",))),
    # references to them
    case(
        "customer on an unknown price list",
        bad(CUSTOMER, "price_list_id", "PL-NOPE", codes=("unknown_price_list",)),
    ),
    case("customer with a price_list_id that is no id", bad(CUSTOMER, "price_list_id", "PL 1")),
    case("order line in a unit the product lacks", bad(ORDER, "lines.0.uom", "CS", codes=("unknown_uom",))),
    case("order line in a lowercase base uom", bad(ORDER, "lines.0.uom", "ea", codes=("unknown_uom",))),
    case("order line with an empty uom", bad(ORDER, "lines.0.uom", "")),
]
