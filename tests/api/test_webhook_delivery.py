"""Webhook delivery end to end, on both stores, to a real receiver on loopback that checks every
signature with the `standardwebhooks` library: the body is the feed's CloudEvent, webhook-id its
id; type filters, only events after creation; retries on a short schedule, Retry-After, 3xx not
followed, 410 disables, failed after the last attempt; no head-of-line blocking; retry, replay,
rotation with two signatures; the URL guard at every attempt; signals and metrics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from infra.clock import FixedClock
from infra.service import Service
from infra.settings import Settings
from tests.conftest import Api, make_settings, seed, wait_until
from tests.http import ok
from tests.webhook_receiver import Receiver

SCHEDULE = (0.05, 0.05)  # three attempts, 50 ms apart


@pytest.fixture
def hook_settings(database_url: str) -> Settings:
    return make_settings(database_url, webhook_allow_private=True, webhook_retry_schedule=SCHEDULE)


@pytest.fixture
def hooked(hook_settings: Settings) -> Iterator[Api]:
    with TestClient(create_app(hook_settings)) as client:
        yield Api(client)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r


def service(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


def subscribe(api: Api, receiver: Receiver, types: list[str], webhook_id: str = "crm") -> str:
    body = {"webhook_id": webhook_id, "url": receiver.url, "event_types": types}
    secret: str = ok(api.post("/v1/webhooks", body), 201)["secret"]
    receiver.secrets.append(secret)
    return secret


def deliveries(api: Api, webhook_id: str = "crm", **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(api.get(f"/v1/webhooks/{webhook_id}/deliveries", **params), 200)["items"]
    return items


def settled(api: Api, count: int, webhook_id: str = "crm") -> list[dict[str, Any]]:
    """Wait until `count` deliveries exist and none is pending."""

    def done() -> list[dict[str, Any]] | None:
        items = deliveries(api, webhook_id)
        return items if len(items) == count and all(d["status"] != "pending" for d in items) else None

    items = wait_until(done, timeout=10)
    assert items, deliveries(api, webhook_id)
    return items


def warehouse(api: Api, name: str) -> int:
    return int(ok(api.put(f"/v1/warehouses/{name}", {"name": f"Warehouse {name}"}), 201)["position"])


def test_each_matching_event_after_creation_arrives_signed_as_its_cloud_event(hooked: Api, receiver: Receiver) -> None:
    warehouse(hooked, "W-OLD")  # before the webhook: never sent
    subscribe(hooked, receiver, ["ProductDefined", "CustomerRegistered"])
    seed(hooked)
    items = settled(hooked, 4)
    assert [d["event_type"] for d in items] == ["ProductDefined"] * 2 + ["CustomerRegistered"] * 2
    assert all(d["status"] == "succeeded" and len(d["attempts"]) == 1 for d in items)
    assert all(d["attempts"][0]["status_code"] == 200 and d["attempts"][0]["error"] is None for d in items)
    assert len(receiver.received) == 4 and all(r.verified for r in receiver.received)
    feed = {e["id"]: e for e in ok(hooked.get("/v1/events", after=0, limit=1000), 200)["events"]}
    for item, got in zip(items, receiver.received, strict=True):
        assert got.headers["webhook-id"] == item["event_id"] == item["delivery_id"] == got.event["id"]
        assert got.event == feed[got.event["id"]]  # exactly the feed's CloudEvent
        assert got.headers["content-type"] == "application/json"
        assert abs(int(got.headers["webhook-timestamp"]) - datetime.now().timestamp()) < 60
        assert got.headers["webhook-signature"].startswith("v1,")
    assert [r.event["position"] for r in receiver.received] == sorted(d["position"] for d in items)


def test_a_failing_receiver_is_retried_on_the_schedule_then_failed(hooked: Api, receiver: Receiver) -> None:
    subscribe(hooked, receiver, ["WarehouseDefined"])
    receiver.answers = [(500, {}), (302, {"location": receiver.url + "/elsewhere"})]
    warehouse(hooked, "W-1")
    [item] = settled(hooked, 1)
    assert item["status"] == "succeeded"
    assert [a["status_code"] for a in item["attempts"]] == [500, 302, 200]
    assert "redirects are not followed" in item["attempts"][1]["error"]
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1  # the same id on every attempt
    assert not any(r.headers.get("host", "").endswith("/elsewhere") for r in receiver.received)

    receiver.default = (500, {})
    warehouse(hooked, "W-2")
    failed = wait_until(lambda: deliveries(hooked, status="failed"), timeout=10)
    assert failed and len(failed[0]["attempts"]) == len(SCHEDULE) + 1 and failed[0]["next_attempt_at"] is None
    signals = ok(hooked.get("/v1/ops/signals"), 200)
    assert signals["webhooks_failing"] == [{"webhook_id": "crm", "url": receiver.url, "failed": 1, "overdue": 0}]
    metrics = hooked.client.get("/metrics").text
    assert 'o2c_webhook_deliveries{outcome="failed",webhook="crm"} 1.0' in metrics
    assert 'o2c_webhook_deliveries{outcome="succeeded",webhook="crm"} 1.0' in metrics

    receiver.default = (200, {})
    retried = ok(hooked.post(f"/v1/webhooks/crm/deliveries/{failed[0]['delivery_id']}/retry"), 202)
    assert retried["status"] == "pending"
    done = wait_until(lambda: deliveries(hooked, status="succeeded", after=item["position"]), timeout=10)
    assert done and [a["status_code"] for a in done[0]["attempts"]] == [500, 500, 500, 200]
    assert ok(hooked.get("/v1/ops/signals"), 200)["webhooks_failing"] == []


def test_retry_after_is_honoured_and_a_failing_delivery_holds_no_later_one_back(
    hooked: Api, receiver: Receiver
) -> None:
    subscribe(hooked, receiver, ["WarehouseDefined"])
    receiver.answers = [(429, {"retry-after": "3600"})]
    warehouse(hooked, "W-1")
    assert wait_until(lambda: len(receiver.received) == 1)
    warehouse(hooked, "W-2")
    later = wait_until(lambda: deliveries(hooked, status="succeeded"), timeout=10)
    assert later and later[0]["event_type"] == "WarehouseDefined"
    [waiting] = deliveries(hooked, status="pending")
    assert waiting["position"] < later[0]["position"]
    [attempt] = waiting["attempts"]
    assert attempt["status_code"] == 429
    wait = datetime.fromisoformat(waiting["next_attempt_at"]) - datetime.fromisoformat(attempt["at"])
    assert 3599 <= wait.total_seconds() <= 3601  # Retry-After, longer than the 50 ms of the schedule


def test_410_disables_the_webhook(hooked: Api, receiver: Receiver) -> None:
    subscribe(hooked, receiver, ["*"])
    receiver.default = (410, {})
    warehouse(hooked, "W-1")
    gone = wait_until(lambda: ok(hooked.get("/v1/webhooks/crm"), 200)["status"] == "disabled", timeout=10)
    assert gone
    hook = ok(hooked.get("/v1/webhooks/crm"), 200)
    assert "410" in hook["disabled_reason"]
    assert [d["status"] for d in deliveries(hooked)][:1] == ["failed"]
    seen = len(receiver.received)
    warehouse(hooked, "W-2")
    assert not wait_until(lambda: len(receiver.received) > seen, timeout=1)
    body = {"url": receiver.url, "event_types": ["*"], "status": "enabled"}
    assert ok(hooked.put("/v1/webhooks/crm", body), 200)["disabled_reason"] is None


def test_replay_sends_a_range_again_with_the_same_ids(hooked: Api, receiver: Receiver) -> None:
    subscribe(hooked, receiver, ["WarehouseDefined"])
    for name in ("W-1", "W-2", "W-3"):
        warehouse(hooked, name)
    items = settled(hooked, 3)
    first, second = items[0]["position"], items[1]["position"]
    answer = ok(hooked.post("/v1/webhooks/crm/replay", {"after": first, "until": second}), 202)
    assert answer["deliveries"] == 1 and answer["until"] == second
    assert wait_until(lambda: len(receiver.received) == 4)
    assert receiver.received[-1].headers["webhook-id"] == items[1]["event_id"]
    assert ok(hooked.post("/v1/webhooks/crm/replay", {"after": 0}), 202)["deliveries"] == 3
    assert wait_until(lambda: len(receiver.received) == 7)
    assert hooked.post("/v1/webhooks/crm/replay", {"after": 5, "until": 2}).status_code == 422


def test_after_a_rotation_deliveries_carry_both_signatures(hooked: Api, receiver: Receiver) -> None:
    old = subscribe(hooked, receiver, ["WarehouseDefined"])
    new = ok(hooked.post("/v1/webhooks/crm/rotate-secret"), 200)["secret"]
    warehouse(hooked, "W-1")
    assert wait_until(lambda: len(receiver.received) == 1)
    got = receiver.received[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert receiver.verified_by(old, got) and receiver.verified_by(new, got)


def test_the_guard_refuses_a_private_receiver_at_the_attempt(hooked: Api, receiver: Receiver) -> None:
    subscribe(hooked, receiver, ["WarehouseDefined"])
    worker = service(hooked).webhook_worker
    assert worker is not None
    worker.sender.allow_private = False  # as if the name had been rebound to a private address
    warehouse(hooked, "W-1")
    failed = wait_until(lambda: deliveries(hooked, status="failed"), timeout=10)
    assert failed and all("url not allowed" in a["error"] for a in failed[0]["attempts"])
    assert receiver.received == []


def test_deliveries_recorded_before_a_stop_are_sent_after_the_restart(
    hook_settings: Settings, receiver: Receiver
) -> None:
    with TestClient(create_app(hook_settings, workers=False)) as client:  # API only: nothing follows the log
        api = Api(client)
        subscribe(api, receiver, ["WarehouseDefined"])
        for name in ("W-1", "W-2"):
            warehouse(api, name)
    assert receiver.received == []
    with TestClient(create_app(hook_settings)) as client:
        api = Api(client)
        items = settled(api, 2)
        assert all(d["status"] == "succeeded" for d in items)
    assert sorted(r.event["data"]["warehouse_id"] for r in receiver.received) == ["W-1", "W-2"]


def test_a_delivery_nobody_sends_becomes_overdue_in_signals(hooked: Api, receiver: Receiver) -> None:
    svc = service(hooked)
    clock = svc.clock = FixedClock(datetime.now(UTC))
    assert svc.webhook_worker is not None
    svc.webhook_worker.stop()  # the sender is down; the follower still records
    subscribe(hooked, receiver, ["WarehouseDefined"])
    warehouse(hooked, "W-1")
    assert wait_until(lambda: deliveries(hooked, status="pending"))
    assert ok(hooked.get("/v1/ops/signals"), 200)["webhooks_failing"] == []
    clock.advance(seconds=120)
    [failing] = ok(hooked.get("/v1/ops/signals"), 200)["webhooks_failing"]
    assert (failing["webhook_id"], failing["failed"], failing["overdue"]) == ("crm", 0, 1)
    assert receiver.received == []
