"""Event schema evolution: events stored in last year's shape replay into this year's classes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from domain import catalog
from domain.events import EVENT_TYPES, Event
from infra import commands
from infra.eventstore import codec
from infra.eventstore.store import NewEvent
from infra.ledger.kinds import WAREHOUSE
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from infra.settings import Settings


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
    svc = Service.start(Settings(database_url=database_url))
    try:

        def define(uow: UnitOfWork) -> tuple[int, dict[str, Any]]:
            commands.put_warehouse(uow, catalog.PutWarehouse("W-A", "Dallas DC / south"))
            return 201, {}

        svc.ledger.run(Context(actor="t", correlation_id="c", causation_id="c"), define)
    finally:
        svc.close()

    new_class = next_years_warehouse_defined()
    with evolved(new_class):
        svc = Service.start(Settings(database_url=database_url))
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
