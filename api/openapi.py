"""Make the generated OpenAPI document say exactly what the handlers do.

Litestar places every body and answer: a command's request body from its `data` Struct (api/models.py), a
success answer from the route's return type or its `responses=answers(...)` (api/resources.py). But it
renders Structs less strictly than msgspec decodes and encodes them (no `additionalProperties: false`, no
`not`, no formats), says every body is required, and documents an error the service never answers (a 400
ValidationException). `refine` fixes the document once, at start-up: msgspec's own schema of every Struct
it names, whether a body may be left out, problem documents for every error, no security on public routes.
`document` builds and refines it once per process: every app of a process has the same routes, and the
build is half of what creating an app costs (a test suite creates one per test).
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any, cast

import msgspec
from litestar import Litestar
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPI, OpenAPIMediaType, OpenAPIResponse, Operation, Parameter, RequestBody, Schema
from litestar.utils.predicates import is_class_and_subclass

from api.body import body_field, text_form
from api.errors import PROBLEM
from api.resources import Problem

_REF = "#/components/schemas/{name}"
_PUT = {201: "Created", 200: "Updated or unchanged"}


def answers(struct: type[msgspec.Struct], status: int = 201) -> dict[int, ResponseSpec]:
    """A route's `responses=`: its success answer (`status`) holds `struct`, e.g. a command's
    `...Answer` (its reply is recorded text, so Litestar cannot see the type) or a read model's dict."""
    return {status: ResponseSpec(struct, description=HTTPStatus(status).description, generate_examples=False)}


def put_answers(struct: type[msgspec.Struct]) -> dict[int, ResponseSpec]:
    """Reference data: a PUT answers 201 when it created the resource, 200 when it replaced it (or it was unchanged)."""
    return {status: ResponseSpec(struct, description=text, generate_examples=False) for status, text in _PUT.items()}


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


def _operations(app: Litestar) -> list[Operation]:
    found: list[Operation] = []
    for item in (app.openapi_schema.paths or {}).values():
        for method in ("get", "put", "post", "delete", "patch"):
            operation = getattr(item, method, None)
            if operation is not None:
                found.append(operation)
    return found


def _structs(handler: HTTPRouteHandler) -> list[type[msgspec.Struct]]:
    """The Structs Litestar documents for a route: its body, its return type, its `responses=`."""
    body = body_field(handler)
    named = [body.annotation if body else None, handler.parsed_fn_signature.return_type.annotation]
    named += [spec.data_container for spec in (handler.responses or {}).values()]
    return [t for t in named if is_class_and_subclass(t, msgspec.Struct)]


_BUILT: dict[tuple[str, ...], OpenAPI] = {}  # the refined document per route table (one per process in practice)


def document(app: Litestar) -> None:
    """Give the app its refined OpenAPI document: built and refined by the first app of this process with
    these routes, shared (never changed after `refine`) by every later one. Litestar keeps the document
    its OpenAPI plugin serves in `_openapi`; without that attribute (another Litestar) each app builds
    its own, as before."""
    plugin = app.plugins.get(OpenAPIPlugin)
    routes = tuple(sorted(f"{sorted(getattr(r, 'methods', ()))} {r.path}" for r in app.routes))
    built = _BUILT.get(routes)
    if built is not None and hasattr(plugin, "_openapi"):
        plugin._openapi = built
        return
    refine(app)
    _BUILT[routes] = app.openapi_schema


def refine(app: Litestar) -> None:
    """Rewrite the app's OpenAPI document in place; call once, before it is served."""
    handlers = {
        str(h.operation_id): h
        for route in app.routes
        for h in getattr(route, "route_handlers", [])
        if isinstance(h, HTTPRouteHandler)
    }
    structs = {t for h in handlers.values() for t in _structs(h)} | {Problem}
    _, components = msgspec.json.schema_components(sorted(structs, key=lambda t: t.__name__), ref_template=_REF)
    openapi = app.openapi_schema
    assert openapi.components is not None
    schemas = openapi.components.schemas = dict(openapi.components.schemas or {})
    assert all(t.__name__ in schemas for t in structs - {Problem}), "Litestar named a Struct's schema otherwise"
    for name, value in components.items():
        schemas[name] = _schema(_ecma(value))

    for operation in _operations(app):
        handler = handlers.get(str(operation.operation_id))
        if handler is None:  # no operation_id of its own: Litestar's generated entry stays as it is
            continue
        responses = dict(operation.responses or {})
        responses.pop("400", None)  # Litestar's ValidationException: parameters are answered 422 problems
        body = body_field(handler)
        if body is not None and isinstance(operation.request_body, RequestBody):
            operation.request_body.required = not body.has_default  # else no body at all is that default
            _add_text_form(handler, operation, operation.request_body)
        raw = handler.opt.get("raw_body")
        if raw is not None:  # a route that reads its body itself (EDI): text of that media type, at most 1 MiB
            operation.request_body = RequestBody(
                content={
                    raw: OpenAPIMediaType(schema=_schema({"type": "string", "minLength": 1, "maxLength": 1024 * 1024}))
                },
                required=True,
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


def _add_text_form(handler: HTTPRouteHandler, operation: Operation, body: RequestBody) -> None:
    """A command's second media type (api/body.py TextForm) beside its JSON body, and the query
    parameters that carry the rest of that form."""
    form = text_form(handler)
    if form is None:
        return
    body.content = {**body.content, form.media_type: OpenAPIMediaType(schema=_schema(form.schema))}
    parameters = list(operation.parameters or [])
    for name, required, schema in form.query:  # never required in the document: the JSON form has none
        described = _ecma({k: v for k, v in schema.items() if k != "description"})
        parameters.append(
            Parameter(
                name=name,
                param_in="query",  # type: ignore[arg-type]
                required=False,
                description=f"{schema.get('description')}{' (required there)' if required else ''}",
                schema=_schema(described),
            )
        )
    operation.parameters = parameters


def _anchor_all(schema: Any) -> None:
    """The same translation for the parameter schemas Litestar built (nested in oneOf for optionals)."""
    if not isinstance(schema, Schema):
        return
    if schema.pattern:
        schema.pattern = _anchor(schema.pattern)
    for nested in (schema.one_of or [], schema.any_of or [], schema.all_of or []):
        for child in nested:
            _anchor_all(child)
