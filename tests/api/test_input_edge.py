"""The request edge (issue 11): control characters in text and headers, deep and ambiguous JSON, and every
refused field or parameter named in `errors`.

One service per store serves the whole module; every refusal must record nothing.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
from litestar.handlers import HTTPRouteHandler
from litestar.testing import TestClient

from api.app import create_app
from api.body import body_field
from api.security import new_correlation_id
from infra.service import Service
from tests.conftest import (
    ADMIN_KEY,
    PG_HOST,
    PG_PORT,
    Api,
    _pg_answers,
    _stores,
    create_pg_database,
    drop_pg_database,
    make_settings,
)

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
JSON = {**AUTH, "Content-Type": "application/json"}
CONTROL = {"NUL": "\u0000", "a newline": "\n", "a tab": "\t", "U+001F": "\u001f", "DEL": "\u007f"}


class Edge:
    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self.svc: Service = client.app.state.service

    def send(
        self, method: str, path: str, body: Any = None, raw: bytes | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        content = raw if raw is not None else json.dumps(body).encode()
        return self.client.request(method, path, content=content, headers={**JSON, **(headers or {})})

    def refused(
        self,
        method: str,
        path: str,
        body: Any = None,
        raw: bytes | None = None,
        status: int = 422,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The request is answered with a problem of `status` and records nothing; the problem is returned."""
        before = self.svc.store.head()
        r = self.send(method, path, body, raw, headers)
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("application/problem+json"), r.headers
        assert self.svc.store.head() == before, f"{method} {path} recorded something"
        problem: dict[str, Any] = r.json()
        return problem


@pytest.fixture(scope="module", params=_stores())
def edge(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp_path_factory.mktemp('edge') / 'o2c.db'}", None
    else:
        if not _pg_answers():
            if os.environ.get("CI") == "true":
                pytest.fail(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT} and CI=true requires it")
            pytest.skip(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT}")
        name, url = create_pg_database()
    try:
        with TestClient(create_app(make_settings(url), workers=False)) as client:
            yield Edge(client)
    finally:
        if name is not None:
            drop_pg_database(name)


def fields(problem: dict[str, Any]) -> list[str]:
    assert problem["code"] == "invalid_request", problem
    errors = problem.get("errors")
    assert isinstance(errors, list) and errors, problem
    assert all(isinstance(e.get("message"), str) and e["message"] for e in errors), problem
    return [e["field"] for e in errors]


# --- 1. text fields and headers refuse control characters --------------------------------------

SHIPMENT = {"shipment_id": "SH-X", "order_id": "SO-X", "warehouse_id": "W-X", "lines": [{"sku": "S", "qty": 1}]}
DELIVERY = {"delivered_at": "2026-11-26T10:00:00Z"}
TEXT_FIELDS: dict[str, tuple[str, str, dict[str, Any], str]] = {
    "product name": ("PUT", "/v1/products/P-X", {"name": "Part", "unit_price": "1.00"}, "name"),
    "product uom": ("PUT", "/v1/products/P-X", {"name": "Part", "unit_price": "1.00", "uom": "EA"}, "uom"),
    "warehouse name": ("PUT", "/v1/warehouses/W-X", {"name": "Main"}, "name"),
    "customer name": (
        "PUT",
        "/v1/customers/C-X",
        {"name": "Acme", "credit_limit": "1.00", "tax_region": "CA", "status": "active"},
        "name",
    ),
    "adjustment reason": (
        "POST",
        "/v1/inventory/adjustments",
        {"adjustment_id": "A-X", "warehouse_id": "W-X", "sku": "S", "qty_delta": 1, "reason": "found"},
        "reason",
    ),
    "cancel reason": ("POST", "/v1/orders/SO-X/cancel", {"reason": "changed mind"}, "reason"),
    "shipment carrier": ("POST", "/v1/shipments", {**SHIPMENT, "carrier": "UPS"}, "carrier"),
    "shipment tracking": ("POST", "/v1/shipments", {**SHIPMENT, "tracking": "1Z999"}, "tracking"),
    "delivery signed_by": ("POST", "/v1/shipments/SH-X/delivery", {**DELIVERY, "signed_by": "J. Doe"}, "signed_by"),
    "delivery delivered_at": ("POST", "/v1/shipments/SH-X/delivery", DELIVERY, "delivered_at"),
}


@pytest.mark.parametrize("char", CONTROL.values(), ids=CONTROL.keys())
@pytest.mark.parametrize("target", TEXT_FIELDS.values(), ids=TEXT_FIELDS.keys())
def test_a_text_field_with_a_control_character_is_refused_and_named(
    edge: Edge, target: tuple[str, str, dict[str, Any], str], char: str
) -> None:
    method, path, body, field = target
    value = body[field]
    problem = edge.refused(method, path, {**body, field: value[:2] + char + value[2:]})
    assert fields(problem) == [field], problem


def test_a_product_name_with_nul_is_refused_and_printable_unicode_is_not(edge: Edge) -> None:
    problem = edge.refused("PUT", "/v1/products/NUL-1", {"name": "a\u0000b", "unit_price": "1.00"})
    assert fields(problem) == ["name"]
    assert "control character" in problem["errors"][0]["message"], problem
    r = edge.send("PUT", "/v1/products/UNI-1", {"name": "Écrou M4 — 10 µm [sic]: ok\u00a0\u2028", "unit_price": "1.00"})
    assert r.status_code == 201, r.text


def _strings(node: Any, path: str) -> Iterator[tuple[str, msgspec.inspect.StrType]]:
    """Every string a request model accepts, with where it sits."""
    if isinstance(node, msgspec.inspect.StrType):
        yield path, node
    elif isinstance(node, msgspec.inspect.StructType):
        for f in node.fields:
            yield from _strings(f.type, f"{path}.{f.name}")
    elif isinstance(node, msgspec.inspect.UnionType):
        for t in node.types:
            yield from _strings(t, path)
    elif isinstance(node, msgspec.inspect.ListType | msgspec.inspect.SetType | msgspec.inspect.VarTupleType):
        yield from _strings(node.item_type, f"{path}[]")
    elif isinstance(node, msgspec.inspect.DictType):
        yield from _strings(node.key_type, f"{path}{{key}}")
        yield from _strings(node.value_type, f"{path}{{}}")


def test_every_string_of_every_request_body_refuses_control_characters() -> None:
    """The rule sits in the models' types; a new free-text field without it fails here, not in production."""
    app = create_app(make_settings("sqlite:///unused.db"), workers=False)
    found = [
        body_field(h)
        for route in app.routes
        for h in getattr(route, "route_handlers", [])
        if isinstance(h, HTTPRouteHandler)
    ]
    models = {f.annotation for f in found if f is not None}
    assert len(models) >= 10
    checked = 0
    for model in models:
        for where, info in _strings(msgspec.inspect.type_info(model), model.__name__):
            assert info.pattern is not None, f"{where} accepts any string"
            for char in ("\u0000", "\n", "\u001f", "\u007f"):
                assert re.search(info.pattern, f"ab{char}cd") is None, f"{where} accepts {char!r}"
            checked += 1
    assert checked >= 30


@pytest.mark.parametrize("char", ["\u0001", "\u001f", "\u007f", "\t"], ids=["U+0001", "U+001F", "DEL", "tab"])
def test_an_idempotency_key_with_a_control_character_is_refused_and_named(edge: Edge, char: str) -> None:
    for method, path, body in (
        ("PUT", "/v1/warehouses/W-IDEM", {"name": "Idem"}),
        ("POST", "/v1/orders/SO-IDEM/release-hold", {}),
    ):
        problem = edge.refused(method, path, body, headers={"Idempotency-Key": f"key{char}1"})
        assert fields(problem) == ["Idempotency-Key"], problem


def test_an_idempotency_key_given_twice_is_refused(served: str) -> None:
    """Over a real server (the test client folds repeated headers into one, as a proxy may)."""
    headers = [*JSON.items(), ("Idempotency-Key", "k-1"), ("Idempotency-Key", "k-2")]
    r = httpx.put(f"{served}/v1/warehouses/W-TWICE", content=b'{"name": "x"}', headers=headers)
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["Idempotency-Key"]
    assert httpx.get(f"{served}/v1/warehouses/W-TWICE", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "given",
    ["abc\n", "abc\u0001def", "abc\u007f", "x" * 129, "with space", "<script>"],
    ids=["a trailing newline", "U+0001", "DEL", "129 chars", "a space", "markup"],
)
def test_an_unsafe_correlation_id_is_replaced_not_echoed(edge: Edge, given: str) -> None:
    r = edge.client.get("/healthz", headers={"X-Correlation-ID": given})
    assert r.status_code == 200
    cid = r.headers["x-correlation-id"]
    assert cid != given and re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", cid)


def test_a_generated_correlation_id_is_a_random_version_4_uuid_as_uuid_prints_it() -> None:
    made = [new_correlation_id() for _ in range(20_000)]
    assert len(set(made)) == len(made)
    for cid in made:
        parsed = uuid.UUID(cid)
        assert str(parsed) == cid and parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_a_sane_correlation_id_is_echoed(edge: Edge) -> None:
    for given in ("req-1", "a" * 128, "trace:span/01+x=="):
        assert edge.client.get("/healthz", headers={"X-Correlation-ID": given}).headers["x-correlation-id"] == given


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/v1/no-such-route", 404), ("DELETE", "/healthz", 405), ("PATCH", "/v1/orders", 405)],
)
def test_answers_from_routing_itself_carry_the_correlation_id_and_are_counted(
    edge: Edge, method: str, path: str, status: int
) -> None:
    """API.md: every response carries X-Correlation-ID, including the 404 and 405 the router gives
    before any route (and so any route middleware) is reached."""
    assert edge.svc.metrics is not None
    counted = f'o2c_http_requests_total{{method="{method}",route="unmatched",status="{status}"}} '

    def count() -> float:
        lines = [line for line in edge.svc.metrics.render().decode().splitlines() if line.startswith(counted)]
        return float(lines[0].split()[-1]) if lines else 0.0

    before = count()
    given = f"routing-{status}-{method.lower()}"
    r = edge.client.request(method, path, headers={"X-Correlation-ID": given, **AUTH})
    assert r.status_code == status, r.text
    assert r.headers["x-correlation-id"] == given
    assert r.headers["content-type"].startswith("application/problem+json")
    assert count() == before + 1


# --- 2. JSON nested deeper than 64 levels --------------------------------------------------------


def nested_arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def nested_objects(depth: int) -> bytes:
    return b'{"a":' * (depth - 1) + b"{}" + b"}" * (depth - 1)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 1000,
        nested_arrays(1000),
        nested_objects(1000),
        nested_arrays(65),
        nested_objects(65),
        b'{"customer_id": "C1", "lines": ' + nested_arrays(64) + b"}",
        b"[" * (1024 * 1024 - 16),
        b'[{"a": [{"b": ' * 20 + b"1" + b"}]}]" * 20,
    ],
    ids=[
        "1000 unclosed [",
        "1000 nested arrays",
        "1000 nested objects",
        "65 nested arrays",
        "65 nested objects",
        "arrays 64 deep inside the body",
        "almost 1 MiB of [",
        "80 levels of mixed objects and arrays",
    ],
)
def test_json_nested_deeper_than_64_levels_is_invalid_json(edge: Edge, raw: bytes) -> None:
    problem = edge.refused("POST", "/v1/orders", raw=raw, status=400)
    assert problem["code"] == "invalid_json", problem


def test_json_nested_64_levels_is_json_and_brackets_in_strings_do_not_count(edge: Edge) -> None:
    for raw in (nested_arrays(64), nested_objects(64)):
        assert edge.refused("POST", "/v1/orders", raw=raw, status=422)["code"] == "invalid_request"
    name = "[{" * 40 + "]}" * 40 + '\\"[[['
    r = edge.send("PUT", "/v1/products/BRACKETS-1", raw=f'{{"name": "{name}", "unit_price": "1.00"}}'.encode())
    assert r.status_code == 201, r.text
    assert r.json()["name"] == name.replace('\\"', '"')


# --- 3. and 4. required fields and parameters are named ------------------------------------------


def test_a_customer_without_status_is_refused_and_status_named(edge: Edge) -> None:
    body = {"name": "No status", "credit_limit": "10.00", "tax_region": "CA"}
    problem = edge.refused("PUT", "/v1/customers/C-NOSTATUS", body)
    assert fields(problem) == ["status"], problem


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/atp", "skus"),
        ("/v1/atp?skus=", "skus"),
        ("/v1/atp?skus=A%20B", "skus"),
        ("/v1/atp?skus=S-1&min_position=-1", "min_position"),
        ("/v1/atp?skus=S-1&warehouse_id=a%0Ab", "warehouse_id"),
        ("/v1/atp/S-1?warehouse_id=", "warehouse_id"),
        ("/v1/events?limit=abc", "limit"),
        ("/v1/events?after=-1", "after"),
        ("/v1/events?wait=31", "wait"),
        ("/v1/orders?status=lost", "status"),
        ("/v1/orders?customer_id=a%00b", "customer_id"),
        ("/v1/orders/SO-1?as_of_version=0", "as_of_version"),
        ("/v1/invoices?limit=0", "limit"),
        ("/v1/products/P%00X", "sku"),
        ("/v1/customers/C1/prices/S%0A", "sku"),
    ],
)
def test_a_missing_or_invalid_parameter_is_named(edge: Edge, path: str, field: str) -> None:
    r = edge.client.get(path, headers=AUTH)
    assert r.status_code == 422, r.text
    assert fields(r.json()) == [field], r.text
    assert field in r.json()["detail"], r.text


# --- 5. duplicate object keys --------------------------------------------------------------------

ORDER = b'{"customer_id": "C1", "channel": "web", "lines": [%s]}'


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        (b'{"name": "a", "name": "b", "unit_price": "1.00"}', "name"),
        (b'{"name": "a", "unit_price": "1.00", "unit_price": "2.00"}', "unit_price"),
        (b'{"name": "a:b", "unit_price": "1.00", "name": "c"}', "name"),
        (b'{"name": "a", "name": "\\u003a", "unit_price": "1.00"}', "name"),
        (b'{"name": "a", "uom": {"x": 1, "x": 2}, "unit_price": "1.00"}', "x"),
    ],
    ids=["first key twice", "last key twice", "a colon in a value", "an escaped colon", "inside a nested object"],
)
def test_a_body_with_a_duplicate_key_is_invalid_json_naming_the_key(edge: Edge, raw: bytes, key: str) -> None:
    problem = edge.refused("PUT", "/v1/products/DUP-1", raw=raw, status=400)
    assert problem["code"] == "invalid_json", problem
    assert f"'{key}'" in problem["detail"], problem


def test_a_duplicate_key_inside_an_order_line_is_invalid_json(edge: Edge) -> None:
    lines = b",".join([b'{"sku": "S-%d", "qty": 1}' % i for i in range(499)] + [b'{"sku": "S", "qty": 1, "qty": 2}'])
    problem = edge.refused("POST", "/v1/orders", raw=ORDER % lines, status=400)
    assert problem["code"] == "invalid_json" and "'qty'" in problem["detail"], problem


def test_colons_in_strings_and_keys_are_not_duplicates(edge: Edge) -> None:
    raw = b'{"name": "a:b::c \\u003a", "unit_price": "1.00", "uom": "x:y"}'
    r = edge.send("PUT", "/v1/products/COLON:1", raw=raw)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "a:b::c :"


def test_an_unknown_field_is_named_but_a_huge_name_is_not_echoed_whole(edge: Edge) -> None:
    problem = edge.refused("PUT", "/v1/warehouses/W-LONG", {"name": "x", "k" * 10_000: 1})
    [field] = fields(problem)
    assert field.startswith("kkk") and len(field) <= 103, field
    assert len(problem["detail"]) < 300, problem


@pytest.mark.parametrize("query", ["limit=1&limit=2", "customer_id=C1&customer_id=C2"])
def test_a_query_parameter_given_twice_is_refused_and_named(seeded: Api, query: str) -> None:
    r = seeded.client.get(f"/v1/orders?{query}", headers=seeded.headers())
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_request"
    assert [e["field"] for e in body["errors"]] == [query.split("=")[0]]
