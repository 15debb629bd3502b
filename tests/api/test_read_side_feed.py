"""The read side over HTTP: the event feed (CloudEvents, paging, long polls)."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from infra import commands
from tests.api.read_side import order, receive, service_of
from tests.conftest import Api
from tests.http import ok
from tests.infra.readside import run

# --- event feed -----------------------------------------------------------------------------------


def test_the_event_feed_answers_cloudevents_with_strictly_increasing_positions(seeded: Api) -> None:
    api = seeded
    receive(api, "R-1", "W-A", BOLT_10=6)
    order(api, "SO-1", "C1", {"BOLT-10": 2})

    body = ok(api.get("/v1/events", after=0, limit=1000), 200)
    events = body["events"]
    positions = [e["position"] for e in events]
    assert positions == sorted(set(positions)) and positions[0] > 0
    assert body["next_after"] >= positions[-1]
    assert len({e["id"] for e in events}) == len(events)
    for e in events:
        assert {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data", "position"} <= set(
            e
        )
        assert (e["specversion"], e["source"], e["datacontenttype"]) == ("1.0", "/o2c", "application/json")
        assert isinstance(e["type"], str) and e["type"]
        assert isinstance(e["data"], dict)
        assert datetime.fromisoformat(e["time"].replace("Z", "+00:00")).tzinfo is not None
        assert "CommandRecorded" not in e["type"]
    placed = [e for e in events if e["type"].endswith("OrderPlaced")]
    assert [(e["subject"], e["data"]["order_id"]) for e in placed] == [("order/SO-1", "SO-1")]
    assert any(e["subject"].startswith("inventory/") and e["type"].endswith("StockReceived") for e in events)

    paged, after = [], 0
    while True:
        page = ok(api.get("/v1/events", after=after, limit=3), 200)
        if not page["events"] and page["next_after"] == after:
            break
        paged += page["events"]
        after = page["next_after"]
    assert paged == events
    assert ok(api.get("/v1/events", after=after), 200) == {"events": [], "next_after": after}


def test_a_long_poll_on_the_feed_returns_as_soon_as_an_event_arrives(seeded: Api) -> None:
    api = seeded
    head = ok(api.get("/v1/events", after=0, limit=1000), 200)["next_after"]

    started = time.monotonic()
    empty = ok(api.get("/v1/events", after=head, wait=0.3), 200)
    assert empty == {"events": [], "next_after": head}
    assert time.monotonic() - started >= 0.3

    svc = service_of(api)

    def later() -> None:
        time.sleep(0.5)
        run(svc, lambda uow: commands.receive_stock(uow, "R-LATE", "W-C", [("NUT-4", 7)]))

    writer = threading.Thread(target=later)
    started = time.monotonic()
    writer.start()
    try:
        body = ok(api.get("/v1/events", after=head, wait=20), 200)
    finally:
        writer.join()
    assert time.monotonic() - started < 10
    assert [(e["type"].endswith("StockReceived"), e["data"]["receipt_id"]) for e in body["events"]] == [
        (True, "R-LATE")
    ]
    assert body["events"][0]["position"] > head
