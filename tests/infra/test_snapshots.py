"""Persisted snapshots, on both stores: a long stream loads from its snapshot plus the few events after
it, the result equals a full replay, and snapshots from other domain code are ignored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from domain import inventory
from infra.eventstore.store import EventStore
from infra.ledger.cache import StateCache, load_state
from infra.ledger.kinds import ORDER, POSITION, position_key
from infra.ledger.snapshots import EVERY, Snapshots, snapshots_table
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from tests.conftest import make_settings

CTX = Context(actor="test", correlation_id="c", causation_id="c")
KEY = position_key("BOLT", "W-A")


class CountingStore(EventStore):
    """The real store, counting how many events loads read from a stream."""

    loaded_events = 0

    def load(self, stream_id: Any, after: int = 0, upto: int | None = None) -> Any:
        records = super().load(stream_id, after, upto)
        self.loaded_events += len(records)
        return records


@pytest.fixture
def svc(database_url: str) -> Iterator[Service]:
    service = Service.start(make_settings(database_url, group_commit=False))
    yield service
    service.close()


def churn(svc: Service, commands: int, per_command: int) -> None:
    """Receipts, reservations and releases on one position: `commands` x `per_command` events."""
    for c in range(commands):

        def handle(uow: UnitOfWork, c: int = c) -> None:
            events: list[Any] = []
            for i in range(per_command // 3):
                ids = {"sku": "BOLT", "warehouse_id": "W-A"}
                events.append(inventory.StockReceived(**ids, receipt_id=f"R-{c}-{i}", qty=2))
                events.append(inventory.StockReserved(**ids, order_id=f"SO-{c}-{i}", line_id="1", qty=1))
                events.append(
                    inventory.ReservationReleased(**ids, order_id=f"SO-{c}-{i}", line_id="1", qty=1, reason="x")
                )
            uow.record(POSITION, KEY, events)

        svc.ledger.run(CTX, handle)


def full_replay(svc: Service) -> tuple[inventory.Position, int]:
    state = POSITION.initial(KEY)
    version = 0
    for rec in svc.store.load(POSITION.stream_id(KEY)):
        state = POSITION.evolve(state, rec.event)
        version = rec.version
    return state, version


def cold_load(svc: Service) -> tuple[Any, int, int]:
    """Load the position in a fresh cache (as a restarted process would): state, version, events read."""
    store = CountingStore(svc.settings, svc.engine)
    cache = StateCache(snapshots=svc.ledger.cache.snapshots)
    state, version = load_state(store, cache, POSITION, KEY)
    store.recorder.datastore.close()  # type: ignore[attr-defined]
    return state, version, store.loaded_events


def test_a_long_stream_loads_from_its_snapshot_plus_the_events_after_it(svc: Service) -> None:
    churn(svc, commands=7, per_command=150)  # 1,050 events; snapshot points crossed along the way
    churn(svc, commands=1, per_command=33)  # and some events after the last snapshot point
    snapshots = svc.ledger.cache.snapshots
    assert snapshots is not None
    snapshots.flush()
    expected, version = full_replay(svc)
    assert version == 1083

    state, loaded_version, read = cold_load(svc)

    assert (state, loaded_version) == (expected, version)
    assert read < EVERY + 33  # not 1,083: the snapshot did the rest
    assert expected.on_hand == 2 * 361 and expected.reserved == 0


def test_a_state_taken_from_a_snapshot_at_its_head_is_kept_in_the_cache(svc: Service) -> None:
    """Nothing after the snapshot to replay is no reason to leave the state out of the cache: every
    later command would read the snapshot again (a stream idle at a multiple of EVERY)."""
    churn(svc, commands=1, per_command=300)
    snapshots = svc.ledger.cache.snapshots
    assert snapshots is not None
    snapshots.flush()
    store = CountingStore(svc.settings, svc.engine)
    cache = StateCache(snapshots=snapshots)

    state, version = load_state(store, cache, POSITION, KEY)
    store.recorder.datastore.close()  # type: ignore[attr-defined]

    assert version == 300 and store.loaded_events == 0  # all of it from the snapshot
    assert cache.get(POSITION.stream_id(KEY)) == (state, 300)


def test_a_load_that_replays_many_events_leaves_a_snapshot(svc: Service) -> None:
    churn(svc, commands=1, per_command=300)
    snapshots = svc.ledger.cache.snapshots
    assert snapshots is not None
    snapshots.flush()
    with svc.engine.begin() as conn:
        conn.execute(sa.delete(snapshots_table))

    _, version, first_read = cold_load(svc)
    snapshots.flush()
    _, _, second_read = cold_load(svc)

    assert version == 300 and first_read == 300
    assert second_read == 0


def test_snapshots_of_other_domain_code_are_ignored(svc: Service) -> None:
    churn(svc, commands=2, per_command=150)
    snapshots = svc.ledger.cache.snapshots
    assert snapshots is not None
    snapshots.flush()
    with svc.engine.begin() as conn:
        changed = conn.execute(sa.update(snapshots_table).values(fingerprint="older-domain-code")).rowcount
    assert changed >= 1

    state, version, read = cold_load(svc)

    assert (state, version) == full_replay(svc)
    assert read == 300
    assert snapshots.ignored >= 1


def test_an_older_snapshot_never_replaces_a_newer_one(svc: Service) -> None:
    churn(svc, commands=2, per_command=150)
    snapshots = svc.ledger.cache.snapshots
    assert snapshots is not None
    snapshots.flush()
    sid = POSITION.stream_id(KEY)
    newest = snapshots.get(sid, POSITION)
    assert newest is not None and newest[1] == 300

    snapshots.offer(sid, POSITION, POSITION.initial(KEY), 100)
    snapshots.flush()

    again = snapshots.get(sid, POSITION)
    assert again is not None and again[1] == 300


def test_short_streams_are_not_snapshotted(svc: Service) -> None:
    fresh = Snapshots(svc.engine)
    assert fresh.covers(POSITION) and not fresh.covers(ORDER)
    fresh.stop()
