"""The PostgreSQL recorder's insert as arrays of plain types (infra/eventstore/pg_recorder.py): the
same rows, positions in the order given, and a version clash that records nothing. Both stores run
the same checks; only PostgreSQL uses the recorder."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from eventsourcing.persistence import IntegrityError

from domain import catalog
from infra.eventstore import codec
from infra.eventstore.pg_recorder import PlainArraysRecorder
from infra.eventstore.store import NewEvent
from infra.ledger.kinds import WAREHOUSE
from infra.service import Service
from tests.infra.readside import service


def meta(key: str) -> codec.Meta:
    return codec.Meta(
        kind="warehouse", key=key, occurred_at=datetime.now(UTC), actor="t", correlation_id="c", causation_id="c"
    )


def defined(key: str, name: str) -> NewEvent:
    return NewEvent(WAREHOUSE.stream_id(key), 1, meta(key), catalog.WarehouseDefined(warehouse_id=key, name=name))


@pytest.fixture
def svc(database_url: str) -> Iterator[Service]:
    with service(database_url) as started:
        yield started


def test_postgres_writes_through_the_plain_arrays_recorder(svc: Service) -> None:
    assert isinstance(svc.store.recorder, PlainArraysRecorder) == svc.settings.is_postgres


def test_a_batch_lands_whole_in_the_order_given_with_rising_positions(svc: Service) -> None:
    keys = [f"W-{i:02d}" for i in range(25)]
    positions = svc.store.append([defined(k, f"Warehouse {k} \u00e9\u4e2d'\"\\") for k in keys])
    assert len(positions) == 25 and positions == sorted(positions) and len(set(positions)) == 25
    read = [r for r in svc.store.read(positions[0] - 1, 100) if r.position in set(positions)]
    assert [r.position for r in read] == positions
    assert [r.event for r in read] == [defined(k, f"Warehouse {k} \u00e9\u4e2d'\"\\").event for k in keys]
    assert [r.topic for r in read] == ["WarehouseDefined"] * 25


def test_a_version_clash_records_none_of_its_batch(svc: Service) -> None:
    svc.store.append([defined("W-A", "first")])
    head = svc.store.head()
    with pytest.raises(IntegrityError):
        svc.store.append([defined("W-NEW", "would be new"), defined("W-A", "second at version 1")])
    assert svc.store.head() == head
    assert svc.store.load(WAREHOUSE.stream_id("W-NEW")) == []
    assert [r.event.name for r in svc.store.load(WAREHOUSE.stream_id("W-A"))] == ["first"]  # type: ignore[attr-defined]
