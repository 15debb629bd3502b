"""The scope matrix over every route of the app, key storage, and what error bodies may never show.

Routes are enumerated from the app itself with their `opt['scope']`, so a new route is covered as soon
as it exists; a route without a scope must be on API.md's public list.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler
from litestar.testing import TestClient

import infra.adapters.keys
from api.app import check_guarded, create_app, guard
from infra.adapters.keys import SCOPES, KeyRing, api_keys
from infra.service import Service
from tests.conftest import ADMIN_KEY, make_settings
from tests.http import problem

# API.md, Conventions/Auth: "on everything except `/healthz`, `/readyz`, `/metrics`, `/schema*`, `/ops`".
PUBLIC = ("/healthz", "/readyz", "/metrics", "/schema*", "/ops")
API_MD = Path(__file__).resolve().parents[3] / "shared" / "API.md"
FORBIDDEN_IN_ERRORS = ("Traceback", "SELECT ", "INSERT ", "sqlalchemy", "psycopg")
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def is_public(path: str) -> bool:
    return any(path.startswith(p[:-1]) if p.endswith("*") else path == p for p in PUBLIC)


def routes(app: Litestar) -> list[tuple[str, str, str | None]]:
    """(method, path template, scope) for every handler of the app, OPTIONS and HEAD aside."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path, handler.opt.get("scope")))
    return sorted(found)


def concrete(path: str) -> str:
    """A path with every parameter replaced by a well-formed id."""
    return _PARAM.sub("X-1", path)


def scan(bodies: list[str]) -> None:
    for body in bodies:
        leaked = [word for word in FORBIDDEN_IN_ERRORS if word in body]
        assert not leaked, f"{leaked} in an error body: {body}"


class Keys:
    """Real keys made with the KeyRing: one per scope, and one holding every scope but that one."""

    def __init__(self, ring: KeyRing) -> None:
        self.only: dict[str, str] = {}
        self.all_but: dict[str, str] = {}
        for scope in sorted(SCOPES):
            self.only[scope] = ring.create(f"only-{scope.replace(':', '-')}", frozenset({scope}))
            others = SCOPES - {scope, "admin"}
            self.all_but[scope] = ring.create(f"all-but-{scope.replace(':', '-')}", frozenset(others))


@pytest.fixture
def world(database_url: str) -> Iterator[tuple[TestClient[Any], Service, Keys]]:
    with TestClient(create_app(make_settings(database_url))) as client:
        svc: Service = client.app.state.service
        yield client, svc, Keys(svc.keys)


def _call(client: TestClient[Any], method: str, path: str, key: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if method in ("POST", "PUT", "PATCH"):
        return client.request(method, path, json={}, headers=headers)
    return client.request(method, path, headers=headers)


def test_the_public_list_is_the_one_in_api_md() -> None:
    if not API_MD.exists():
        pytest.skip(f"{API_MD} is not beside the repository")
    text = API_MD.read_text()
    sentence = text[text.index("on everything except") : text.index("Missing/unknown key")]
    assert tuple(re.findall(r"`(/[^`]*)`", sentence)) == PUBLIC


def test_every_route_declares_a_known_scope_or_is_public() -> None:
    app = create_app(make_settings("sqlite:///unused.db"), workers=False)
    table = routes(app)
    assert len(table) > 30
    undeclared = [(m, p) for m, p, scope in table if scope is None and not is_public(p)]
    assert not undeclared, f"routes without opt['scope'] that API.md does not list as public: {undeclared}"
    unknown = [(m, p, scope) for m, p, scope in table if scope is not None and scope not in SCOPES]
    assert not unknown, unknown


def test_a_route_with_a_before_request_hook_of_its_own_is_refused_at_start() -> None:
    """Its hook would replace the app's guard (the nearest layer's wins), scope check included."""

    async def own_hook(request: Any) -> None:
        return None

    @get("/v1/unguarded", before_request=own_hook, sync_to_thread=False, opt={"scope": "catalog:read"})
    def unguarded() -> dict[str, str]:
        return {}

    @get("/v1/guarded", sync_to_thread=False, opt={"scope": "catalog:read"})
    def guarded() -> dict[str, str]:
        return {}

    check_guarded(Litestar(route_handlers=[guarded], before_request=guard))
    with pytest.raises(RuntimeError, match=r"\['GET'\] /v1/unguarded"):
        check_guarded(Litestar(route_handlers=[guarded, unguarded], before_request=guard))


def test_every_route_answers_401_without_a_key_403_with_a_wrong_scope_and_serves_the_right_one(
    world: tuple[TestClient[Any], Service, Keys],
) -> None:
    client, _, keys = world
    errors: list[str] = []
    checked = 0
    for method, path, scope in routes(client.app):
        if scope is None:
            continue
        url = concrete(path)
        no_key = _call(client, method, url, None)
        problem(no_key, 401, "unauthenticated")
        assert no_key.headers["www-authenticate"] == "Bearer"
        unknown = _call(client, method, url, "o2c_not-a-real-key-0123456789")
        problem(unknown, 401, "unauthenticated")

        wrong = _call(client, method, url, keys.all_but[scope])
        problem(wrong, 403, "forbidden")
        if scope != "read":  # a write scope does not imply read, nor read a write scope
            problem(_call(client, method, url, keys.only["read"]), 403, "forbidden")

        for key in (keys.only[scope], keys.only["admin"], ADMIN_KEY):
            right = _call(client, method, url, key)
            assert right.status_code not in (401, 403), (method, url, right.text)
            if right.status_code >= 400:
                assert right.headers["content-type"].startswith("application/problem+json"), (method, url)
                errors.append(right.text)
        errors += [no_key.text, unknown.text, wrong.text]
        checked += 1
    assert checked > 30
    scan(errors)


def test_public_routes_answer_without_a_key(world: tuple[TestClient[Any], Service, Keys]) -> None:
    client, _, _ = world
    for method, path, scope in routes(client.app):
        if scope is None and method == "GET" and "{" not in path:
            response = client.get(path)
            assert response.status_code not in (401, 403), (path, response.text)


def test_keys_are_stored_only_as_sha256_hashes(world: tuple[TestClient[Any], Service, Keys]) -> None:
    _, svc, keys = world
    issued = {**{f"only:{s}": k for s, k in keys.only.items()}, **{f"but:{s}": k for s, k in keys.all_but.items()}}
    with svc.keys.engine.connect() as conn:
        rows = conn.execute(sa.select(api_keys)).mappings().all()
    assert len(rows) == len(issued)
    stored = " ".join(str(value) for row in rows for value in row.values())
    for key in [*issued.values(), ADMIN_KEY]:
        assert key not in stored
        assert key.removeprefix("o2c_") not in stored
    assert {row["key_hash"] for row in rows} == {hashlib.sha256(k.encode()).hexdigest() for k in issued.values()}
    assert ADMIN_KEY not in repr(vars(svc.keys))  # the bootstrap key is held as its digest too


def test_the_bootstrap_key_is_compared_in_constant_time(
    world: tuple[TestClient[Any], Service, Keys], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, svc, _ = world
    real = infra.adapters.keys.hmac.compare_digest
    calls: list[tuple[Any, Any]] = []

    def recording(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(infra.adapters.keys.hmac, "compare_digest", recording)
    principal = svc.keys.authenticate(ADMIN_KEY)
    assert principal is not None and principal.name == "admin"
    assert calls and all(len(a) == len(b) == 64 for a, b in calls)  # digests, never the key itself
    calls.clear()
    assert svc.keys.authenticate("test-admin-key-0123456780") is None
    assert calls, "a wrong key must go through the same comparison"


def test_internal_failures_answer_problems_without_traces_or_sql(world: tuple[TestClient[Any], Service, Keys]) -> None:
    """Drop every table under the running service, then ask each route: failures, but nothing leaks."""
    client, svc, _ = world
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    assert client.put("/v1/warehouses/W-A", json={"name": "A"}, headers=admin).status_code == 201
    engine = svc.keys.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("SET lock_timeout = '10s'"))
        cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""
        for table in sa.inspect(conn).get_table_names():
            conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"{cascade}'))
    bodies: list[str] = []
    failures = 0
    for method, path, scope in routes(client.app):
        if scope is None or "rebuild" in path:
            continue
        body = {"name": "B"} if path.startswith("/v1/warehouses") else {}
        sent = body if method in ("POST", "PUT") else None
        response = client.request(method, concrete(path), json=sent, headers=admin)
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json"), (path, response.text)
            bodies.append(response.text)
        if response.status_code >= 500:
            failures += 1
    assert failures > 0, "dropping the tables made nothing fail: the test reached no internal failure"
    scan(bodies)
