"""Shared fixtures: every store-facing test runs on SQLite and on PostgreSQL.

PostgreSQL tests create and drop a database of their own. Outside CI they skip with a reason when no
server answers; with CI=true a missing server is an error. O2C_TEST_STORES=sqlite (or postgres)
narrows the run to one store.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar
from litestar.testing import TestClient

from api.app import create_app, rebind
from infra.service import Service
from infra.settings import Settings

ADMIN_KEY = "test-admin-key-0123456789"
PG_HOST = os.environ.get("O2C_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("O2C_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("O2C_TEST_PG_USER", "postgres")
# Two PostgreSQL tests run at once (one per xdist worker), each with a service or several, against the
# server's 100 connections: a test's pools keep 3 connections open and open at most 12 more on demand.
# The environment carries it to the servers and workers the tests start as processes.
TEST_POOL = {"db_pool_size": 3, "db_max_overflow": 12}
os.environ.setdefault("O2C_DB_POOL_SIZE", str(TEST_POOL["db_pool_size"]))
os.environ.setdefault("O2C_DB_MAX_OVERFLOW", str(TEST_POOL["db_max_overflow"]))


def _stores() -> list[str]:
    wanted = os.environ.get("O2C_TEST_STORES", "sqlite,postgres")
    return [s.strip() for s in wanted.split(",") if s.strip()]


def _pg_answers() -> bool:
    try:
        with socket.create_connection((PG_HOST, PG_PORT), timeout=1):
            return True
    except OSError:
        return False


def _admin_engine() -> sa.Engine:
    return sa.create_engine(
        f"postgresql+psycopg://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres", isolation_level="AUTOCOMMIT"
    )


def create_pg_database(prefix: str = "o2c_test", template: str | None = None) -> tuple[str, str]:
    """A new PostgreSQL database of this test run: (name, URL), empty or a copy of `template`. Drop it
    with drop_pg_database."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    admin = _admin_engine()
    try:
        for attempt in range(50):
            try:
                with admin.connect() as conn:
                    conn.execute(sa.text(f'CREATE DATABASE "{name}"{copy}'))
                break
            except sa.exc.OperationalError as exc:  # the template's last session is still ending
                if "being accessed by other users" not in str(exc) or attempt == 49:
                    raise
                time.sleep(0.1)
    finally:
        admin.dispose()
    return name, f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"


_TEMPLATES: dict[str, str] = {}  # store -> a database of this process with the service's tables and no events


def _template(store: str, factory: pytest.TempPathFactory) -> str:
    """The schema a service creates on its first start, made once per test process: each test's database
    is a copy of it (a copied file, CREATE DATABASE ... TEMPLATE), which is 0.2 s (SQLite) to 0.6 s
    (PostgreSQL) less per test than creating the tables. Copies are what a first start leaves: tables,
    no events; the tests of a first start on an empty database make their own (create_pg_database)."""
    if store not in _TEMPLATES:
        if store == "sqlite":
            path = factory.mktemp("template") / "o2c.db"
            url = f"sqlite:///{path}"
            _TEMPLATES[store] = str(path)
        else:
            _TEMPLATES[store], url = create_pg_database("o2c_template")
        Service.start(make_settings(url)).close()  # closed: a SQLite file whole, no session on the template
    return _TEMPLATES[store]


@pytest.fixture(scope="session", autouse=True)
def _drop_templates() -> Iterator[None]:
    yield
    if "postgres" in _TEMPLATES:
        drop_pg_database(_TEMPLATES.pop("postgres"))


def drop_pg_database(name: str) -> None:
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=_stores())
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh database on each store: the service's tables, no events."""
    if request.param == "sqlite":
        shutil.copyfile(_template("sqlite", tmp_path_factory), tmp_path / "o2c.db")
        yield f"sqlite:///{tmp_path / 'o2c.db'}"
        return
    if not _pg_answers():
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT} and CI=true requires it")
        pytest.skip(f"PostgreSQL does not answer on {PG_HOST}:{PG_PORT}")
    name, url = create_pg_database(template=_template("postgres", tmp_path_factory))
    try:
        yield url
    finally:
        drop_pg_database(name)


def make_settings(database_url: str, **overrides: Any) -> Settings:
    return Settings(database_url=database_url, admin_key=ADMIN_KEY, **{**TEST_POOL, **overrides})


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


class Api:
    """A thin client that sends the admin key (or another) and JSON."""

    def __init__(self, client: httpx.Client | TestClient[Any], key: str = ADMIN_KEY) -> None:
        self.client = client
        self.key = key

    def headers(self, extra: dict[str, str] | None = None, key: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}", **(extra or {})}

    def get(self, path: str, key: str | None = None, **params: Any) -> httpx.Response:
        return self.client.get(path, params=params or None, headers=self.headers(key=key))

    def post(
        self, path: str, body: Any = None, headers: dict[str, str] | None = None, key: str | None = None
    ) -> httpx.Response:
        return self.client.post(path, json=body if body is not None else {}, headers=self.headers(headers, key))

    def put(self, path: str, body: Any, key: str | None = None) -> httpx.Response:
        return self.client.put(path, json=body, headers=self.headers(key=key))


_APPS: dict[tuple[str, bool], tuple[Litestar, int]] = {}  # by settings but the database: (app, starts when handed out)


def app_for(settings: Settings, workers: bool = True) -> Litestar:
    """The real app for `settings`, started by the caller (TestClient, uvicorn). Building its routes
    costs 0.3-0.6 s, more than most tests, so a stopped app built on the same settings for another
    database is started again on this one (`rebind`: every start is a new service, rate-limit
    buckets included). A test that registers routes of its own calls create_app instead."""
    key = (repr(replace(settings, database_url="")), workers)
    app, handed_out_at = _APPS.get(key, (None, 0))
    provided = app.state.provided if app is not None else None
    if provided is None or provided.started is not None or provided.starts == handed_out_at:
        app = create_app(settings, workers)  # none yet, or the last one handed out is running or not yet started
        provided = app.state.provided
    rebind(app, settings)
    _APPS[key] = (app, provided.starts)
    return app


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient[Any]]:
    with TestClient(app_for(settings)) as c:
        yield c


@pytest.fixture
def api(client: TestClient[Any]) -> Api:
    return Api(client)


def wait_until(predicate: Any, timeout: float = 5.0, interval: float = 0.02) -> Any:
    """Poll until predicate() is truthy (for workflows that act within seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(settings: Settings) -> Iterator[str]:
    """The real app served by uvicorn on a local port; yields its base URL."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app_for(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    assert wait_until(lambda: _answers(base), timeout=15), "server did not start"
    yield base
    server.should_exit = True
    thread.join(15)


def _answers(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def seeded(api: Api) -> Api:
    """Warehouses W-A, W-B, W-C; products BOLT-10 (8.50) and NUT-4 (0.25); customers C1, C2."""
    seed(api)
    return api


def seed(api: Api) -> None:
    for wh in ("W-A", "W-B", "W-C"):
        assert api.put(f"/v1/warehouses/{wh}", {"name": f"Warehouse {wh}"}).status_code == 201
    assert api.put("/v1/products/BOLT-10", {"name": "Bolt 10mm", "unit_price": "8.50"}).status_code == 201
    assert api.put("/v1/products/NUT-4", {"name": "Nut M4", "unit_price": "0.25"}).status_code == 201
    for cid in ("C1", "C2"):
        body = {"name": f"Customer {cid}", "credit_limit": "100000.00", "tax_region": "CA", "status": "active"}
        assert api.put(f"/v1/customers/{cid}", body).status_code == 201


def settle(svc: Any, quiet: float = 0.25) -> int:
    """Wait until the background workers are idle (followers caught up, the head still for `quiet` s)."""
    runner = svc.runner
    followers = runner.followers if runner is not None else []
    last = -1
    deadline = time.monotonic() + 40  # bounds for a loaded CI machine, not a speed
    while time.monotonic() < deadline:
        assert wait_until(lambda: all(f.position() >= svc.store.head() for f in followers), timeout=30)
        head = int(svc.store.head())
        if head == last:
            return head
        last = head
        time.sleep(quiet)
    raise AssertionError("the background workers did not go idle")
