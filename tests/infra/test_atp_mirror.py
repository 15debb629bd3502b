"""ATP's mirror (infra/readside/atp_mirror.py): a process that does not run the ATP projection holds
exactly the tables' rows as of its position, never past what the tables committed, with the events
the projection parked left out. A web process beside `o2c worker` answers ATP from it.

Both stores. The feeder is a service whose runner is driven by hand. The mirror belongs to a second
service on the same database, as it would in another process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from infra import commands
from infra.ledger.unitofwork import UnitOfWork
from infra.readside import atp_mirror
from infra.readside.atp_mirror import AtpMirror
from infra.readside.atp_rows import AtpRows, rows_from_tables
from infra.service import Service
from tests.conftest import Api, app_for, make_settings, wait_until
from tests.infra.readside import make_runner, run, seed_reference, service, settle
from tests.infra.test_parking import huge_receipt

SKUS = {"BOLT-10": "8.50", "NUT-4": "0.25", "HUGE": "1.00"}


def receive(uow: UnitOfWork, sku: str, warehouse: str, qty: int, receipt: str) -> None:
    commands.receive_stock(uow, receipt, warehouse, [(sku, qty)])


def ship_between(uow: UnitOfWork, transfer_id: str) -> None:
    commands.start_transfer(uow, transfer_id, "W-A", "W-B", "BOLT-10", 3, expected_on=date(2027, 1, 4))


def shape(found: AtpRows) -> dict[str, Any]:
    """Rows by SKU in a stable order, comparable whichever side they came from."""

    def ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return sorted(rows, key=repr)

    return {
        sku: (ordered(r.positions), ordered(r.waiting), ordered(r.incoming))
        for sku, r in sorted(found.by_sku.items())
        if r.positions or r.waiting or r.incoming
    } | {"known": sorted(found.known)}


def tables_now(svc: Service) -> dict[str, Any]:
    p = svc.read.projections["atp"]
    with svc.engine.connect() as conn:
        return shape(rows_from_tables(conn, p.tables, list(SKUS)))


def caught_up(mirror: AtpMirror) -> None:
    for _ in range(100):
        if not mirror.step():
            return
    raise AssertionError("the mirror kept moving")


@pytest.fixture
def pair(database_url: str) -> Iterator[tuple[Service, Service]]:
    with ExitStack() as stack:
        feeder = stack.enter_context(service(database_url))
        web = stack.enter_context(service(database_url))
        yield feeder, web


def test_the_mirror_holds_the_tables_as_of_its_position_and_never_runs_ahead(pair: tuple[Service, Service]) -> None:
    feeder, web = pair
    runner = make_runner(feeder)
    mirror = AtpMirror(web.read.projections["atp"], web.store, lambda: False)
    seed_reference(feeder, SKUS, {"C1": "100000.00"})
    run(feeder, lambda uow: receive(uow, "BOLT-10", "W-A", 40, "R-1"))
    settle(runner)
    caught_up(mirror)
    assert mirror.ready and mirror.position == feeder.read.projections["atp"].stored_position()
    assert shape(mirror.rows(list(SKUS))) == tables_now(feeder)

    # Given events the tables have not committed yet: the mirror waits for them
    run(feeder, lambda uow: receive(uow, "NUT-4", "W-B", 7, "R-2"))
    run(feeder, lambda uow: ship_between(uow, "T-1"))
    before = mirror.position
    assert mirror.step() is False and mirror.position == before
    assert "NUT-4" not in {sku for sku, rows in mirror.rows(["NUT-4"]).by_sku.items() if rows.positions}

    # When the projection commits them, with one it parks (a quantity no store holds)
    run(feeder, huge_receipt)
    settle(runner)
    caught_up(mirror)

    # Then the mirror holds what the tables hold: the parked receipt left out, the transfer's stock in transit
    assert mirror.position == feeder.read.projections["atp"].stored_position() > before
    held = shape(mirror.rows(list(SKUS)))
    assert held == tables_now(feeder)
    assert not mirror.rows(["HUGE"]).of("HUGE").positions


def test_a_step_asks_for_another_at_once_only_while_a_full_batch_is_left(
    pair: tuple[Service, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under steady intake the mirror waits between steps (one query round per INTERVAL), unless a
    step read a whole batch and the tables hold more: then it goes on at once."""
    feeder, web = pair
    runner = make_runner(feeder)
    seed_reference(feeder, SKUS, {"C1": "100000.00"})
    settle(runner)
    mirror = AtpMirror(web.read.projections["atp"], web.store, lambda: False)
    assert mirror.step() is True  # the first step loads
    monkeypatch.setattr(atp_mirror, "BATCH", 2)
    for i in range(5):
        run(feeder, lambda uow, i=i: receive(uow, "BOLT-10", "W-A", 1, f"R-{i}"))
    settle(runner)
    committed = feeder.read.projections["atp"].stored_position()
    answers, before = [], []
    while True:
        before.append(mirror.position)
        answers.append(mirror.step())
        if not answers[-1]:
            break
    assert answers[:-1] and all(answers[:-1]) and mirror.position == committed
    assert before[-1] < committed  # the step that caught up said so: no extra round to learn it
    assert mirror.step() is False
    assert [p["on_hand"] for p in mirror.rows(["BOLT-10"]).of("BOLT-10").positions] == [5]


def test_a_batch_committed_in_the_middle_of_a_load_is_not_counted_twice(
    pair: tuple[Service, Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The load reads the tracking position, then the rows. A batch the projection commits between
    the two must not be in those rows (one snapshot), or catching up would apply it a second time."""
    feeder, web = pair
    runner = make_runner(feeder)
    seed_reference(feeder, SKUS, {"C1": "100000.00"})
    run(feeder, lambda uow: receive(uow, "BOLT-10", "W-A", 5, "R-1"))
    settle(runner)
    mirror = AtpMirror(web.read.projections["atp"], web.store, lambda: False)
    real = atp_mirror.read_position

    def then_a_batch_commits(conn: sa.Connection, name: str) -> int:
        position = real(conn, name)
        monkeypatch.setattr(atp_mirror, "read_position", real)
        run(feeder, lambda uow: receive(uow, "BOLT-10", "W-A", 2, "R-2"))
        settle(runner)  # in the feeder's own connection, while the load's is open
        return position

    monkeypatch.setattr(atp_mirror, "read_position", then_a_batch_commits)
    mirror.load()
    caught_up(mirror)
    assert [p["on_hand"] for p in mirror.rows(["BOLT-10"]).of("BOLT-10").positions] == [7]
    assert shape(mirror.rows(list(SKUS))) == tables_now(feeder)


def test_a_mirror_loaded_while_the_projection_commits_stays_exact(pair: tuple[Service, Service]) -> None:
    """The load is one snapshot of rows and position: loaded again and again while batches commit,
    then caught up, it still holds exactly the tables (a torn load would count a batch twice)."""
    feeder, web = pair
    seed_reference(feeder, SKUS, {"C1": "100000.00"})
    feeder.start_workers()
    mirror = AtpMirror(web.read.projections["atp"], web.store, lambda: False)
    done = threading.Event()

    def write() -> None:
        for i in range(120):
            run(
                feeder,
                lambda uow, i=i: receive(uow, ("BOLT-10", "NUT-4")[i % 2], ("W-A", "W-B")[i % 3 % 2], 1, f"R-{i}"),
            )
        done.set()

    def held_on_hand() -> int:
        return sum(p["on_hand"] for sku in ("BOLT-10", "NUT-4") for p in mirror.rows([sku]).of(sku).positions)

    writer = threading.Thread(target=write)
    writer.start()
    seen: list[tuple[int, int]] = []  # (the mirror's position, the units it held) after each load
    while not done.is_set() or len(seen) < 3:
        mirror.load()
        caught_up(mirror)
        seen.append((mirror.position, held_on_hand()))
    writer.join()
    head = feeder.store.head()
    assert wait_until(lambda: feeder.read.projections["atp"].stored_position() >= head, timeout=30)
    caught_up(mirror)
    assert mirror.position >= head
    assert shape(mirror.rows(list(SKUS))) == tables_now(feeder)
    assert held_on_hand() == 120
    receipts = [r.position for r in feeder.store.read(0, 100_000) if r.topic == "StockReceived"]
    assert [units for _, units in seen] == [sum(1 for p in receipts if p <= upto) for upto, _ in seen]


def test_a_web_process_without_workers_answers_atp_from_its_mirror(database_url: str) -> None:
    settings = make_settings(database_url)
    with TestClient(app_for(settings)) as feeder, TestClient(app_for(settings, workers=False)) as web:
        worker_api, web_api = Api(feeder), Api(web)
        assert worker_api.put("/v1/warehouses/W-A", {"name": "A"}).status_code == 201
        assert worker_api.put("/v1/products/BOLT-10", {"name": "Bolt", "unit_price": "8.50"}).status_code == 201
        placed = worker_api.post(
            "/v1/inventory/receipts",
            {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 9}]},
        )
        assert placed.status_code == 201, placed.text
        position = placed.json()["position"]
        answer = web_api.get("/v1/atp/BOLT-10", min_position=position)
        assert answer.status_code == 200, answer.text
        assert answer.json()["on_hand"] == 9 and answer.json()["position"] >= position
        reads = web.app.state.service.read
        assert "atp" not in reads.running
        assert reads.atp_ready_in_memory and reads.positions_in_memory(("atp",))
        assert reads.position("atp") >= position
