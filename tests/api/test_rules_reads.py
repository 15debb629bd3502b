"""The API rules of reads and access, over HTTP, as API.md states them: unknown things answer
404, keys and scopes, the public routes and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from infra.service import Service
from tests.api import rules
from tests.api.rules import atp
from tests.conftest import Api, settle, wait_until
from tests.http import line, ok, problem

svc = rules.svc  # the fixture of tests/api/rules.py


# --- reads --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/v1/products/NOPE-1",
        "/v1/warehouses/W-NOPE",
        "/v1/customers/C-NOPE",
        "/v1/customers/C1/prices/NUT-4",
        "/v1/orders/SO-NOPE",
        "/v1/orders/SO-NOPE/history",
        "/v1/shipments/SH-NOPE",
    ],
)
def test_reading_something_unknown_answers_404_not_found(seeded: Api, path: str) -> None:
    problem(seeded.get(path), 404, "not_found")


def test_atp_of_an_unknown_sku_is_404_unknown_sku(seeded: Api) -> None:
    problem(seeded.get("/v1/atp/NOPE-1"), 404, "unknown_sku")


def test_atp_of_a_known_sku_never_stocked_is_all_zeros(seeded: Api) -> None:
    view = atp(seeded, "NUT-4")
    assert view["sku"] == "NUT-4"
    figures = ("on_hand", "reserved", "available", "in_transit", "backordered")
    assert {k: view[k] for k in figures} == dict.fromkeys(figures, 0)
    assert view["warehouses"] == []
    assert isinstance(view["position"], int)


# --- auth and public routes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no Authorization header"),
        pytest.param("Bearer not-a-real-key", id="an unknown key"),
        pytest.param("Bearer ", id="an empty bearer token"),
        pytest.param("Basic dXNlcjpwYXNz", id="another scheme"),
    ],
)
def test_a_request_without_a_valid_key_is_401_unauthenticated(
    seeded: Api, svc: Service, authorization: str | None
) -> None:
    api = seeded
    headers = {} if authorization is None else {"Authorization": authorization}
    problem(api.client.get("/v1/products/BOLT-10", headers=headers), 401, "unauthenticated")
    before = settle(svc)
    body = {"customer_id": "C1", "channel": "web", "lines": [line("BOLT-10", 1)]}
    problem(api.client.post("/v1/orders", json=body, headers=headers), 401, "unauthenticated")
    assert settle(svc) == before


def test_a_revoked_key_is_401_unauthenticated(seeded: Api, svc: Service) -> None:
    api = seeded
    key = svc.keys.create("temp", frozenset({"read"}))
    ok(api.get("/v1/products/BOLT-10", key=key), 200)
    assert svc.keys.revoke("temp")
    assert wait_until(lambda: api.get("/v1/products/BOLT-10", key=key).status_code == 401, timeout=2)
    problem(api.get("/v1/products/BOLT-10", key=key), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("scopes", "method", "path", "body"),
    [
        pytest.param({"read"}, "PUT", "/v1/products/X-1", {"name": "x", "unit_price": "1.00"}, id="read cannot PUT"),
        pytest.param(
            {"read"},
            "POST",
            "/v1/inventory/receipts",
            {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 1)]},
            id="read cannot receive stock",
        ),
        pytest.param(
            {"catalog:write"},
            "POST",
            "/v1/orders",
            {"customer_id": "C1", "channel": "web", "lines": [line("BOLT-10", 1)]},
            id="catalog:write cannot place orders",
        ),
        pytest.param({"orders:write"}, "GET", "/v1/products/BOLT-10", None, id="a write scope does not imply read"),
        pytest.param(
            {"orders:write"},
            "POST",
            "/v1/shipments",
            {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [line("BOLT-10", 1)]},
            id="orders:write cannot ship",
        ),
        pytest.param({"orders:write"}, "POST", "/v1/orders/SO-1/release-hold", {}, id="release-hold needs finance"),
        pytest.param(
            {"finance:write", "read"},
            "POST",
            "/v1/orders",
            {"customer_id": "C1", "channel": "web", "lines": [line("BOLT-10", 1)]},
            id="finance:write cannot place orders",
        ),
    ],
)
def test_a_key_without_the_scope_is_403_forbidden(
    seeded: Api, svc: Service, scopes: set[str], method: str, path: str, body: Any
) -> None:
    api = seeded
    key = svc.keys.create("limited", frozenset(scopes))
    before = settle(svc)
    r = api.client.request(method, path, json=body, headers=api.headers(key=key))
    problem(r, 403, "forbidden")
    assert settle(svc) == before


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/schema/openapi.json"])
def test_operations_routes_answer_without_a_key(client: TestClient[Any], path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200, r.text


def test_the_openapi_document_describes_the_v1_api(client: TestClient[Any]) -> None:
    doc = client.get("/schema/openapi.json").json()
    assert doc["openapi"].startswith("3.1")
    for path in ("/v1/orders", "/v1/inventory/receipts", "/v1/shipments", "/v1/atp/{sku}"):
        assert path in doc["paths"], sorted(doc["paths"])
