"""The tailing state cache with two writers on one database (as two processes would be), both stores:
a process that skips reading back its own writes never skips the other process's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domain import inventory
from infra.ledger.kinds import POSITION, position_key
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from tests.conftest import make_settings

CTX = Context(actor="test", correlation_id="c", causation_id="c")


@pytest.fixture
def pair(database_url: str) -> Iterator[tuple[Service, Service]]:
    first = Service.start(make_settings(database_url, group_commit=False))
    second = Service.start(make_settings(database_url, group_commit=False))
    yield first, second
    second.close()
    first.close()


def receive(svc: Service, sku: str, qty: int, receipt: str) -> list[int]:
    def handle(uow: UnitOfWork) -> None:
        event = inventory.StockReceived(sku=sku, warehouse_id="W", receipt_id=receipt, qty=qty)
        uow.record(POSITION, position_key(sku, "W"), [event])

    return [svc.ledger.run(CTX, handle).position]


def on_hand(svc: Service, sku: str) -> int:
    state, _ = svc.ledger.load(POSITION, position_key(sku, "W"))
    return state.on_hand


def test_own_writes_advance_the_cache_without_a_read(pair: tuple[Service, Service]) -> None:
    first, _ = pair
    receive(first, "A", 1, "R-1")
    seen = first.ledger.cache.valid_upto
    position = receive(first, "A", 2, "R-2")[0]
    assert first.ledger.cache.valid_upto == position > (seen or 0)
    assert on_hand(first, "A") == 3


def test_another_writers_events_in_between_are_still_read(pair: tuple[Service, Service]) -> None:
    first, second = pair
    receive(first, "A", 1, "R-1")
    receive(first, "B", 1, "R-2")
    assert on_hand(first, "A") == 1  # cached in the first process

    def handle(uow: UnitOfWork) -> None:
        # While the first process decides (after its sync), the other one writes a stream it has cached.
        receive(second, "A", 10, "R-3")
        uow.record(
            POSITION,
            position_key("B", "W"),
            [inventory.StockReceived(sku="B", warehouse_id="W", receipt_id="R-4", qty=1)],
        )

    first.ledger.run(CTX, handle)

    assert on_hand(first, "A") == 11
    assert on_hand(first, "B") == 2
    assert on_hand(second, "B") == 2


def test_a_stream_unknown_at_the_last_sync_is_decided_without_a_query(pair: tuple[Service, Service]) -> None:
    first, _ = pair
    cache = first.ledger.cache
    assert cache.known is not None
    sid = POSITION.stream_id(position_key("NEW", "W"))
    assert sid not in cache.known

    assert on_hand(first, "NEW") == 0
    receive(first, "NEW", 4, "R-1")

    assert sid in cache.known
    assert on_hand(first, "NEW") == 4


def test_a_stream_another_process_creates_meanwhile_makes_the_write_retry(pair: tuple[Service, Service]) -> None:
    first, second = pair
    attempts = []

    def handle(uow: UnitOfWork) -> None:
        attempts.append(1)
        state = uow.get(POSITION, position_key("C", "W"))
        if len(attempts) == 1:  # the other process creates the stream after this one's sync
            receive(second, "C", 10, "R-2")
        event = inventory.StockReceived(sku="C", warehouse_id="W", receipt_id="R-1", qty=state.on_hand + 1)
        uow.record(POSITION, position_key("C", "W"), [event])

    first.ledger.run(CTX, handle)

    assert len(attempts) == 2  # decided again on the stream as the other process left it
    assert on_hand(first, "C") == on_hand(second, "C") == 10 + 11


def test_stream_ids_are_uuid5_of_kind_and_key() -> None:
    """Stored streams are named by these ids: computing them faster must not change one."""
    from uuid import uuid5

    from infra.eventstore.streams import NAMESPACE, stream_id

    for kind, key in [("position", "SKU-1@W-1"), ("product", "Bolt é 10"), ("order", "O-" + "9" * 60)]:
        assert stream_id(kind, key) == uuid5(NAMESPACE, f"{kind}:{key}")


def test_existing_streams_agree_with_loading_them(pair: tuple[Service, Service]) -> None:
    """`UnitOfWork.existing` (how a reconciliation checks 50,000 SKUs without loading products) says
    what loading each stream would: from the tailing cache's known streams, or from the store without one,
    and it sees a product the other process defined after this one last synced."""
    from decimal import Decimal

    from domain import catalog
    from infra import commands
    from infra.ledger.cache import StateCache
    from infra.ledger.kinds import PRODUCT

    first, second = pair
    first.ledger.run(CTX, lambda uow: commands.put_product(uow, catalog.PutProduct("P-1", "P", Decimal(1), "EA")))
    second.ledger.run(CTX, lambda uow: commands.put_product(uow, catalog.PutProduct("P-2", "P", Decimal(1), "EA")))
    keys = ["P-1", "P-2", "P-3"]
    for svc in (first, second):
        svc.ledger.cache.sync(svc.store)
        tailing = UnitOfWork(svc.store, CTX, svc.ledger.cache)
        plain = UnitOfWork(svc.store, CTX, StateCache(max_streams=10))  # not tailing: asks the store
        loaded = {k for k in keys if UnitOfWork(svc.store, CTX, StateCache(max_streams=10)).get(PRODUCT, k)}
        assert tailing.existing(PRODUCT, keys) == plain.existing(PRODUCT, keys) == loaded == {"P-1", "P-2"}
