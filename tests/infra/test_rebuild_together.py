"""A rebuild of every read model in one pass over the log, writing rows in large deferred flushes,
equals the read models built batch by batch, also when flushes and cache resets happen mid-way.
Both stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from bench.workload import commands_stream, run_command, setup
from domain import expected
from domain.errors import DomainError
from infra import commands
from infra.ledger.unitofwork import Context
from infra.readside import batches
from infra.readside.rebuild import rebuild_together
from infra.service import Service
from tests.conftest import make_settings
from tests.infra.readside import make_runner, settle, snapshot


@pytest.fixture
def svc(database_url: str) -> Iterator[Service]:
    service = Service.start(make_settings(database_url))
    skus, customers = setup(service, skus=12, customers=4)
    ctx = Context(actor="test", correlation_id="c", causation_id="test")
    for n, (kind, payload) in enumerate(commands_stream(skus, customers, seed=3)):
        run_command(service, kind, payload)
        if n % 40 == 0:  # expected supply, changed and received against, and dated transfers: promises
            sku, on = skus[n % len(skus)], date(2027, 1, 1 + n // 40)
            service.app.execute(ctx, expected.CreateExpectedReceipt(f"E-{n}", "W-1", sku, 5 + n % 7, on))
            service.app.execute(ctx, expected.ChangeExpectedReceipt(f"E-{n}", on + timedelta(days=3)))
            service.app.execute(ctx, commands.ReceiveStock(f"R-E{n}", "W-1", ((sku, 2),), (f"E-{n}",)))
            dated = commands.StartTransfer(f"T-E{n}", "W-1", "W-2", sku, 1, on)
            try:
                service.app.execute(ctx, dated)
            except DomainError:
                pass  # no stock to move: nothing to date
        if n >= 260:
            break
    customer_id = next(iter(customers))
    for i, sku in enumerate(skus[:3]):  # orders that wait for the expected supply: promises
        line = commands.OrderLineInput("1", sku, 10_000, None)
        wanted = commands.PlaceOrderInput(f"BIG-{i}", customer_id, "web", None, True, (line,), datetime.now(UTC))
        service.app.execute(ctx, wanted)
        service.app.execute(ctx, expected.CreateExpectedReceipt(f"E-BIG-{i}", "W-1", sku, 20_000, date(2027, 2, 1)))
    settle(make_runner(service, batch_size=37))
    assert any(r.topic == "BackorderPromised" for r in service.store.read(0, 100_000))
    yield service
    service.close()


def test_one_pass_rebuild_equals_the_incremental_read_models(svc: Service) -> None:
    incremental = snapshot(svc)
    generations = {name: p.generation for name, p in svc.read.projections.items()}

    result = rebuild_together(list(svc.read.projections.values()))

    assert snapshot(svc) == incremental
    for name, p in svc.read.projections.items():
        assert p.generation == generations[name] + 1 == result[name]["generation"]
        assert p.position() == result[name]["position"] == svc.store.head()


def test_small_flushes_and_cache_resets_change_nothing(svc: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    incremental = snapshot(svc)
    monkeypatch.setattr(batches, "FLUSH_ROWS", 7)
    monkeypatch.setattr(batches, "CACHE_ROWS", 13)

    rebuild_together(list(svc.read.projections.values()), batch_size=50)

    assert snapshot(svc) == incremental


def test_an_abandoned_rebuild_leaves_the_live_generation_answering(svc: Service) -> None:
    incremental = snapshot(svc)
    generations = {name: p.generation for name, p in svc.read.projections.items()}
    stop = threading.Event()
    stop.set()

    rebuild_together(list(svc.read.projections.values()), batch_size=50, stop=stop)

    assert {name: p.generation for name, p in svc.read.projections.items()} == generations
    assert snapshot(svc) == incremental
