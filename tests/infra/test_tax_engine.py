"""The tax engine port against a real HTTP engine (tests/infra/tax_fakes.py): the request it sends,
how failures and timeouts surface, which engine the settings pick, and the circuit breaker."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from domain.invoice import Invoice, InvoiceLine
from infra.adapters.tax import (
    CircuitBreaker,
    CircuitOpenError,
    HttpTaxEngine,
    RateTable,
    TaxResult,
    TaxUnavailableError,
    make_tax_engine,
)
from infra.settings import Settings
from infra.workers.workflows import TaxWorker
from tests.conftest import wait_until
from tests.infra.tax_fakes import FakeTaxEngine, an_invoice, tax_engine

tax_engine = tax_engine  # the fixture from tax_fakes, named here so pytest finds it for this module

# --- the HTTP engine adapter ---------------------------------------------------------------------


def test_the_engine_is_asked_with_the_invoice_the_region_and_money_as_two_place_strings(
    tax_engine: FakeTaxEngine,
) -> None:
    nuts = InvoiceLine(sku="NUT-4", qty=10, unit_price=Decimal("0.25"), amount=Decimal("2.5"), line_id="2")
    inv = replace(an_invoice(freight="7.5"), lines=(*an_invoice().lines, nuts), subtotal=Decimal("52.46"))
    HttpTaxEngine(tax_engine.url, timeout=2).calculate(inv, "EUR")
    assert tax_engine.problems == []
    assert tax_engine.calls == [
        {
            "invoice_id": "INV-SH-1",
            "customer_id": "CAL",
            "region": "CA",
            "currency": "EUR",
            "lines": [{"sku": "WIDGET", "amount": "49.96"}, {"sku": "NUT-4", "amount": "2.50"}],
            "freight": "7.50",
        }
    ]


def test_the_engines_tax_amount_is_taken_with_the_rate_it_implies(tax_engine: FakeTaxEngine) -> None:
    result = HttpTaxEngine(tax_engine.url, timeout=2).calculate(an_invoice(), "USD")
    assert result.tax == Decimal("4.17")  # EXAMPLES.md section 3
    assert result.rate == (Decimal("4.17") / Decimal("57.46")).quantize(Decimal("0.0000000001"))


def test_a_region_the_engine_does_not_tax_gets_zero_tax(tax_engine: FakeTaxEngine) -> None:
    result = HttpTaxEngine(tax_engine.url, timeout=2).calculate(an_invoice(region="OR"), "USD")
    assert (result.tax, result.rate) == (Decimal("0.00"), Decimal(0))


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("error", "answered 500"),
        ("malformed", "malformed"),
        ("negative", "negative"),
    ],
)
def test_an_engine_that_fails_or_answers_nonsense_is_unavailable(
    tax_engine: FakeTaxEngine, mode: str, message: str
) -> None:
    tax_engine.set_mode(mode)
    with pytest.raises(TaxUnavailableError, match=message):
        HttpTaxEngine(tax_engine.url, timeout=2).calculate(an_invoice(), "USD")
    assert tax_engine.call_count() == 1


def test_an_engine_slower_than_the_timeout_is_unavailable(tax_engine: FakeTaxEngine) -> None:
    tax_engine.set_mode("hang")
    with pytest.raises(TaxUnavailableError, match="Timeout"):
        HttpTaxEngine(tax_engine.url, timeout=0.3).calculate(an_invoice(), "USD")


def test_an_engine_that_is_not_listening_is_unavailable() -> None:
    engine = FakeTaxEngine()  # bound but never served: the connection is refused or never answered
    url = engine.url
    engine.server.server_close()
    with pytest.raises(TaxUnavailableError):
        HttpTaxEngine(url, timeout=0.3).calculate(an_invoice(), "USD")


def test_the_built_in_rate_table_taxes_lines_and_freight_and_unknown_regions_at_zero() -> None:
    table = RateTable({"CA": Decimal("0.0725")})
    assert table.calculate(an_invoice(), "USD") == TaxResult(Decimal("4.17"), Decimal("0.0725"))
    assert table.calculate(an_invoice(region="OR"), "USD") == TaxResult(Decimal("0.00"), Decimal("0.00"))


# --- which engine the settings pick ---------------------------------------------------------------


def test_with_both_rates_and_an_engine_url_the_url_wins(tax_engine: FakeTaxEngine) -> None:
    tax_engine.rates = {"CA": Decimal("0.10")}
    settings = Settings(tax_rates={"CA": Decimal("0.0725")}, tax_engine_url=tax_engine.url)
    engine = make_tax_engine(settings)
    assert isinstance(engine, CircuitBreaker) and isinstance(engine.engine, HttpTaxEngine)
    assert engine.calculate(an_invoice(), "USD").tax == Decimal("5.75")  # 57.46 x 0.10, not 4.17
    assert tax_engine.call_count() == 1


def test_without_an_engine_url_the_built_in_rates_are_used() -> None:
    engine = make_tax_engine(Settings(tax_rates={"CA": Decimal("0.0725")}))
    assert isinstance(engine, RateTable)
    assert engine.calculate(an_invoice(), "USD").tax == Decimal("4.17")


def test_the_engine_client_uses_the_configured_timeout(tax_engine: FakeTaxEngine) -> None:
    engine = make_tax_engine(Settings(tax_engine_url=tax_engine.url, tax_timeout=0.3))
    assert isinstance(engine, CircuitBreaker) and isinstance(engine.engine, HttpTaxEngine)
    assert engine.engine.client.timeout.read == 0.3
    assert HttpTaxEngine(tax_engine.url, Settings().tax_timeout).client.timeout.read == 2.0  # API.md: 2 s


# --- the circuit breaker --------------------------------------------------------------------------


class Scripted:
    """A tax engine that fails or answers as told, counting calls."""

    def __init__(self) -> None:
        self.failing = True
        self.calls = 0

    def calculate(self, invoice: Invoice, currency: str) -> TaxResult:
        self.calls += 1
        if self.failing:
            raise TaxUnavailableError("down")
        return TaxResult(Decimal("4.17"), Decimal("0.0725"))


def test_the_circuit_opens_after_threshold_consecutive_failures_and_holds_calls_back() -> None:
    inner = Scripted()
    breaker = CircuitBreaker(inner, threshold=2, cooldown=60)
    for _ in range(2):
        assert breaker.state == "closed"
        with pytest.raises(TaxUnavailableError):
            breaker.calculate(an_invoice(), "USD")
    assert breaker.state == "open"
    for _ in range(5):
        with pytest.raises(CircuitOpenError):
            breaker.calculate(an_invoice(), "USD")
    assert inner.calls == 2


def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    inner = Scripted()
    breaker = CircuitBreaker(inner, threshold=2, cooldown=60)
    with pytest.raises(TaxUnavailableError):
        breaker.calculate(an_invoice(), "USD")
    inner.failing = False
    breaker.calculate(an_invoice(), "USD")
    inner.failing = True
    with pytest.raises(TaxUnavailableError):
        breaker.calculate(an_invoice(), "USD")
    assert breaker.state == "closed" and inner.calls == 3


def test_after_the_cooldown_one_trial_call_is_let_through_and_a_success_closes_the_circuit() -> None:
    inner = Scripted()
    breaker = CircuitBreaker(inner, threshold=1, cooldown=0.05)
    with pytest.raises(TaxUnavailableError):
        breaker.calculate(an_invoice(), "USD")
    assert wait_until(lambda: breaker.state == "half_open", timeout=5)
    assert breaker.allow()  # the one trial call
    assert not breaker.allow()  # no second call while the trial is out
    breaker._trial = False  # give the trial back to make it through calculate()
    inner.failing = False
    assert breaker.calculate(an_invoice(), "USD").tax == Decimal("4.17")
    assert breaker.state == "closed" and breaker.failures == 0
    breaker.calculate(an_invoice(), "USD")
    assert inner.calls == 3


def test_a_failed_trial_call_opens_the_circuit_again() -> None:
    inner = Scripted()
    breaker = CircuitBreaker(inner, threshold=1, cooldown=0.05)
    with pytest.raises(TaxUnavailableError):
        breaker.calculate(an_invoice(), "USD")
    assert wait_until(lambda: breaker.state == "half_open", timeout=5)
    with pytest.raises(TaxUnavailableError) as caught:
        breaker.calculate(an_invoice(), "USD")
    assert not isinstance(caught.value, CircuitOpenError) and inner.calls == 2
    assert breaker.state in ("open", "half_open")
    breaker.cooldown = 60
    assert breaker.state == "open"
    with pytest.raises(CircuitOpenError):
        breaker.calculate(an_invoice(), "USD")
    assert inner.calls == 2


def test_the_breaker_around_a_real_engine_stops_calling_it_after_two_failures(tax_engine: FakeTaxEngine) -> None:
    tax_engine.set_mode("error")
    breaker = CircuitBreaker(HttpTaxEngine(tax_engine.url, 0.3), threshold=2, cooldown=60)
    raised = []
    for i in range(6):
        with pytest.raises(TaxUnavailableError) as caught:
            breaker.calculate(an_invoice(f"INV-SH-{i}"), "USD")
        raised.append(type(caught.value))
    assert raised == [TaxUnavailableError] * 2 + [CircuitOpenError] * 4
    assert tax_engine.call_count() == 2


def test_the_backoff_doubles_per_attempt_with_jitter_and_is_capped() -> None:
    worker = TaxWorker(None, None, RateTable({}), Settings(tax_retry_base=2.0, tax_retry_max=300.0))  # type: ignore[arg-type]
    for attempt, base in [(1, 2.0), (2, 4.0), (3, 8.0), (8, 256.0), (9, 300.0), (20, 300.0)]:
        delays = [worker.backoff(attempt) for _ in range(50)]
        assert all(0.5 * base <= d <= 1.5 * base for d in delays), (attempt, delays)
