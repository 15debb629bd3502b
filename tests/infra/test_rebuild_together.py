"""A rebuild of every read model in one pass over the log, writing rows in large deferred flushes,
equals the read models built batch by batch, also when flushes and cache resets happen mid-way.
Both stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from bench.workload import commands_stream, run_command, setup
from infra.readside import batches
from infra.readside.rebuild import rebuild_together
from infra.service import Service
from infra.settings import Settings
from tests.infra.readside import make_runner, settle, snapshot


@pytest.fixture
def svc(database_url: str) -> Iterator[Service]:
    service = Service.start(Settings(database_url=database_url))
    skus, customers = setup(service, skus=12, customers=4)
    for n, (kind, payload) in enumerate(commands_stream(skus, customers, seed=3)):
        run_command(service, kind, payload)
        if n >= 260:
            break
    settle(make_runner(service, batch_size=37))
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
