"""Webhook management over HTTP (API.md "Webhooks (scope admin)"), on both stores: create with a
secret shown once, list, get, put, delete, rotate; the URL guard at creation; the retry schedule
checked at start-up."""

from __future__ import annotations

import base64

import pytest

from infra.adapters.webhooks import UrlNotAllowedError, check_url
from infra.settings import ConfigError, load_settings
from tests.conftest import Api
from tests.http import ok, problem

PUBLIC = "https://93.184.215.14/hooks/o2c"  # a public address literal: no DNS needed


def create(api: Api, webhook_id: str = "crm", url: str = PUBLIC, types: list[str] | None = None) -> dict:
    body = {"webhook_id": webhook_id, "url": url, "event_types": types or ["OrderPlaced"], "description": "CRM"}
    return ok(api.post("/v1/webhooks", body), 201)


def test_a_created_webhook_shows_its_secret_once(api: Api) -> None:
    made = create(api)
    assert made["status"] == "enabled" and made["event_types"] == ["OrderPlaced"] and made["description"] == "CRM"
    assert made["secret"].startswith("whsec_")
    assert 24 <= len(base64.b64decode(made["secret"].removeprefix("whsec_"))) <= 64
    assert isinstance(made["position"], int) and made["created_at"].endswith("Z")
    got = ok(api.get("/v1/webhooks/crm"), 200)
    assert "secret" not in got and got["url"] == PUBLIC
    listed = ok(api.get("/v1/webhooks"), 200)
    assert [w["webhook_id"] for w in listed["items"]] == ["crm"] and listed["next_after"] is None
    assert all("secret" not in w for w in listed["items"])


def test_webhooks_are_listed_in_pages(api: Api) -> None:
    for name in ("a", "b", "c"):
        create(api, name)
    first = ok(api.get("/v1/webhooks", limit=2), 200)
    assert [w["webhook_id"] for w in first["items"]] == ["a", "b"] and first["next_after"] == "b"
    rest = ok(api.get("/v1/webhooks", limit=2, after="b"), 200)
    assert [w["webhook_id"] for w in rest["items"]] == ["c"] and rest["next_after"] is None


def test_put_replaces_and_delete_removes(api: Api) -> None:
    create(api)
    body = {"url": PUBLIC + "/v2", "event_types": ["*"], "status": "disabled"}
    changed = ok(api.put("/v1/webhooks/crm", body), 200)
    assert changed["url"].endswith("/v2") and changed["event_types"] == ["*"] and changed["status"] == "disabled"
    assert changed["description"] is None
    assert api.client.delete("/v1/webhooks/crm", headers=api.headers()).status_code == 204
    problem(api.get("/v1/webhooks/crm"), 404, "not_found")
    problem(api.put("/v1/webhooks/crm", body), 404, "not_found")
    problem(api.client.delete("/v1/webhooks/crm", headers=api.headers()), 404, "not_found")


def test_rotation_answers_a_new_secret(api: Api) -> None:
    first = create(api)["secret"]
    second = ok(api.post("/v1/webhooks/crm/rotate-secret"), 200)["secret"]
    assert second.startswith("whsec_") and second != first
    problem(api.post("/v1/webhooks/nope/rotate-secret"), 404, "not_found")


def test_the_same_webhook_id_twice_is_a_conflict(api: Api) -> None:
    create(api)
    body = {"webhook_id": "crm", "url": PUBLIC, "event_types": ["*"]}
    problem(api.post("/v1/webhooks", body), 409, "duplicate_id")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://224.0.0.1/hook",
        "http://localhost/hook",
    ],
)
def test_private_and_loopback_receivers_are_refused(api: Api, url: str) -> None:
    body = {"webhook_id": "bad", "url": url, "event_types": ["*"]}
    problem(api.post("/v1/webhooks", body), 422, "webhook_url_not_allowed")
    problem(api.get("/v1/webhooks/bad"), 404, "not_found")
    body = {"url": url, "event_types": ["*"], "status": "enabled"}
    create(api)
    problem(api.put("/v1/webhooks/crm", body), 422, "webhook_url_not_allowed")


def test_bad_webhook_bodies_are_invalid_requests(api: Api) -> None:
    for body in (
        {"webhook_id": "x", "url": "ftp://93.184.215.14/x", "event_types": ["*"]},
        {"webhook_id": "x", "url": PUBLIC, "event_types": []},
        {"webhook_id": "x", "url": PUBLIC, "event_types": ["Order Placed"]},
        {"webhook_id": "x y", "url": PUBLIC, "event_types": ["*"]},
        {"webhook_id": "x", "url": PUBLIC, "event_types": ["*"], "secret": "mine"},
    ):
        problem(api.post("/v1/webhooks", body), 422, "invalid_request")
    assert ok(api.get("/v1/webhooks"), 200)["items"] == []


def test_the_guard_checks_every_address_a_name_resolves_to() -> None:
    check_url("https://hooks.example/x", False, lambda host, port: ["93.184.215.14"])
    with pytest.raises(UrlNotAllowedError):  # DNS rebinding: one private address among public ones
        check_url("https://hooks.example/x", False, lambda host, port: ["93.184.215.14", "10.0.0.7"])
    with pytest.raises(UrlNotAllowedError):
        check_url("https://hooks.example/x", False, lambda host, port: ["::ffff:127.0.0.1"])
    with pytest.raises(UrlNotAllowedError):
        check_url("https://user:pw@hooks.example/x", True)
    check_url("http://127.0.0.1:9/x", True)  # O2C_WEBHOOK_ALLOW_PRIVATE=true


def test_the_retry_schedule_is_checked_at_start_up() -> None:
    assert load_settings({}).webhook_retry_schedule == (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
    assert load_settings({"O2C_WEBHOOK_RETRY_SCHEDULE": "100ms, 2s,1m"}).webhook_retry_schedule == (0.1, 2.0, 60.0)
    for bad in ("5x", "5s,,1m", "-1s", "8d", "soon"):
        with pytest.raises(ConfigError, match="O2C_WEBHOOK_RETRY_SCHEDULE"):
            load_settings({"O2C_WEBHOOK_RETRY_SCHEDULE": bad})
    with pytest.raises(ConfigError, match="O2C_WEBHOOK_ALLOW_PRIVATE"):
        load_settings({"O2C_WEBHOOK_ALLOW_PRIVATE": "maybe"})
    assert load_settings({"O2C_WEBHOOK_ALLOW_PRIVATE": "true"}).webhook_allow_private
