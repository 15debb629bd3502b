"""The tax worker's retries, backoff, breaker and dead letters, driven by hand and in real time on a
real store against a real HTTP engine (tests/infra/tax_fakes.py)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from domain import catalog, customer
from domain.invoice import Invoice
from infra import commands
from infra.adapters.tax import (
    CircuitBreaker,
    RateTable,
    TaxResult,
    TaxUnavailableError,
    make_tax_engine,
)
from infra.ledger.kinds import INVOICE
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from infra.settings import Settings
from infra.workers.runner import Runner
from infra.workers.workflows import Billing, TaxWorker
from tests.conftest import make_settings, wait_until
from tests.infra.tax_fakes import FakeTaxEngine, an_invoice, tax_engine

tax_engine = tax_engine  # the fixture from tax_fakes, named here so pytest finds it for this module

# --- the tax worker against the real engine, driven by hand on a real store ------------------------


def run(svc: Service, action: Any) -> None:
    def handler(uow: UnitOfWork) -> None:
        action(uow)

    svc.ledger.run(Context(actor="test", correlation_id=str(uuid.uuid4()), causation_id="test"), handler)


def seed_and_ship(svc: Service, shipments: int) -> list[str]:
    """W-A, WIDGET at 12.49, customer CAL in CA, one order of `shipments` units shipped one by one."""
    run(svc, lambda uow: commands.put_warehouse(uow, catalog.PutWarehouse("W-A", "A")))
    run(svc, lambda uow: commands.put_product(uow, catalog.PutProduct("WIDGET", "Widget", Decimal("12.49"))))
    cal = customer.PutCustomer("CAL", "Cal Co", Decimal("100000.00"), "CA", "active")
    run(svc, lambda uow: commands.put_customer(uow, cal))
    run(svc, lambda uow: commands.receive_stock(uow, "R-1", "W-A", [("WIDGET", shipments)]))
    placed = commands.PlaceOrderInput(
        "SO-1", "CAL", "web", None, True, (commands.OrderLineInput("1", "WIDGET", shipments, None),), datetime.now(UTC)
    )
    run(svc, lambda uow: commands.place_order(uow, placed))
    ids = []
    for i in range(1, shipments + 1):
        cmd = commands.ShipInput(
            f"SH-{i}", "SO-1", "W-A", (("WIDGET", 1),), None, None, Decimal("0.00"), datetime.now(UTC)
        )
        run(svc, lambda uow, cmd=cmd: commands.ship(uow, cmd))
        ids.append(f"INV-SH-{i}")
    return ids


@pytest.fixture
def store_settings(database_url: str, tax_engine: FakeTaxEngine) -> Settings:
    return make_settings(
        database_url,
        tax_engine_url=tax_engine.url,
        tax_timeout=0.3,
        tax_retry_base=0.05,
        tax_retry_max=0.1,
        tax_max_attempts=3,
        breaker_threshold=1000,
    )


@pytest.fixture
def svc(store_settings: Settings) -> Iterator[Service]:
    service = Service.start(store_settings)
    yield service
    service.close()


class Followers:
    """The projections and the billing workflow, driven by hand until they have read the whole log."""

    def __init__(self, svc: Service) -> None:
        self.runner = Runner(svc.store, [*svc.read.projections.values(), Billing(svc.app, svc.engine, "shipment")])

    def run_once(self) -> None:
        for _ in range(20):
            if self.runner.run_once() == 0:
                assert self.runner.errors == {}, self.runner.errors
                return
        raise AssertionError("the followers did not catch up")


def runner_for(svc: Service) -> Followers:
    return Followers(svc)


def worker_for(svc: Service, settings: Settings | None = None) -> TaxWorker:
    settings = settings or svc.settings
    return TaxWorker(svc.app, svc.read, make_tax_engine(settings), settings)


def invoice(svc: Service, invoice_id: str) -> Invoice:
    inv, _ = svc.ledger.load(INVOICE, invoice_id)
    assert inv is not None, invoice_id
    return inv


def test_the_worker_issues_each_invoice_after_one_call_to_the_engine(svc: Service, tax_engine: FakeTaxEngine) -> None:
    ids = seed_and_ship(svc, 3)
    runner = runner_for(svc)
    runner.run_once()
    assert worker_for(svc).run_due() == 3
    assert tax_engine.per_invoice() == Counter(dict.fromkeys(ids, 1))
    assert tax_engine.problems == []
    assert [invoice(svc, i).number for i in ids] == [1, 2, 3]
    assert [(invoice(svc, i).tax, invoice(svc, i).attempts) for i in ids] == [(Decimal("0.91"), 1)] * 3
    runner.run_once()
    assert worker_for(svc).run_due() == 0  # nothing is due any more
    assert tax_engine.call_count() == 3


def test_a_failed_attempt_waits_for_its_backoff_before_the_next_call(
    svc: Service, store_settings: Settings, tax_engine: FakeTaxEngine
) -> None:
    tax_engine.set_mode("error")
    [inv_id] = seed_and_ship(svc, 1)
    runner = runner_for(svc)
    runner.run_once()
    slow = worker_for(svc, replace(store_settings, tax_retry_base=600.0, tax_retry_max=600.0))
    assert slow.run_due() == 1
    runner.run_once()
    assert slow.run_due() == 0  # not due for minutes
    failed = invoice(svc, inv_id)
    assert (failed.status, failed.attempts, failed.last_error) == ("awaiting_tax", 1, "tax engine answered 500")
    assert failed.next_attempt_at is not None and failed.next_attempt_at > datetime.now(UTC)
    assert tax_engine.call_count() == 1


def test_the_worker_dead_letters_an_invoice_after_max_attempts_calls_and_then_leaves_it_alone(
    svc: Service, tax_engine: FakeTaxEngine
) -> None:
    tax_engine.set_mode("hang")  # every call times out
    [inv_id] = seed_and_ship(svc, 1)
    runner = runner_for(svc)
    worker = worker_for(svc)

    def dead() -> bool:
        runner.run_once()
        worker.run_due()
        return invoice(svc, inv_id).status == "dead_lettered"

    assert wait_until(dead, timeout=20, interval=0.05)
    inv = invoice(svc, inv_id)
    assert (inv.attempts, inv.dead_letter_open) == (3, True)
    assert "Timeout" in (inv.last_error or "")
    runner.run_once()
    assert worker.run_due() == 0
    assert tax_engine.calls_for(inv_id) == 3
    assert svc.read.dead_letters()[0]["attempts"] == 3


def test_two_billing_followers_and_two_tax_workers_racing_on_one_store_issue_each_invoice_once(
    svc: Service, store_settings: Settings, tax_engine: FakeTaxEngine
) -> None:
    ids = seed_and_ship(svc, 12)
    other = Service.start(store_settings)
    stop = threading.Event()
    errors: list[BaseException] = []
    follower_errors: list[str] = []

    def all_issued(service: Service) -> bool:
        loaded = [service.ledger.load(INVOICE, inv_id)[0] for inv_id in ids]
        return all(inv is not None and inv.issued for inv in loaded)

    def loop(step: Any) -> None:
        try:
            while not stop.is_set():
                step()
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            errors.append(exc)
            stop.set()

    def racer(service: Service) -> Any:
        runner = Runner(service.store, [Billing(service.app, service.engine, "shipment")])
        worker = worker_for(service)

        def step() -> None:
            runner.run_once()
            follower_errors.extend(runner.errors.values())
            worker.run_due()

        return step

    projections = Runner(svc.store, list(svc.read.projections.values()))
    threads = [
        threading.Thread(target=loop, args=(step,), daemon=True)
        for step in (racer(svc), racer(other), projections.run_once)
    ]
    try:
        for t in threads:
            t.start()
        assert wait_until(lambda: all_issued(other) or bool(errors), timeout=30, interval=0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        other.close()
    assert errors == []
    # Both followers share the tracking row "workflow:billing". On a fresh database both may try to
    # insert it at once; the loser fails that pass and redoes it (idempotently) on the next one.
    # Any other follower failure is a bug.
    assert [e for e in follower_errors if "o2c_tracking" not in e] == []
    assert all_issued(svc)
    assert sorted(invoice(svc, i).number or 0 for i in ids) == list(range(1, len(ids) + 1))
    records = svc.store.read(0, 100_000)
    opened = Counter(getattr(r.event, "invoice_id", None) for r in records if r.topic == "InvoiceOpened")
    issued = Counter(getattr(r.event, "invoice_id", None) for r in records if r.topic == "InvoiceIssued")
    assigned = sorted(getattr(r.event, "number", 0) for r in records if r.topic == "NumberAssigned")
    assert opened == Counter(dict.fromkeys(ids, 1))
    assert issued == Counter(dict.fromkeys(ids, 1))
    assert assigned == list(range(1, len(ids) + 1))


# --- the breaker and the attempts, in real time: an engine that is down, then back -------------------


def test_whatever_the_configured_cooldown_the_breaker_probes_a_failing_engine_within_seconds(
    tax_engine: FakeTaxEngine,
) -> None:
    engine = make_tax_engine(Settings(tax_engine_url=tax_engine.url))  # the default cooldown
    assert isinstance(engine, CircuitBreaker)
    assert engine.cooldown <= 5.0
    assert make_tax_engine(Settings(tax_engine_url=tax_engine.url, breaker_cooldown=0.2)).cooldown == 0.2  # type: ignore[attr-defined]


def test_an_error_of_any_kind_in_a_trial_call_gives_the_trial_back() -> None:
    class Broken:
        def __init__(self) -> None:
            self.calls = 0

        def calculate(self, invoice: Invoice, currency: str) -> TaxResult:
            self.calls += 1
            if self.calls == 1:
                raise TaxUnavailableError("down")
            raise ZeroDivisionError("the engine's adapter has a bug")

    inner = Broken()
    breaker = CircuitBreaker(inner, threshold=1, cooldown=0.05)
    with pytest.raises(TaxUnavailableError):
        breaker.calculate(an_invoice(), "USD")
    for _ in range(2):  # each trial fails unexpectedly; the next one is still let through
        assert wait_until(lambda: breaker.state == "half_open", timeout=5)
        with pytest.raises(ZeroDivisionError):
            breaker.calculate(an_invoice(), "USD")
    assert inner.calls == 3 and breaker.state in ("open", "half_open")


class Background:
    """The projections and billing (a runner) and a tax worker, in threads, as `start_workers` runs them."""

    def __init__(self, svc: Service, worker: TaxWorker) -> None:
        self.followers = Followers(svc)
        self.worker = worker
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._follow, daemon=True)

    def _follow(self) -> None:
        while not self.stop.is_set():
            self.followers.runner.run_once()
            self.stop.wait(0.02)

    def __enter__(self) -> Background:
        self.thread.start()
        self.worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.worker.stop()
        self.thread.join(10)


def status_of(svc: Service, invoice_id: str) -> str | None:
    inv, _ = svc.ledger.load(INVOICE, invoice_id)
    return None if inv is None else inv.status


@pytest.fixture
def quick_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The breaker's longest wait before a trial call, made short for the test."""
    import infra.adapters.tax

    monkeypatch.setattr(infra.adapters.tax, "PROBE_AFTER_MAX", 0.3)


def test_with_the_engine_down_and_the_breaker_opening_each_invoice_dead_letters_after_three_calls_in_seconds(
    svc: Service, store_settings: Settings, tax_engine: FakeTaxEngine, quick_probe: None
) -> None:
    """O2C_TAX_MAX_ATTEMPTS=3 and a breaker that opens after 2 failures (and would stay open 30 s):
    calls the open breaker refuses are no attempts, yet every invoice gets its 3 calls in seconds."""
    tax_engine.set_mode("error")
    settings = replace(store_settings, breaker_threshold=2, breaker_cooldown=30.0)
    ids = seed_and_ship(svc, 3)
    started = time.monotonic()
    with Background(svc, worker_for(svc, settings)):
        done = wait_until(lambda: all(status_of(svc, i) == "dead_lettered" for i in ids), timeout=20)
    elapsed = time.monotonic() - started
    assert done, {i: (invoice(svc, i).status, invoice(svc, i).attempts) for i in ids}
    assert elapsed < 20
    assert tax_engine.per_invoice() == Counter(dict.fromkeys(ids, 3))  # every attempt a real call, 3 each
    assert [invoice(svc, i).attempts for i in ids] == [3, 3, 3]


def test_an_engine_that_comes_back_is_used_again_within_seconds(
    svc: Service, store_settings: Settings, tax_engine: FakeTaxEngine, quick_probe: None
) -> None:
    tax_engine.set_mode("error")
    settings = replace(store_settings, breaker_threshold=1, breaker_cooldown=30.0, tax_max_attempts=50)
    [inv_id] = seed_and_ship(svc, 1)
    worker = worker_for(svc, settings)
    with Background(svc, worker):
        assert wait_until(lambda: getattr(worker.tax, "state", None) != "closed", timeout=10)
        tax_engine.set_mode("ok")
        back = time.monotonic()
        assert wait_until(lambda: status_of(svc, inv_id) == "issued", timeout=10)
        assert time.monotonic() - back < 3
    assert invoice(svc, inv_id).tax == Decimal("0.91")


def test_an_invoice_whose_engine_call_raises_unexpectedly_uses_up_its_attempts_and_the_next_is_issued(
    svc: Service, store_settings: Settings
) -> None:
    class BrokenFor:
        """Built-in rates, except that one invoice makes the adapter raise something unexpected."""

        def __init__(self) -> None:
            self.rates = RateTable({"CA": Decimal("0.0725")})

        def calculate(self, inv: Invoice, currency: str) -> TaxResult:
            if inv.invoice_id == "INV-SH-1":
                raise KeyError("region table")
            return self.rates.calculate(inv, currency)

    ids = seed_and_ship(svc, 2)
    worker = TaxWorker(svc.app, svc.read, BrokenFor(), store_settings)
    runner = runner_for(svc)

    def settled() -> bool:
        runner.run_once()
        worker.run_due()
        return invoice(svc, ids[0]).status == "dead_lettered" and invoice(svc, ids[1]).issued

    assert wait_until(settled, timeout=20, interval=0.05), [
        (invoice(svc, i).status, invoice(svc, i).attempts) for i in ids
    ]
    broken = invoice(svc, ids[0])
    assert broken.attempts == 3 and "KeyError" in (broken.last_error or "")
    assert invoice(svc, ids[1]).number == 1
