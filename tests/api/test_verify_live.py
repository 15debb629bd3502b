"""Verification while the service keeps taking orders: the live read models are pinned at one
position, by the process that feeds them (its locks) or by another one (a capture between two
readings of the tracking rows), so a moving service shows no false mismatch."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import create_app
from infra.readside import verify as verification
from infra.readside.verify import verify
from infra.service import Service
from infra.settings import Settings
from tests.api.test_verify import _verified
from tests.conftest import Api, seed, wait_until
from tests.http import line, ok, place, receive


@contextmanager
def _orders_flowing(api: Api) -> Iterator[list[int]]:
    """Orders placed one after another in a thread until the block ends; yields the count placed."""
    stop = threading.Event()
    placed = [0]

    def run() -> None:
        while not stop.is_set():
            placed[0] += 1
            ok(place(api, f"LIVE-{placed[0]}", [line("NUT-4", 1)], customer_id="C2"))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield placed
    finally:
        stop.set()
        thread.join(30)


def _prepared(client: TestClient[Any]) -> Api:
    api = Api(client)
    seed(api)
    receive(api, "R-1", "W-A", "NUT-4", 1_000_000)
    for i in range(5):
        ok(place(api, f"PRE-{i}", [line("NUT-4", 2)]))
    return api


def test_verify_over_http_finds_nothing_while_orders_are_placed(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        api = _prepared(client)
        with _orders_flowing(api) as placed:
            assert wait_until(lambda: placed[0] >= 3)
            report = _verified(api)
        assert placed[0] > 3
        for name, found in report["read_models"].items():
            assert (found["mismatches"], found["position"]) == (0, report["position"]), (name, found)


def test_verify_from_another_process_finds_nothing_while_orders_are_placed(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        api = _prepared(client)
        other = Service.start(settings)  # as `o2c verify` beside a running server: it feeds nothing
        try:
            with _orders_flowing(api) as placed:
                while placed[0] < 3:
                    pass
                position, reports = verify(list(other.read.projections.values()), other.store)
        finally:
            other.close()
        assert {name: r.mismatches for name, r in reports.items()} == dict.fromkeys(reports, 0)
        assert {r.position for r in reports.values()} == {position}
        assert reports["orders"].rows >= 5


def test_read_models_that_cannot_be_pinned_together_are_each_compared_at_their_own_position(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verification, "PIN_TRIES", 2)
    with TestClient(create_app(settings, workers=False)) as client:  # nobody feeds the read models
        _prepared(client)
        svc: Service = client.app.state.service
        head = svc.store.head()
        atp = svc.read["atp"]
        with atp.lock:
            verification._catch_up(atp, svc.store, head)  # ATP alone is at the head, the others at 0
        position, reports = verify(list(svc.read.projections.values()), svc.store)
    assert position == 0
    assert {name: r.position for name, r in reports.items()} == {**dict.fromkeys(reports, 0), "atp": head}
    assert set(reports) == set(svc.read.projections)
    assert {name: r.mismatches for name, r in reports.items()} == dict.fromkeys(reports, 0)
    assert reports["atp"].rows > 0 and reports["orders"].rows == 0
