"""Make the generated OpenAPI document say what the handlers really do.

Litestar documents each command's body from its `data` Struct, but not as strictly as msgspec decodes it
(no `additionalProperties: false`, no `not`), and it documents errors it never answers (a 400
ValidationException). `refine` fixes the document once, at start-up: msgspec's own schema of every body
Struct, whether the body may be left out, the success statuses a route answers, problem documents for
every error, and no security on public routes.
"""

from __future__ import annotations

import re
from typing import Any, cast

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, RequestBody, Schema
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.body import body_field
from api.errors import PROBLEM
from api.orders import ORDER_STATUSES

_REF = "#/components/schemas/{name}"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem document",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "code": {"type": "string", "minLength": 1},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}

COMMAND_RESULT: dict[str, Any] = {
    "type": "object",
    "description": "The resource the command produced, with the log position of its last event",
    "required": ["position"],
    "properties": {"position": {"type": "integer", "minimum": 0}},
}


# --- what handlers answer: the resources of API.md, with the fields the views in api/views.py build ------
# Objects stay open (API.md lets the service add fields); every field listed is required unless optional.

_MONEY = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$"}
_MONEY_OR_NULL = {"type": ["string", "null"], "pattern": r"^-?[0-9]+\.[0-9]{2}$"}
_INT = {"type": "integer"}
_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF.format(name=name)}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def _obj(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties}


_SKU_QTY = _obj({"sku": _STR, "qty": _INT})
_POSITION = {
    "sku": _STR,
    "warehouse_id": _STR,
    "on_hand": _INT,
    "reserved": _INT,
    "available": _INT,
    "in_transit": _INT,
}
_ATP_WAREHOUSE = _obj({k: v for k, v in _POSITION.items() if k != "sku"})

VIEWS: dict[str, dict[str, Any]] = {
    "Product": _obj({"sku": _STR, "name": _STR, "unit_price": _MONEY, "uom": _STR, "currency": _STR}),
    "Warehouse": _obj({"warehouse_id": _STR, "name": _STR}),
    "Customer": _obj(
        {
            "customer_id": _STR,
            "name": _STR,
            "credit_limit": _MONEY,
            "tax_region": _STR,
            "status": {"enum": ["active", "blocked"]},
            "currency": _STR,
            "contract_prices": _list(_obj({"sku": _STR, "unit_price": _MONEY})),
        }
    ),
    "ContractPrice": _obj({"customer_id": _STR, "sku": _STR, "unit_price": _MONEY, "currency": _STR}),
    "Order": _obj(
        {
            "order_id": _STR,
            "customer_id": _STR,
            "channel": {"enum": ["web", "edi", "sales", "portal", "marketplace"]},
            "status": {"enum": list(ORDER_STATUSES)},
            "currency": _STR,
            "total": _MONEY,
            "lines": _list(
                _obj(
                    {
                        "line_id": _STR,
                        "sku": _STR,
                        "qty": _INT,
                        "unit_price": _MONEY,
                        "amount": _MONEY,
                        **{k: _INT for k in ("allocated", "backordered", "shipped", "delivered", "invoiced")},
                        **{k: _INT for k in ("returned", "cancelled")},
                        "allocations": _list(_obj({"warehouse_id": _STR, "qty": _INT})),
                    }
                )
            ),
        }
    ),
    "Shipment": _obj(
        {
            "shipment_id": _STR,
            "order_id": _STR,
            "warehouse_id": _STR,
            "lines": _list(_SKU_QTY),
            "carrier": _STR_OR_NULL,
            "tracking": _STR_OR_NULL,
            "freight": _MONEY,
            "shipped_at": _TIME,
            "delivered_at": _TIME_OR_NULL,
            "signed_by": _STR_OR_NULL,
            "invoice_id": _STR_OR_NULL,
        }
    ),
    "Transfer": _obj(
        {
            "transfer_id": _STR,
            "sku": _STR,
            "from_warehouse_id": _STR,
            "to_warehouse_id": _STR,
            "qty": _INT,
            "status": {"enum": ["in_transit", "received"]},
        }
    ),
    "Receipt": _obj({"receipt_id": _STR, "warehouse_id": _STR, "lines": _list(_SKU_QTY)}),
    "Adjustment": _obj({"adjustment_id": _STR, "qty_delta": _INT, "reason": _STR, **_POSITION}),
    "Count": _obj({"count_id": _STR, "counted_qty": _INT, "qty_delta": _INT, **_POSITION}),
    "Invoice": _obj(
        {
            "invoice_id": _STR,
            "kind": {"enum": ["invoice", "credit_note"]},
            "number": {"type": "integer", "minimum": 1},
            "order_id": _STR,
            "shipment_id": _STR_OR_NULL,
            "customer_id": _STR,
            "status": {
                "enum": [
                    "awaiting_shipment_proof",
                    "awaiting_tax",
                    "issued",
                    "partially_paid",
                    "paid",
                    "credited",
                    "dead_lettered",
                ]
            },
            "currency": _STR,
            "lines": _list(_obj({"sku": _STR, "qty": _INT, "unit_price": _MONEY, "amount": _MONEY})),
            "freight": _MONEY,
            "subtotal": _MONEY,
            "tax": _MONEY_OR_NULL,
            "total": _MONEY_OR_NULL,
            "paid": _MONEY,
            "balance": _MONEY,
        },
        optional=("number",),
    ),
    "Payment": _obj(
        {
            "payment_id": _STR,
            "customer_id": _STR,
            "amount": _MONEY,
            "currency": _STR,
            "applied": _list(_obj({"invoice_id": _STR, "amount": _MONEY})),
            "unapplied": _MONEY,
        }
    ),
    "Return": _obj(
        {
            "return_id": _STR,
            "order_id": _STR,
            "warehouse_id": _STR,
            "restock": {"type": "boolean"},
            "lines": _list(_SKU_QTY),
            "credit_note_id": _STR,
            "credit_note": _ref("Invoice"),
        }
    ),
    "Atp": _obj(
        {
            **{k: v for k, v in _POSITION.items() if k != "warehouse_id"},
            "backordered": _INT,
            "warehouses": _list(_ATP_WAREHOUSE),
            "position": _INT,
        }
    ),
    "Balance": _obj(
        {
            "customer_id": _STR,
            "currency": _STR,
            **{k: _MONEY for k in ("credit_limit", "open_ar", "unbilled", "exposure", "credit_available")},
            "unapplied_credit": _MONEY,
            "position": _INT,
        }
    ),
    "History": _obj(
        {
            "events": _list(
                _obj(
                    {
                        "version": _INT,
                        "type": _STR,
                        "recorded_at": _TIME,
                        "position": _INT,
                        "actor": _STR_OR_NULL,
                        "correlation_id": _STR_OR_NULL,
                        "causation_id": _STR_OR_NULL,
                        "data": {"type": "object"},
                    }
                )
            )
        }
    ),
    "EventFeed": _obj(
        {
            "events": _list(
                _obj(
                    {
                        "specversion": {"const": "1.0"},
                        "id": _STR,
                        "source": {"const": "/o2c"},
                        "type": {"type": "string", "pattern": r"^o2c\."},
                        "subject": _STR,
                        "time": _TIME,
                        "datacontenttype": {"const": "application/json"},
                        "data": {"type": "object"},
                        "position": _INT,
                    }
                )
            ),
            "next_after": _INT,
        }
    ),
    "OrderList": _obj({"items": _list(_ref("Order")), "next_after": _STR_OR_NULL}),
    "InvoiceList": _obj({"items": _list(_ref("Invoice")), "next_after": _STR_OR_NULL}),
    "AtpList": _obj({"items": _list(_ref("Atp"))}),
    "DeadLetters": _obj(
        {
            "items": _list(
                _obj(
                    {
                        "id": _STR,
                        "kind": _STR,
                        "subject": _STR,
                        "attempts": _INT,
                        "last_error": _STR_OR_NULL,
                        "parked_at": _TIME_OR_NULL,
                    }
                )
            ),
            "next_after": {"type": "null"},
        }
    ),
    "DeadLetterRetry": _obj({"id": _STR, "kind": _STR, "subject": _STR, "invoice": _ref("Invoice")}),
    "Signals": _obj(
        {
            "backorders_aged": _list({"type": "object"}),
            "awaiting_tax": _INT,
            "dead_letters": _INT,
            "over_allocated": _list({"type": "object"}),
            "projection_lag": {"type": "object", "additionalProperties": _INT},
            "position": _INT,
        }
    ),
    "Rebuild": _obj({"name": _STR, "status": _STR, "from_generation": _INT}),
}

# operationId -> the view its success answer holds (commands add `position`, see COMMAND_RESULT).
ANSWERS: dict[str, str] = {
    "PutProduct": "Product",
    "GetProduct": "Product",
    "PutWarehouse": "Warehouse",
    "GetWarehouse": "Warehouse",
    "PutCustomer": "Customer",
    "GetCustomer": "Customer",
    "PutContractPrice": "ContractPrice",
    "GetContractPrice": "ContractPrice",
    "RecordReceipt": "Receipt",
    "RecordAdjustment": "Adjustment",
    "RecordCount": "Count",
    "StartTransfer": "Transfer",
    "ReceiveTransfer": "Transfer",
    "PlaceOrder": "Order",
    "CancelOrder": "Order",
    "ReleaseCreditHold": "Order",
    "GetOrder": "Order",
    "ListOrders": "OrderList",
    "GetOrderHistory": "History",
    "ConfirmShipment": "Shipment",
    "RecordDelivery": "Shipment",
    "GetShipment": "Shipment",
    "RecordReturn": "Return",
    "ReceivePayment": "Payment",
    "GetInvoice": "Invoice",
    "ListInvoices": "InvoiceList",
    "GetInvoiceHistory": "History",
    "GetPositionHistory": "History",
    "GetAvailableToPromise": "Atp",
    "ListAvailableToPromise": "AtpList",
    "GetCustomerBalance": "Balance",
    "ReadEventFeed": "EventFeed",
    "GetSignals": "Signals",
    "ListDeadLetters": "DeadLetters",
    "RetryDeadLetter": "DeadLetterRetry",
    "RebuildProjection": "Rebuild",
}


def _schema(value: dict[str, Any]) -> Schema:
    """Plain JSON Schema dicts pass through Litestar's serialiser unchanged."""
    return cast(Schema, value)


def _problem(description: str) -> OpenAPIResponse:
    ref = {"$ref": _REF.format(name="Problem")}
    return OpenAPIResponse(description=description, content={PROBLEM: OpenAPIMediaType(schema=_schema(ref))})


def _ecma(node: Any) -> Any:
    """Python's `\\A...\\Z` anchors, as ECMA-262 (the dialect of JSON Schema) spells them: `^...$`."""
    if isinstance(node, dict):
        return {k: (_anchor(v) if k == "pattern" and isinstance(v, str) else _ecma(v)) for k, v in node.items()}
    if isinstance(node, list):
        return [_ecma(v) for v in node]
    return node


def _anchor(pattern: str) -> str:
    return re.sub(r"\\Z$", "$", re.sub(r"^\\A", "^", pattern))


def _operations(app: Litestar) -> list[tuple[str, Operation]]:
    found: list[tuple[str, Operation]] = []
    for item in (app.openapi_schema.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is not None:
                found.append((method, operation))
    return found


def refine(app: Litestar) -> None:
    """Rewrite the app's OpenAPI document in place; call once, before it is served."""
    handlers = {
        str(h.operation_id): h
        for route in app.routes
        for h in getattr(route, "route_handlers", [])
        if isinstance(h, HTTPRouteHandler)
    }
    bodies = {name: body_field(h) for name, h in handlers.items()}
    models = sorted({f.annotation for f in bodies.values() if f is not None}, key=lambda m: m.__name__)
    _, components = msgspec.json.schema_components(models, ref_template=_REF)
    openapi = app.openapi_schema
    assert openapi.components is not None
    schemas = openapi.components.schemas = dict(openapi.components.schemas or {})
    for name, value in {**components, **VIEWS, "Problem": PROBLEM_SCHEMA, "CommandResult": COMMAND_RESULT}.items():
        schemas[name] = _schema(_ecma(value))

    for method, operation in _operations(app):
        handler = handlers.get(str(operation.operation_id))
        if handler is None:  # no operation_id of its own: Litestar's generated entry stays as it is
            continue
        responses = dict(operation.responses or {})
        responses.pop("400", None)  # Litestar's ValidationException: parameters are answered 422 problems
        body = bodies[str(operation.operation_id)]
        if body is not None:
            ref = {"$ref": _REF.format(name=body.annotation.__name__)}
            operation.request_body = RequestBody(
                content={"application/json": OpenAPIMediaType(schema=_schema(ref))},
                required=not body.has_default,  # else no body at all is that default
            )
            if method == "put":  # reference data: 201 when created, 200 when replaced or unchanged
                responses["200"] = OpenAPIResponse(description="Updated or unchanged")
                responses["201"] = OpenAPIResponse(description="Created")
        answer = ANSWERS.get(str(operation.operation_id))
        view = _ref(answer) if answer else None
        if body is not None:
            view = {"allOf": [view, _ref("CommandResult")]} if view else _ref("CommandResult")
        if view is not None:
            for status in [s for s in responses if s.startswith("2")]:
                responses[status] = OpenAPIResponse(
                    description=responses[status].description,  # type: ignore[union-attr]
                    content={"application/json": OpenAPIMediaType(schema=_schema(view))},
                )
        if handler.opt.get("scope") is None:
            operation.security = []  # public: no key needed
            if operation.operation_id == "Ready":
                responses["503"] = OpenAPIResponse(
                    description="Not ready: read models behind, a read model or workflow stuck on an error, or the store unreachable",
                    content={
                        "application/json": OpenAPIMediaType(schema=_schema({"type": "object"})),
                        PROBLEM: OpenAPIMediaType(schema=_schema({"$ref": _REF.format(name="Problem")})),
                    },
                )
        else:
            responses["4XX"] = _problem(
                "A problem document: 401 unauthenticated, 403 forbidden, 404, 409 business rule, "
                "422 invalid_request, 429 rate_limited, ..."
            )
            responses["503"] = _problem("store_unavailable or stale_read_model, with Retry-After")
        operation.responses = responses
        for parameter in operation.parameters or []:
            _anchor_all(getattr(parameter, "schema", None))


def _anchor_all(schema: Any) -> None:
    """The same translation for the parameter schemas Litestar built (nested in oneOf for optionals)."""
    if not isinstance(schema, Schema):
        return
    if schema.pattern:
        schema.pattern = _anchor(schema.pattern)
    for nested in (schema.one_of or [], schema.any_of or [], schema.all_of or []):
        for child in nested:
            _anchor_all(child)


def allow_header_middleware(app: ASGIApp) -> ASGIApp:
    """Answer OPTIONS with every method of the path in `Allow`.

    Litestar merges handlers that share a path into one route but keeps the OPTIONS handler of the first,
    whose `Allow` lists only that first route's methods (e.g. GET without the PUT beside it).
    """
    allowed: dict[str, str] = {}

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await app(scope, receive, send)
            return

        async def send_with_allow(message: Message) -> None:
            template = str(scope.get("path_template") or "")  # type: ignore[typeddict-item]
            if message["type"] == "http.response.start" and template:
                if not allowed:
                    for route in scope["app"].routes:
                        methods = getattr(route, "methods", None)
                        if methods:
                            allowed[route.path_format] = ", ".join(sorted(methods))
                if template in allowed:
                    headers = [h for h in message.get("headers", []) if h[0].lower() != b"allow"]
                    headers.append((b"allow", allowed[template].encode()))
                    message = {**message, "headers": headers}  # type: ignore[typeddict-item]
            await send(message)

        await app(scope, receive, send_with_allow)

    return middleware
