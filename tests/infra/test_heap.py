"""The heap after start-up (infra/adapters/heap.py): what start-up made is frozen out of later
collections, and every collection's pause is counted in `o2c_gc_pause_seconds`."""

from __future__ import annotations

import gc
import re
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry, generate_latest

from infra.adapters import heap
from infra.adapters.heap import BUCKETS, GcPauses
from tests.conftest import ADMIN_KEY
from tests.infra.test_lifecycle import ServerProcess, json_lines


def sample(text: str, name: str, generation: int, le: str | None = None) -> float:
    labels = f'generation="{generation}"' + (f',le="{le}"' if le is not None else "")
    found = re.search(rf"^{name}\{{{re.escape(labels)}\}} (\S+)$", text, re.MULTILINE)
    assert found is not None, f"{name}{{{labels}}} not in:\n{text}"
    return float(found.group(1))


def test_every_collection_is_counted_by_generation_with_its_time() -> None:
    pauses = GcPauses.install()
    assert GcPauses.install() is pauses  # one callback per process, however many services start
    assert gc.callbacks.count(pauses._callback) == 1
    before = [pauses.pauses(generation) for generation in range(3)]
    for _ in range(3):
        gc.collect()  # the oldest generation, with the two below it
    gc.collect(0)
    oldest, youngest = pauses.pauses(2), pauses.pauses(0)
    assert oldest[0] == before[2][0] + 3
    assert oldest[1] > before[2][1]
    assert youngest[0] >= before[0][0] + 1


def test_the_histogram_is_cumulative_and_ends_in_every_collection() -> None:
    pauses = GcPauses.install()
    gc.collect()
    registry = CollectorRegistry()
    registry.register(pauses)
    at_least, least_seconds = pauses.pauses(2)  # rendering may itself set off a collection
    text = generate_latest(registry).decode()
    buckets = [sample(text, "o2c_gc_pause_seconds_bucket", 2, str(bound)) for bound in BUCKETS]
    every = sample(text, "o2c_gc_pause_seconds_bucket", 2, "+Inf")
    assert buckets == sorted(buckets) and buckets[-1] <= every
    assert sample(text, "o2c_gc_pause_seconds_count", 2) == every >= at_least > 0
    assert sample(text, "o2c_gc_pause_seconds_sum", 2) >= least_seconds > 0


def test_settle_freezes_what_exists_and_leaves_what_comes_after_to_the_collector() -> None:
    made_before = [object()]
    try:
        frozen = heap.settle()
        assert frozen == gc.get_freeze_count() > 0
        tracked = {id(o) for o in gc.get_objects()}
        assert id(made_before) not in tracked  # frozen: no collection scans it again
        made_after = [object()]
        assert id(made_after) in {id(o) for o in gc.get_objects()}
    finally:
        gc.unfreeze()  # the rest of this test process collects as before
    assert gc.get_freeze_count() == 0


def test_serve_settles_its_heap_once_started_and_serves_the_pauses(database_url: str, tmp_path: Path) -> None:
    log_path = tmp_path / "serve.log"
    with ServerProcess(database_url, log_path, O2C_LOG_FORMAT="json") as server:
        answer = httpx.get(f"{server.base}/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10)
    assert answer.status_code == 200
    settled = [line for line in json_lines(log_path) if line.get("event") == "heap settled after start-up"]
    assert len(settled) == 1 and settled[0]["frozen_objects"] > 10_000  # modules, the app, the service
    assert sample(answer.text, "o2c_gc_pause_seconds_count", 2) >= 1  # the settling collection at least
