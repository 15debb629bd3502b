"""The table of bad requests that test_bad_input.py sends: `CASES`, one `pytest.param` of a `Bad`
each, by topic (numbers, money, unknown fields, identifiers, lines, encodings, required fields,
unknown references, timestamps, Idempotency-Key)."""

from __future__ import annotations

import json
from typing import Any

from tests.api.bad_input_units import UNIT_AND_PRICE_LIST_CASES
from tests.api.bad_requests import (
    ADJUSTMENT,
    CANCEL,
    COUNT,
    CUSTOMER,
    DELIVERY,
    ENDPOINTS,
    KEY,
    ORDER,
    POSTS,
    PRICE,
    PRODUCT,
    RECEIPT,
    SHIPMENT,
    TOO_MANY,
    TRANSFER,
    WAREHOUSE,
    Bad,
    MiB,
    bad,
    case,
    without,
)

# --- the table ----------------------------------------------------------------------------------

CASES: list[Any] = []

# Quantities: wrong JSON types, zero, negative, too large, null.
QTY_FIELDS = {
    "receipt lines[0].qty": (RECEIPT, "lines.0.qty"),
    "order lines[0].qty": (ORDER, "lines.0.qty"),
    "transfer qty": (TRANSFER, "qty"),
    "shipment lines[0].qty": (SHIPMENT, "lines.0.qty"),
}
QTY_VALUES = {
    "string '1'": "1",
    "float 1.0": 1.0,
    "float 1.5": 1.5,
    "boolean true": True,
    "null": None,
    "zero": 0,
    "negative": -1,
    "over 1e9": TOO_MANY,
}
for fname, (ep, field) in QTY_FIELDS.items():
    for vname, value in QTY_VALUES.items():
        CASES.append(case(f"{fname} is {vname}", bad(ep, field, value)))
for vname, value in {
    "string '3'": "3",
    "float 3.0": 3.0,
    "boolean true": True,
    "negative": -1,
    "over 1e9": TOO_MANY,
}.items():
    CASES.append(case(f"count counted_qty is {vname}", bad(COUNT, "counted_qty", value)))
for vname, value in {
    "string '1'": "1",
    "float 1.0": 1.0,
    "boolean true": True,
    "zero": 0,
    "over 1e9": TOO_MANY,
    "under -1e9": -TOO_MANY,
}.items():
    CASES.append(case(f"adjustment qty_delta is {vname}", bad(ADJUSTMENT, "qty_delta", value)))

# Money: never a float, a string with at most 2 places, ASCII digits only, 12 integer digits at most.
MONEY_FIELDS = {
    "product unit_price": (PRODUCT, "unit_price"),
    "customer credit_limit": (CUSTOMER, "credit_limit"),
    "contract unit_price": (PRICE, "unit_price"),
    "order line unit_price": (ORDER, "lines.0.unit_price"),
    "shipment freight": (SHIPMENT, "freight"),
}
MONEY_VALUES = {
    "float 12.5": 12.5,
    "integer 12": 12,
    "3 decimals": "12.505",
    "no digits after the point": "12.",
    "exponent": "1e3",
    "comma": "12,50",
    "13 integer digits": "1234567890123.00",
    "a trailing newline": "12.50\n",
    "Arabic-Indic digits": "\u0661\u0662.\u0665\u0660",
    "fullwidth digits": "\uff11\uff12.\uff15\uff10",
}
for fname, (ep, field) in MONEY_FIELDS.items():
    for vname, value in MONEY_VALUES.items():
        CASES.append(case(f"{fname} is {vname}", bad(ep, field, value)))

# Unknown fields, at the top level and inside lines.
for name, (method, path, body) in ENDPOINTS.items():
    CASES.append(case(f"{name} has an unknown top-level field", Bad(method, path, {**body, "colour": "red"})))
for name, (ep, field) in {
    "receipt": (RECEIPT, "lines.0.colour"),
    "order": (ORDER, "lines.0.colour"),
    "shipment": (SHIPMENT, "lines.0.colour"),
}.items():
    CASES.append(case(f"{name} has an unknown field inside a line", bad(ep, field, "red")))

# Invalid identifiers in bodies.
BAD_IDS = {
    "with a space": "A B",
    "of 65 chars": "A" * 65,
    "with unicode": "SKU-\u00e9",
    "empty": "",
    "with a trailing newline": "A-1\n",
    "not a string": 42,
}
MAIN_IDS = {
    "receipt receipt_id": (RECEIPT, "receipt_id"),
    "adjustment adjustment_id": (ADJUSTMENT, "adjustment_id"),
    "count count_id": (COUNT, "count_id"),
    "transfer transfer_id": (TRANSFER, "transfer_id"),
    "order order_id": (ORDER, "order_id"),
    "shipment shipment_id": (SHIPMENT, "shipment_id"),
    "receipt lines[0].sku": (RECEIPT, "lines.0.sku"),
    "order customer_id": (ORDER, "customer_id"),
    "key name": (KEY, "name"),
    "key customers[0]": (KEY, "customers.0"),
}
for fname, (ep, field) in MAIN_IDS.items():
    for vname, value in BAD_IDS.items():
        CASES.append(case(f"{fname} {vname}", bad(ep, field, value)))
OTHER_IDS = {
    "receipt warehouse_id": (RECEIPT, "warehouse_id"),
    "adjustment warehouse_id": (ADJUSTMENT, "warehouse_id"),
    "adjustment sku": (ADJUSTMENT, "sku"),
    "count warehouse_id": (COUNT, "warehouse_id"),
    "count sku": (COUNT, "sku"),
    "transfer from_warehouse_id": (TRANSFER, "from_warehouse_id"),
    "transfer to_warehouse_id": (TRANSFER, "to_warehouse_id"),
    "transfer sku": (TRANSFER, "sku"),
    "order warehouse_id": (ORDER, "warehouse_id"),
    "order lines[0].sku": (ORDER, "lines.0.sku"),
    "order lines[0].line_id": (ORDER, "lines.0.line_id"),
    "shipment order_id": (SHIPMENT, "order_id"),
    "shipment warehouse_id": (SHIPMENT, "warehouse_id"),
    "shipment lines[0].sku": (SHIPMENT, "lines.0.sku"),
}
_forms = list(BAD_IDS.items())
for i, (fname, (ep, field)) in enumerate(OTHER_IDS.items()):
    for vname, value in (_forms[i % len(_forms)], _forms[(i + 3) % len(_forms)]):
        CASES.append(case(f"{fname} {vname}", bad(ep, field, value)))

# Invalid identifiers in paths: 404 or 422 (API.md, Limits).
PATH_IDS = {
    "with a space": "A%20B",
    "of 65 chars": "A" * 65,
    "with unicode": "SKU-%C3%A9",
    "empty": "",
    "with a trailing newline": "A-1%0A",
}
PATH_TEMPLATES = {
    "put product": ("PUT", "/v1/products/{}", PRODUCT[2]),
    "put warehouse": ("PUT", "/v1/warehouses/{}", WAREHOUSE[2]),
    "put customer": ("PUT", "/v1/customers/{}", CUSTOMER[2]),
    "put contract price (customer)": ("PUT", "/v1/customers/{}/prices/NUT-4", PRICE[2]),
    "put contract price (sku)": ("PUT", "/v1/customers/C1/prices/{}", PRICE[2]),
    "transfer receive": ("POST", "/v1/inventory/transfers/{}/receive", {}),
    "cancel": ("POST", "/v1/orders/{}/cancel", CANCEL[2]),
    "release-hold": ("POST", "/v1/orders/{}/release-hold", {}),
    "delivery": ("POST", "/v1/shipments/{}/delivery", DELIVERY[2]),
}
for tname, (method, template, body) in PATH_TEMPLATES.items():
    for vname, value in PATH_IDS.items():
        CASES.append(
            case(
                f"{tname} path id {vname}",
                Bad(method, template.format(value), body, status=(404, 422), codes=("not_found", "invalid_request")),
            )
        )

# Lines: empty, more than 500.
for name, (ep, line) in {
    "receipt": (RECEIPT, {"sku": "BOLT-10", "qty": 1}),
    "order": (ORDER, {"sku": "BOLT-10", "qty": 1}),
    "shipment": (SHIPMENT, {"sku": "BOLT-10", "qty": 1}),
}.items():
    CASES.append(case(f"{name} with empty lines", bad(ep, "lines", [])))
    CASES.append(case(f"{name} with lines missing", without(ep, "lines")))
    CASES.append(case(f"{name} with lines not a list", bad(ep, "lines", line)))
    CASES.append(case(f"{name} with 501 lines", bad(ep, "lines", [dict(line) for _ in range(501)])))

# Broken JSON, wrong content type, too large, not an object.
BROKEN = {
    "truncated": b'{"name": "x",',
    "trailing garbage": b'{"name": "x"} x',
    "single quotes": b"{'name': 'x'}",
    "not UTF-8": b'{"name": "\xff\xfe"}',
    "NaN": b'{"qty": NaN}',
}
for name, (method, path, body) in ENDPOINTS.items():
    CASES.append(
        case(
            f"{name} with broken JSON",
            Bad(method, path, raw=b'{"broken": ', status=(400,), codes=("invalid_json",)),
        )
    )
    CASES.append(
        case(
            f"{name} sent as text/plain",
            Bad(
                method,
                path,
                raw=json.dumps(body).encode(),
                content_type="text/plain",
                status=(415,),
                codes=("unsupported_media_type",),
            ),
        )
    )
    CASES.append(
        case(
            f"{name} with a body over 1 MiB",
            Bad(
                method,
                path,
                raw=json.dumps({**body, "padding": "x" * MiB}).encode(),
                status=(413,),
                codes=("payload_too_large",),
            ),
        )
    )
    CASES.append(case(f"{name} with a JSON array as body", Bad(method, path, [body])))
for bname, raw in BROKEN.items():
    CASES.append(
        case(f"order with broken JSON ({bname})", Bad(*ORDER[:2], raw=raw, status=(400,), codes=("invalid_json",)))
    )
for ctype in ("application/x-www-form-urlencoded", "application/xml", None):
    CASES.append(
        case(
            f"order sent as {ctype or 'no content type'}",
            Bad(
                *ORDER[:2],
                raw=json.dumps(ORDER[2]).encode(),
                content_type=ctype,
                status=(415,),
                codes=("unsupported_media_type",),
            ),
        )
    )

# Missing and malformed required fields, enums, booleans.
CASES += [
    case("product without unit_price", without(PRODUCT, "unit_price")),
    case("product with an empty name", bad(PRODUCT, "name", "")),
    case("warehouse without name", without(WAREHOUSE, "name")),
    case("customer with an unknown status", bad(CUSTOMER, "status", "closed")),
    case("customer without credit_limit", without(CUSTOMER, "credit_limit")),
    case("contract price without unit_price", without(PRICE, "unit_price")),
    case("receipt without warehouse_id", without(RECEIPT, "warehouse_id")),
    case("adjustment without reason", without(ADJUSTMENT, "reason")),
    case("adjustment qty_delta of zero", bad(ADJUSTMENT, "qty_delta", 0)),
    case("count without counted_qty", without(COUNT, "counted_qty")),
    case("transfer to the warehouse it leaves", bad(TRANSFER, "to_warehouse_id", "W-A")),
    case("order with an unknown channel", bad(ORDER, "channel", "fax")),
    case("order without channel", without(ORDER, "channel")),
    case("order with allow_backorder as a string", bad(ORDER, "allow_backorder", "false")),
    case("order with customer_id null", bad(ORDER, "customer_id", None)),
    case(
        "order with a duplicate line_id",
        bad(ORDER, "lines", [{"line_id": "1", "sku": "BOLT-10", "qty": 1}, {"line_id": "1", "sku": "NUT-4", "qty": 1}]),
    ),
    case("cancel with a reason that is not a string", bad(CANCEL, "reason", 7)),
    case("shipment without order_id", without(SHIPMENT, "order_id")),
]

# Unknown references: each its own 4xx code.
CASES += [
    case(
        "receipt at an unknown warehouse",
        bad(RECEIPT, "warehouse_id", "W-NOPE", codes=("unknown_warehouse",)),
    ),
    case("receipt of an unknown sku", bad(RECEIPT, "lines.0.sku", "NOPE-1", codes=("unknown_sku",))),
    case(
        "receipt with one known and one unknown sku",
        bad(
            RECEIPT,
            "lines",
            [{"sku": "BOLT-10", "qty": 1}, {"sku": "NOPE-1", "qty": 1}],
            codes=("unknown_sku",),
        ),
    ),
    case(
        "adjustment at an unknown warehouse",
        bad(ADJUSTMENT, "warehouse_id", "W-NOPE", codes=("unknown_warehouse",)),
    ),
    case("adjustment of an unknown sku", bad(ADJUSTMENT, "sku", "NOPE-1", codes=("unknown_sku",))),
    case("count at an unknown warehouse", bad(COUNT, "warehouse_id", "W-NOPE", codes=("unknown_warehouse",))),
    case("count of an unknown sku", bad(COUNT, "sku", "NOPE-1", codes=("unknown_sku",))),
    case(
        "transfer from an unknown warehouse",
        bad(TRANSFER, "from_warehouse_id", "W-NOPE", codes=("unknown_warehouse",)),
    ),
    case(
        "transfer to an unknown warehouse",
        bad(TRANSFER, "to_warehouse_id", "W-NOPE", codes=("unknown_warehouse",)),
    ),
    case("transfer of an unknown sku", bad(TRANSFER, "sku", "NOPE-1", codes=("unknown_sku",))),
    case("order for an unknown customer", bad(ORDER, "customer_id", "C-NOPE", codes=("unknown_customer",))),
    case("order of an unknown sku", bad(ORDER, "lines.0.sku", "NOPE-1", codes=("unknown_sku",))),
    case(
        "order pinned to an unknown warehouse",
        bad(ORDER, "warehouse_id", "W-NOPE", codes=("unknown_warehouse",)),
    ),
    case(
        "contract price for an unknown sku",
        Bad("PUT", "/v1/customers/C1/prices/NOPE-1", PRICE[2], codes=("unknown_sku",)),
    ),
    case(
        "contract price for an unknown customer",
        Bad(
            "PUT",
            "/v1/customers/C-NOPE/prices/NUT-4",
            PRICE[2],
            status=(404, 422),
            codes=("not_found", "unknown_customer"),
        ),
    ),
    case(
        "shipment from an unknown warehouse",
        bad(SHIPMENT, "warehouse_id", "W-NOPE", codes=("unknown_warehouse",)),
    ),
    case(
        "shipment for an unknown order",
        bad(SHIPMENT, "order_id", "SO-NOPE", status=(404, 422), codes=("not_found", "unknown_order")),
    ),
    case("shipment of an unknown sku", bad(SHIPMENT, "lines.0.sku", "NOPE-1", codes=("unknown_sku",))),
    case(
        "cancel of an unknown order",
        Bad("POST", "/v1/orders/SO-NOPE/cancel", CANCEL[2], status=(404,), codes=("not_found",)),
    ),
    case(
        "release-hold of an unknown order",
        Bad("POST", "/v1/orders/SO-NOPE/release-hold", {}, status=(404,), codes=("not_found",)),
    ),
    case(
        "delivery of an unknown shipment",
        Bad("POST", "/v1/shipments/SH-NOPE/delivery", DELIVERY[2], status=(404,), codes=("not_found",)),
    ),
    case(
        "receive of an unknown transfer",
        Bad("POST", "/v1/inventory/transfers/T-NOPE/receive", {}, status=(404,), codes=("not_found",)),
    ),
]

# delivered_at must be an RFC 3339 date-time with an offset.
for vname, value in {
    "a word": "yesterday",
    "a date only": "2026-11-26",
    "without offset": "2026-11-26T10:00:00",
    "month 13": "2026-13-01T10:00:00Z",
    "hour 25": "2026-11-26T25:00:00Z",
    "without seconds": "2026-11-26T10:00Z",
    "ISO basic format": "20261126T100000Z",
    "an epoch number": 1764151200,
    "empty": "",
    "null": None,
}.items():
    CASES.append(case(f"delivery with delivered_at {vname}", bad(DELIVERY, "delivered_at", value)))
CASES.append(case("delivery without delivered_at", without(DELIVERY, "delivered_at")))

# Idempotency-Key must be 1-255 characters; the body would otherwise be accepted.
for name, (method, path, body) in POSTS.items():
    CASES.append(
        case(
            f"{name} with an Idempotency-Key of 256 chars",
            Bad(method, path, body, headers=(("Idempotency-Key", "k" * 256),)),
        )
    )
CASES.append(case("order with an empty Idempotency-Key", Bad(*ORDER, headers=(("Idempotency-Key", ""),))))

CASES += UNIT_AND_PRICE_LIST_CASES  # tests/api/bad_input_units.py
