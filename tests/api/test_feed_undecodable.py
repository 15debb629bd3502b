"""The feed never stops at an event it cannot decode: the event keeps its place, without data."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from infra.eventstore.store import EVENTS_TABLE
from infra.service import Service
from tests.conftest import Api, seed
from tests.http import ok, receive


def spoil(svc: Service, position: int, **values: Any) -> None:
    """Overwrite a stored event's row, as a broken or newer writer might have left it."""
    column = "notification_id" if svc.settings.is_postgres else "rowid"
    sets = ", ".join(f"{name} = :{name}" for name in values)
    with svc.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {EVENTS_TABLE} SET {sets} WHERE {column} = :p"), {**values, "p": position})


def test_an_undecodable_event_keeps_its_place_in_the_feed_and_the_events_after_it_flow(api: Api) -> None:
    seed(api)
    broken = receive(api, "R-1", "W-A", "BOLT-10", 5)
    future = receive(api, "R-2", "W-A", "BOLT-10", 6)
    last = receive(api, "R-3", "W-A", "BOLT-10", 7)
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    before = {e["position"]: e for e in ok(api.get("/v1/events", after=0, limit=1000), 200)["events"]}
    spoil(svc, broken, state=b'{"meta": not json')
    spoil(svc, future, topic="StockTeleported")  # a type this version does not know

    events = ok(api.get("/v1/events", after=0, limit=1000), 200)["events"]
    by_position = {e["position"]: e for e in events}
    assert sorted(by_position) == sorted(before)  # every event still there, in order
    for position in (broken, future):
        shown = by_position[position]
        assert shown["data"] is None and "cannot be decoded" in shown["o2cerror"]
        assert shown["id"] == before[position]["id"]
    assert by_position[future]["type"] == "o2c.StockTeleported"
    assert by_position[last] == before[last]
    page = ok(api.get("/v1/events", after=broken - 1, limit=1), 200)
    assert [e["position"] for e in page["events"]] == [broken] and page["next_after"] == broken
