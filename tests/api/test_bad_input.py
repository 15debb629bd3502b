"""A table of bad requests across the command endpoints.

Every row must be answered with the expected 4xx as an RFC 9457 problem document, and nothing may be
recorded: the global head of the event log is the same before and after the request. The rows are in
tests/api/bad_input_cases.py, the endpoints they break in tests/api/bad_requests.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from infra.service import Service
from tests.api.bad_input_cases import CASES
from tests.api.bad_requests import ENDPOINTS, Bad
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
    seed,
    settle,
)

# --- the world the table runs against ----------------------------------------------------------


def build(api: Api) -> None:
    """Seeded data plus stock, order SO-1 (5 x BOLT-10 from W-A), shipment SH-1 (2) and transfer T-1."""
    seed(api)
    ok = [
        api.post(
            "/v1/inventory/receipts",
            {"receipt_id": "R-0", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 10}]},
        ),
        api.post(
            "/v1/orders",
            {
                "order_id": "SO-1",
                "customer_id": "C1",
                "channel": "web",
                "warehouse_id": "W-A",
                "lines": [{"sku": "BOLT-10", "qty": 5}],
            },
        ),
        api.post(
            "/v1/shipments",
            {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 2}]},
        ),
        api.post(
            "/v1/inventory/transfers",
            {"transfer_id": "T-1", "from_warehouse_id": "W-A", "to_warehouse_id": "W-B", "sku": "BOLT-10", "qty": 1},
        ),
    ]
    for r in ok:
        assert r.status_code == 201, r.text


class World:
    """One world per store, shared by the table's rows (hundreds of rows x two stores would otherwise
    spend minutes creating databases). A row that records anything marks the world dirty, and the
    next row gets a fresh database, so one failure cannot leak into the rows after it."""

    def __init__(self, store: str, tmp: pytest.TempPathFactory) -> None:
        self.store = store
        self.tmp = tmp
        self.dirty = True
        self.client: TestClient[Any] | None = None
        self.database: str | None = None
        self.api: Api | None = None

    def get(self) -> tuple[Api, Service]:
        if self.dirty:
            self.close()
            self.client = TestClient(create_app(make_settings(self._create_database())))
            self.client.__enter__()
            self.api = Api(self.client)
            build(self.api)
            self.dirty = False
        assert self.client is not None and self.api is not None
        svc: Service = self.client.app.state.service
        return self.api, svc

    def _create_database(self) -> str:
        if self.store == "sqlite":
            return f"sqlite:///{self.tmp.mktemp('bad-input') / 'o2c.db'}"
        self.database, url = create_pg_database()
        return url

    def close(self) -> None:
        if self.client is not None:
            self.client.__exit__(None, None, None)
            self.client = None
        if self.database is not None:
            drop_pg_database(self.database)
            self.database = None


@pytest.fixture(scope="module", params=_stores())
def worlds(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    if request.param == "postgres" and not _pg_answers():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT} and CI=true requires it")
        pytest.skip(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT}")
    world = World(request.param, tmp_path_factory)
    yield world
    world.close()


@pytest.mark.parametrize("b", CASES)
def test_a_bad_request_is_answered_with_a_problem_and_records_nothing(worlds: World, b: Bad) -> None:
    api, svc = worlds.get()
    headers = {"Authorization": f"Bearer {ADMIN_KEY}", **dict(b.headers)}
    if b.content_type is not None:
        headers["Content-Type"] = b.content_type
    content = b.raw if b.raw is not None else json.dumps(b.body).encode()
    before = settle(svc, quiet=0.05)

    r = api.client.request(b.method, b.path, content=content, headers=headers)

    after = svc.store.head()
    if after != before:
        worlds.dirty = True
    assert r.status_code in b.status, r.text
    assert r.headers["content-type"].split(";")[0].strip() == "application/problem+json", r.headers
    problem = r.json()
    for key in ("type", "title", "status", "detail", "code"):
        assert key in problem, problem
    assert problem["status"] == r.status_code
    assert problem["code"] in b.codes, problem
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    if r.status_code == 422 and problem["code"] == "invalid_request":
        errors = problem.get("errors")
        assert isinstance(errors, list) and errors, problem
        for error in errors:
            assert isinstance(error.get("field"), str), error
            assert isinstance(error.get("message"), str) and error["message"], error
    assert after == before, f"something was recorded for {b.method} {b.path}"


def test_the_table_covers_every_command_endpoint() -> None:
    covered = {(p.values[0].method, p.values[0].path) for p in CASES}
    for name, (method, path, _) in ENDPOINTS.items():
        assert (method, path) in covered, name
