"""Event schema evolution: events stored in last year's shape replay into this year's classes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from litestar.testing import TestClient

from domain import catalog
from domain.events import EVENT_TYPES, Event
from infra.eventstore import codec
from infra.eventstore.store import NewEvent
from infra.ledger.kinds import RECORD, WAREHOUSE
from infra.ledger.unitofwork import Context
from infra.service import Service
from tests.conftest import Api, make_settings


def next_years_warehouse_defined() -> type[Event]:
    """WarehouseDefined as it might look next year: the name split into name and region."""

    class WarehouseDefined(Event, frozen=True, kw_only=True):
        schema_version: ClassVar[int] = 2
        warehouse_id: str
        name: str
        region: str

    return WarehouseDefined


def split_region(data: dict[str, Any]) -> dict[str, Any]:
    name, _, region = data["name"].partition(" / ")
    return {**data, "name": name, "region": region or "unknown"}


@contextmanager
def evolved(new_class: type[Event]) -> Iterator[None]:
    original = EVENT_TYPES["WarehouseDefined"]
    EVENT_TYPES["WarehouseDefined"] = new_class
    codec.register_upcaster("WarehouseDefined", 1, split_region)
    codec._decoders.pop("WarehouseDefined", None)
    try:
        yield
    finally:
        EVENT_TYPES["WarehouseDefined"] = original
        codec.UPCASTERS.pop(("WarehouseDefined", 1), None)
        codec._decoders.pop("WarehouseDefined", None)


def test_an_event_stored_in_the_old_shape_is_read_in_the_new_one(database_url: str) -> None:
    svc = Service.start(make_settings(database_url))
    try:
        ctx = Context(actor="t", correlation_id="c", causation_id="c")
        svc.app.execute(ctx, catalog.PutWarehouse("W-A", "Dallas DC / south"))
    finally:
        svc.close()

    new_class = next_years_warehouse_defined()
    with evolved(new_class):
        svc = Service.start(make_settings(database_url))
        try:
            old: Any = svc.store.load(WAREHOUSE.stream_id("W-A"))[0].event
            assert isinstance(old, new_class)
            assert (old.name, old.region) == ("Dallas DC", "south")
            meta = codec.Meta(
                kind="warehouse",
                key="W-B",
                occurred_at=datetime.now(UTC),
                actor="t",
                correlation_id="c",
                causation_id="c",
            )
            new = new_class(warehouse_id="W-B", name="Chicago DC", region="north")  # type: ignore[call-arg]
            assert b'"v":2' in codec.encode(meta, new)
            svc.store.append([NewEvent(WAREHOUSE.stream_id("W-B"), 1, meta, new)])
            assert svc.store.load(WAREHOUSE.stream_id("W-B"))[0].event == new
            assert len([r.event for r in svc.store.read(0, 100)]) >= 3  # the whole log still replays
        finally:
            svc.close()


def first_shape_record(**fields: Any) -> Event:
    """An idempotency record as version 1 stored it (an HTTP status and a JSON body), made without
    leaving the old class registered as today's."""
    current = EVENT_TYPES["CommandRecorded"]

    class CommandRecorded(Event, frozen=True, kw_only=True):
        scope: str
        key: str
        fingerprint: str
        status: int
        body: str
        anchor: str = ""

    EVENT_TYPES["CommandRecorded"] = current
    return CommandRecorded(**fields)


def test_an_idempotency_record_of_the_first_shape_still_replays_its_answer(client: TestClient[Any]) -> None:
    """Records written before the ledger stopped storing HTTP status and body are read as the API's
    reply text, so a client repeating a request under an old key gets the old answer back."""
    api = Api(client)
    body = {"name": "Dallas DC"}
    first = api.client.put("/v1/warehouses/W-A", json=body, headers=api.headers({"Idempotency-Key": "new-1"}))
    assert first.status_code == 201
    svc: Service = client.app.state.service
    written = RECORD.stream_id("idem:admin:new-1")
    fingerprint = svc.store.load(written)[0].event.fingerprint  # type: ignore[attr-defined]
    key = "idem:admin:old-1"
    meta = codec.Meta(
        kind="command", key=key, occurred_at=datetime.now(UTC), actor="admin", correlation_id="c", causation_id="c"
    )
    old = first_shape_record(
        scope="idem:admin", key="old-1", fingerprint=fingerprint, status=201, body='{"legacy":"\\u00e9"}', anchor=key
    )
    assert b'"v"' not in codec.encode(meta, old) and b'"status":201' in codec.encode(meta, old)
    svc.store.append([NewEvent(RECORD.stream_id(key), 1, meta, old)])

    again = api.client.put("/v1/warehouses/W-A", json=body, headers=api.headers({"Idempotency-Key": "old-1"}))
    assert again.status_code == 201
    assert again.content.startswith(b'{"legacy":"\\u00e9","position":')  # the recorded bytes, position last
    other = api.client.put("/v1/warehouses/W-A", json={"name": "X"}, headers=api.headers({"Idempotency-Key": "old-1"}))
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
