"""An event a read model cannot store is parked and the read model moves on; so does a rebuild.

"Cannot store" is what the store itself refuses: a NUL character in a text column (PostgreSQL), a
number beyond 64 bits (both stores), a string longer than its column. Such an event is recorded in
`o2c_parked` like an event whose evolve raises, and every other event still applies. A store that
cannot be reached is not a reason to park anything: the batch is retried. Workflows park the events
they cannot act on (a business rule refuses the command) instead of failing on them forever.

Both stores; the events are recorded through the ledger directly, past the HTTP edge that refuses
such input.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

import infra.commands.billing
import infra.readside.batches
from domain import catalog, inventory
from domain.errors import NotFoundError
from infra import commands
from infra.ledger.kinds import INVOICE, POSITION, PRODUCT
from infra.ledger.unitofwork import Outcome, UnitOfWork
from infra.readside.rebuild import rebuild
from infra.readside.tables import parked
from infra.service import Service
from infra.workers.runner import Runner
from infra.workers.workflows import Billing
from projections import ALL
from tests.infra.readside import fold_log, make_runner, run, seed_reference, service, settle, snapshot, store_of

SKUS = {"BOLT-10": "8.50", "NUT-4": "0.25"}


def nul_name(uow: UnitOfWork) -> None:
    """PUT /v1/products/BAD-1 with a name holding U+0000, as the edge accepted it before."""
    event = catalog.ProductDefined(sku="BAD-1", name="Bad\x00name", unit_price=Decimal("1.00"), uom="EA")
    uow.record(PRODUCT, "BAD-1", [event])


def huge_receipt(uow: UnitOfWork) -> None:
    """A receipt whose quantity does not fit the 64-bit on-hand column of either store."""
    event = inventory.StockReceived(sku="HUGE", warehouse_id="W-A", receipt_id="R-HUGE", qty=2**63)
    uow.record(POSITION, "HUGE@W-A", [event])


BAD: dict[str, tuple[Callable[[UnitOfWork], None], str]] = {
    "nul-in-a-name": (nul_name, "ProductDefined"),
    "a-number-beyond-64-bits": (huge_receipt, "StockReceived"),
}


def receive(svc: Service, receipt_id: str, qty: int, sku: str = "BOLT-10") -> Outcome:
    return run(svc, lambda uow: commands.receive_stock(uow, receipt_id, "W-A", [(sku, qty)]))


def history_with_one_bad_event(svc: Service, bad: Callable[[UnitOfWork], None], around: int = 3) -> int:
    """Receipts, the bad event, more receipts; answers the bad event's position."""
    seed_reference(svc, SKUS, {"C1": "100000.00"})
    for i in range(around):
        receive(svc, f"R-A{i}", 1)
    position = run(svc, bad).position
    for i in range(around):
        receive(svc, f"R-B{i}", 2)
    return position


def expected_without(svc: Service, name: str, position: int) -> dict[str, list[dict[str, Any]]]:
    """What the pure spec makes of the log with the event at `position` left out."""
    records = [r for r in svc.store.read(0, 1_000_000) if r.position != position]
    return fold_log(ALL[name], records)


def parked_positions(svc: Service, name: str) -> list[tuple[str, int]]:
    return [(p["event_type"], p["position"]) for p in svc.read[name].parked()]


@pytest.mark.parametrize("case", list(BAD))
def test_an_event_whose_rows_the_store_cannot_hold_is_parked_and_the_read_model_moves_on(
    database_url: str, case: str
) -> None:
    bad, topic = BAD[case]
    with service(database_url) as svc:
        position = history_with_one_bad_event(svc, bad)
        settle(make_runner(svc))  # asserts that no follower is left failing

        atp = svc.read["atp"]
        assert atp.stored_position() == svc.store.head()
        assert parked_positions(svc, "atp") == [(topic, position)]
        assert svc.read.atp(["BOLT-10"], None, svc.clock.today())["BOLT-10"]["on_hand"] == 9  # type: ignore[index]
        assert snapshot(svc, ("atp",)) == expected_without(svc, "atp", position)
        incremental = snapshot(svc)

        rebuilt = rebuild(atp)  # finishes, and parks the same event in the new generation
        assert rebuilt["position"] == svc.store.head()
        assert parked_positions(svc, "atp") == [(topic, position)]
        assert snapshot(svc) == incremental

    with service(database_url) as restarted:  # nothing is left to retry after a restart
        runner = make_runner(restarted)
        settle(runner)
        assert parked_positions(restarted, "atp") == [(topic, position)]
        assert snapshot(restarted) == incremental


def test_a_value_the_store_refuses_at_write_time_is_isolated_to_its_event_live_and_in_a_rebuild(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store's own refusal, with no check before the write: the batch of ~60 events that fails
    is split until the one event is found; the others apply, in order, exactly once."""
    monkeypatch.setattr(infra.readside.batches, "unstorable", lambda *args: None)
    with service(database_url) as svc:
        position = history_with_one_bad_event(svc, huge_receipt, around=30)
        runner = make_runner(svc, batch_size=1000)  # the whole log is one batch
        settle(runner)

        atp = svc.read["atp"]
        assert atp.stored_position() == svc.store.head()
        assert parked_positions(svc, "atp") == [("StockReceived", position)]
        [entry] = atp.parked()
        driver = "DataError" if store_of(database_url) == "postgres" else "OverflowError"
        assert driver in entry["error"], entry["error"]
        assert snapshot(svc, ("atp",)) == expected_without(svc, "atp", position)
        incremental = snapshot(svc)

        rebuild(atp)  # the deferred flush fails: the rebuild redoes its unwritten part event by event
        assert parked_positions(svc, "atp") == [("StockReceived", position)]
        assert snapshot(svc) == incremental
        assert atp.stored_position() == svc.store.head()


def test_a_store_that_cannot_be_reached_parks_nothing_and_the_batch_is_retried(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = infra.readside.batches._write
    failures = []

    def connection_lost(conn: sa.Connection, table: sa.Table, *args: Any) -> None:
        if table.name.startswith("rm_skus") and not failures:
            failures.append(table.name)
            cause = psycopg.OperationalError("server closed the connection unexpectedly")
            raise sa.exc.OperationalError("INSERT", {}, cause)
        real_write(conn, table, *args)

    with service(database_url) as svc:
        seed_reference(svc, SKUS, {"C1": "100000.00"})
        monkeypatch.setattr(infra.readside.batches, "_write", connection_lost)
        atp = svc.read["atp"]
        runner = Runner(svc.store, [atp])
        runner.run_once()
        assert failures and "OperationalError" in runner.errors["atp"]
        assert atp.stored_position() == 0 and atp.parked() == []
        settle(runner)
        assert atp.stored_position() == svc.store.head() and atp.parked() == []
        assert {r["sku"] for r in snapshot(svc, ("atp",))["atp.skus"]} == set(SKUS)


def ship(svc: Service, shipment_id: str, qty: int) -> None:
    cmd = commands.ShipInput(
        shipment_id, "SO-1", "W-A", (("BOLT-10", qty),), None, None, Decimal("0.00"), datetime.now(UTC)
    )
    run(svc, lambda uow: commands.ship(uow, cmd))


def test_a_workflow_parks_an_event_it_cannot_act_on_and_goes_on_with_the_next(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = commands.open_invoice

    def refuse_sh1(uow: UnitOfWork, shipment_id: str, *args: Any) -> Any:
        if shipment_id == "SH-1":
            raise NotFoundError(f"Shipment {shipment_id} has no order line to bill")
        return real_open(uow, shipment_id, *args)

    with service(database_url) as svc:
        seed_reference(svc, SKUS, {"C1": "100000.00"})
        receive(svc, "R-1", 10)
        line = commands.OrderLineInput("1", "BOLT-10", 4, None)
        placed = commands.PlaceOrderInput("SO-1", "C1", "web", "W-A", True, (line,), datetime.now(UTC))
        run(svc, lambda uow: commands.place_order(uow, placed))
        ship(svc, "SH-1", 2)
        ship(svc, "SH-2", 2)
        monkeypatch.setattr(infra.commands.billing, "open_invoice", refuse_sh1)
        follower = Billing(svc.app, svc.engine, "shipment")
        runner = Runner(svc.store, [follower])
        settle(runner)

        assert follower.position() == svc.store.head()
        assert svc.ledger.load(INVOICE, "INV-SH-2")[0] is not None
        assert svc.ledger.load(INVOICE, "INV-SH-1")[0] is None
        with svc.engine.connect() as conn:
            entries = conn.execute(sa.select(parked).where(parked.c.projection == "workflow:billing")).mappings().all()
        assert [(e["event_type"], "no order line to bill" in e["error"]) for e in entries] == [
            ("ShipmentConfirmed", True)
        ]
        runner.run_once()  # a replay of the same events parks nothing twice
        assert len(follower.parked()) == 1
        assert svc.read.signals()["parked_events"] == {**dict.fromkeys(ALL, 0), "workflow:billing": 1}
