"""Make the generated OpenAPI document say what the handlers really do.

Handlers parse their bodies themselves (strictly, with problem documents), so Litestar cannot see the
request models, and it documents errors it never answers (a 400 ValidationException). `refine` fixes
the document once, at start-up: request bodies from the model a handler names in `opt['body']`, the
success statuses it answers, problem documents for every error, and no security on public routes.
"""

from __future__ import annotations

import re
from typing import Any, cast

import msgspec
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, RequestBody, Schema
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM

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
    models = sorted({h.opt["body"] for h in handlers.values() if "body" in h.opt}, key=lambda m: m.__name__)
    _, components = msgspec.json.schema_components(models, ref_template=_REF)
    openapi = app.openapi_schema
    assert openapi.components is not None
    schemas = openapi.components.schemas = dict(openapi.components.schemas or {})
    for name, value in {**components, "Problem": PROBLEM_SCHEMA, "CommandResult": COMMAND_RESULT}.items():
        schemas[name] = _schema(_ecma(value))

    for method, operation in _operations(app):
        handler = handlers[str(operation.operation_id)]
        responses = dict(operation.responses or {})
        responses.pop("400", None)  # Litestar's ValidationException: parameters are answered 422 problems
        body = handler.opt.get("body")
        if body is not None:
            ref = {"$ref": _REF.format(name=body.__name__)}
            empty_allowed = body.__name__ in ("EmptyRequest", "CancelOrderRequest")
            operation.request_body = RequestBody(
                content={"application/json": OpenAPIMediaType(schema=_schema(ref))}, required=not empty_allowed
            )
            success = OpenAPIMediaType(schema=_schema({"$ref": _REF.format(name="CommandResult")}))
            for status in [s for s in responses if s.startswith("2")]:
                responses[status] = OpenAPIResponse(
                    description=responses[status].description, content={"application/json": success}
                )  # type: ignore[union-attr]
            if method == "put":  # reference data: 201 when created, 200 when replaced or unchanged
                responses["200"] = OpenAPIResponse(
                    description="Updated or unchanged", content={"application/json": success}
                )
                responses["201"] = OpenAPIResponse(description="Created", content={"application/json": success})
        if handler.opt.get("scope") is None:
            operation.security = []  # public: no key needed
            if operation.operation_id == "Ready":
                responses["503"] = OpenAPIResponse(
                    description="Not ready: read models behind, or the store unreachable",
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
