"""The key API (API.md "Customer-scoped keys, expiry and rotation"): create, list, read with history,
revoke, rotate with a grace, expiry, bad input; on both stores, with the real app and the service's clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from api.app import create_app
from infra.adapters.keys import api_keys
from infra.clock import FixedClock
from infra.eventstore.feed import read_feed
from infra.ledger.kinds import API_KEY
from infra.service import Service
from infra.settings import RateLimit
from tests.conftest import ADMIN_KEY, Api, make_settings, seed
from tests.http import ok, problem

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def admin(database_url: str) -> Iterator[Api]:
    with TestClient(create_app(make_settings(database_url), workers=False)) as client:
        service_of(Api(client)).clock = FixedClock(NOW)
        api = Api(client)
        seed(api)
        yield api


def service_of(api: Api) -> Service:
    svc: Service = api.client.app.state.service
    return svc


def status(api: Api, key: str, path: str = "/v1/products/BOLT-10") -> int:
    return api.get(path, key=key).status_code


def create(api: Api, **body: Any) -> dict[str, Any]:
    return ok(api.post("/v1/admin/keys", {"scopes": ["read"], **body}))


def test_a_key_is_created_shown_once_listed_without_it_and_read_with_its_history(admin: Api) -> None:
    made = create(admin, name="portal-acme", customers=["C2", "C1"], expires_at="2027-01-31T00:00:00+01:00")
    assert made["key"].startswith("o2c_")
    assert {k: v for k, v in made.items() if k != "key"} == {
        "name": "portal-acme",
        "scopes": ["read"],
        "customers": ["C1", "C2"],
        "expires_at": "2027-01-30T23:00:00Z",
        "created_at": "2026-12-02T09:00:00Z",
        "previous_valid_until": None,
    }
    assert status(admin, made["key"]) == 200
    listed = ok(admin.get("/v1/admin/keys"), 200)
    assert [k["name"] for k in listed["items"]] == ["portal-acme"] and listed["next_after"] is None
    assert made["key"] not in str(listed)
    detail = ok(admin.get("/v1/admin/keys/portal-acme"), 200)
    assert detail["status"] == "active" and detail["customers"] == ["C1", "C2"]
    assert detail["history"] == [{"type": "ApiKeyCreated", "at": "2026-12-02T09:00:00Z", "actor": "admin"}]
    problem(admin.get("/v1/admin/keys/nobody"), 404, "not_found")


def test_revocation_and_rotation_are_recorded_by_whom_and_the_key_never_is(admin: Api) -> None:
    made = create(admin, name="portal-acme", customers=["C1"])
    ops = create(admin, name="ops", scopes=["admin"])["key"]
    rotated = ok(admin.post("/v1/admin/keys/portal-acme/rotate", {"grace_seconds": 60}, key=ops), 200)
    assert rotated["previous_valid_until"] == "2026-12-02T09:01:00Z" and rotated["customers"] == ["C1"]
    assert admin.client.delete("/v1/admin/keys/portal-acme", headers=admin.headers()).status_code == 204
    assert admin.client.delete("/v1/admin/keys/portal-acme", headers=admin.headers()).status_code == 204
    history = ok(admin.get("/v1/admin/keys/portal-acme"), 200)["history"]
    assert [(h["type"], h["actor"]) for h in history] == [
        ("ApiKeyCreated", "admin"),
        ("ApiKeyRotated", "ops"),
        ("ApiKeyRevoked", "admin"),
    ]
    assert status(admin, made["key"]) == 401 and status(admin, rotated["key"]) == 401
    svc = service_of(admin)
    recorded = svc.store.history(API_KEY.stream_id("portal-acme"))
    text = " ".join(str(r.event) for r in recorded)
    for key in (made["key"], rotated["key"]):
        assert key not in text and key.removeprefix("o2c_") not in text
    feed, _ = read_feed(svc.store, 0, 1000)
    assert not [e for e in feed if "ApiKey" in e["type"]], "the keys' audit trail is internal, not in the feed"


def test_a_rotated_key_works_until_its_grace_ends_and_its_successor_at_once(admin: Api) -> None:
    old = create(admin, name="portal-acme")["key"]
    new = ok(admin.post("/v1/admin/keys/portal-acme/rotate"), 200)
    assert new["previous_valid_until"] == "2026-12-03T09:00:00Z"  # the default grace: one day
    assert status(admin, old) == 200 and status(admin, new["key"]) == 200
    clock = service_of(admin).clock
    assert isinstance(clock, FixedClock)
    clock.advance(seconds=86399)
    assert status(admin, old) == 200
    clock.advance(seconds=1)
    assert status(admin, old) == 401 and status(admin, new["key"]) == 200
    newest = ok(admin.post("/v1/admin/keys/portal-acme/rotate", {"grace_seconds": 0}), 200)["key"]
    assert status(admin, new["key"]) == 401 and status(admin, newest) == 200


def test_an_expired_key_is_unauthenticated_and_cannot_be_rotated(admin: Api) -> None:
    key = create(admin, name="temp", expires_at="2026-12-02T10:00:00Z")["key"]
    assert status(admin, key) == 200
    clock = service_of(admin).clock
    assert isinstance(clock, FixedClock)
    clock.advance(seconds=3600)
    problem(admin.get("/v1/products/BOLT-10", key=key), 401, "unauthenticated")
    assert ok(admin.get("/v1/admin/keys/temp"), 200)["status"] == "expired"
    problem(admin.post("/v1/admin/keys/temp/rotate"), 409, "key_expired")
    admin.client.delete("/v1/admin/keys/temp", headers=admin.headers())
    problem(admin.post("/v1/admin/keys/temp/rotate"), 409, "key_revoked")
    problem(admin.post("/v1/admin/keys/nobody/rotate"), 404, "not_found")
    assert admin.client.delete("/v1/admin/keys/nobody", headers=admin.headers()).status_code == 404


@pytest.mark.parametrize(
    ("body", "status_code", "code"),
    [
        ({"scopes": ["read", "superuser"]}, 422, "invalid_request"),
        ({"scopes": []}, 422, "invalid_request"),
        ({"expires_at": "2026-12-02T08:59:59Z"}, 422, "invalid_request"),
        ({"expires_at": "2026-12-02T09:00:00Z"}, 422, "invalid_request"),
        ({"expires_at": "tomorrow"}, 422, "invalid_request"),
        ({"expires_at": "2026-12-31"}, 422, "invalid_request"),
        ({"expires_at": "2026-13-01T00:00:00Z"}, 422, "invalid_request"),
        ({"customers": ["C1", "C-NOBODY"]}, 422, "unknown_customer"),
        ({"customers": []}, 422, "invalid_request"),
        ({"name": "bad name"}, 422, "invalid_request"),
        ({"name": "taken"}, 409, "duplicate_id"),
        ({"key": "my-own-key"}, 422, "invalid_request"),
    ],
)
def test_bad_input_is_a_problem_and_creates_nothing(
    admin: Api, body: dict[str, Any], status_code: int, code: str
) -> None:
    create(admin, name="taken")
    svc = service_of(admin)
    head = svc.store.head()
    with svc.engine.connect() as conn:
        before = conn.execute(sa.select(api_keys.c.name)).scalars().all()
    sent = {"name": body.get("name", "portal-new"), "scopes": ["read"], **body}
    answer = problem(admin.post("/v1/admin/keys", sent), status_code, code)
    assert answer["detail"]
    assert svc.store.head() == head, "a refused key recorded an event"
    with svc.engine.connect() as conn:
        assert conn.execute(sa.select(api_keys.c.name)).scalars().all() == before


def test_bad_rotations_are_problems(admin: Api) -> None:
    create(admin, name="portal-acme")
    for grace in (-1, "60", 10**9, 1.5):
        problem(admin.post("/v1/admin/keys/portal-acme/rotate", {"grace_seconds": grace}), 422, "invalid_request")
    assert len(ok(admin.get("/v1/admin/keys/portal-acme"), 200)["history"]) == 1


def test_a_key_made_before_the_audit_trail_is_rotated_and_revoked_with_its_creation_recorded(admin: Api) -> None:
    old = service_of(admin).keys.create("legacy", frozenset({"read"}))  # as an older version stored it
    assert ok(admin.get("/v1/admin/keys/legacy"), 200)["history"] == []
    problem(admin.post("/v1/admin/keys", {"name": "legacy", "scopes": ["read"]}), 409, "duplicate_id")
    new = ok(admin.post("/v1/admin/keys/legacy/rotate", {"grace_seconds": 0}), 200)["key"]
    assert status(admin, old) == 401 and status(admin, new) == 200
    history = ok(admin.get("/v1/admin/keys/legacy"), 200)["history"]
    assert [h["type"] for h in history] == ["ApiKeyCreated", "ApiKeyRotated"]


def test_a_rotated_key_shares_its_rate_limit_bucket_with_its_successor(database_url: str) -> None:
    settings = make_settings(database_url, rate_limit=RateLimit(per_second=0.01, burst=4))
    with TestClient(create_app(settings, workers=False)) as client:
        api = Api(client)
        old = create(api, name="portal-acme")["key"]
        new = ok(api.post("/v1/admin/keys/portal-acme/rotate"), 200)["key"]
        assert [status(api, k) for k in (old, new, old, new)] == [404, 404, 404, 404]
        problem(api.get("/v1/products/BOLT-10", key=new), 429, "rate_limited")
        problem(api.get("/v1/products/BOLT-10", key=old), 429, "rate_limited")
        assert status(api, ADMIN_KEY) == 404  # another key's bucket is untouched


def test_o2c_keys_create_takes_customers_and_an_expiry(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.cli import main

    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_ADMIN_KEY", ADMIN_KEY)
    with TestClient(create_app(make_settings(database_url), workers=False)) as client:
        seed(Api(client))
    later = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    args = ["keys", "create", "--name", "portal-acme", "--scopes", "read,orders:write", "--customers", "C1,C2"]
    assert main([*args, "--expires-at", later]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert main(["keys", "create", "--name", "x", "--scopes", "read", "--customers", "C9"]) == 2
    assert "C9" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "y", "--scopes", "read", "--expires-at", "2020-01-01T00:00:00Z"]) == 2
    assert main(["keys", "create", "--name", "y", "--scopes", "read", "--expires-at", "soon"]) == 2
    assert main(["keys", "create", "--name", "y", "--scopes", "read,root"]) == 2
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    assert "portal-acme\torders:write,read\tcustomers C1,C2\tactive" in capsys.readouterr().out
    with TestClient(create_app(make_settings(database_url), workers=False)) as client:
        api = Api(client)
        assert status(api, key, "/v1/customers/C1") == 200
        problem(api.get("/v1/customers/C2x", key=key), 404, "not_found")
        history = ok(api.get("/v1/admin/keys/portal-acme"), 200)["history"]
        assert [(h["type"], h["actor"]) for h in history] == [("ApiKeyCreated", "cli")]
    assert main(["keys", "rotate", "portal-acme", "--grace-seconds", "0"]) == 0
    assert main(["keys", "revoke", "portal-acme"]) == 0
    assert main(["keys", "revoke", "portal-acme"]) == 1
