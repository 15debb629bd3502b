"""The tax engine port and its adapters: the built-in rate table and an outside HTTP engine."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import httpx
import msgspec

from domain.invoice import Invoice, effective_rate, tax_from_rate
from domain.values import ZERO, format_money, parse_amount
from infra.settings import Settings


class TaxUnavailableError(Exception):
    """The engine could not give an answer now (down, slow, or a malformed reply)."""


@dataclass(frozen=True)
class TaxResult:
    tax: Decimal
    rate: Decimal  # kept on the invoice so credit notes are taxed alike


class TaxEngine(Protocol):
    def calculate(self, invoice: Invoice, currency: str) -> TaxResult: ...


class RateTable:
    """O2C_TAX_RATES: a rate per region applied to lines and freight (unknown region: 0)."""

    def __init__(self, rates: dict[str, Decimal]) -> None:
        self.rates = rates

    def calculate(self, invoice: Invoice, currency: str) -> TaxResult:
        rate = self.rates.get(invoice.tax_region, ZERO)
        return TaxResult(tax_from_rate(invoice.subtotal, invoice.freight, rate), rate)


class _Reply(msgspec.Struct):
    tax_amount: str


class HttpTaxEngine:
    """POST {invoice_id, customer_id, region, currency, lines: [{sku, amount}], freight} -> {tax_amount}."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self.client = httpx.Client(timeout=timeout)

    def calculate(self, invoice: Invoice, currency: str) -> TaxResult:
        request = {
            "invoice_id": invoice.invoice_id,
            "customer_id": invoice.customer_id,
            "region": invoice.tax_region,
            "currency": currency,
            "lines": [{"sku": ln.sku, "amount": format_money(ln.amount)} for ln in invoice.lines],
            "freight": format_money(invoice.freight),
        }
        try:
            response = self.client.post(self.url, json=request)
        except httpx.HTTPError as exc:
            raise TaxUnavailableError(f"{type(exc).__name__}: {exc}") from None
        if response.status_code != 200:
            raise TaxUnavailableError(f"tax engine answered {response.status_code}")
        try:
            tax = parse_amount(msgspec.json.decode(response.content, type=_Reply).tax_amount)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            raise TaxUnavailableError(f"malformed tax engine reply: {exc}") from None
        if tax < ZERO:
            raise TaxUnavailableError("tax engine answered a negative tax")
        return TaxResult(tax, effective_rate(tax, invoice.subtotal, invoice.freight))


class CircuitOpenError(TaxUnavailableError):
    """Calls are held back while the engine is presumed down."""


PROBE_AFTER_MAX = 5.0  # seconds the circuit stays open at most before its trial call (any configuration)


class CircuitBreaker:
    """After `threshold` consecutive failures the circuit opens for `cooldown` seconds; then one
    trial call is let through (half-open): success closes it, failure opens it again. A call it
    refuses raises CircuitOpenError and never reaches the engine (so it is no attempt); any error of
    a call that did reach it counts as a failure, and always gives the trial back."""

    def __init__(self, engine: TaxEngine, threshold: int, cooldown: float) -> None:
        self.engine = engine
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()
        self._trial = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half_open" if time.monotonic() - self.opened_at >= self.cooldown else "open"

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            if time.monotonic() - self.opened_at >= self.cooldown and not self._trial:
                self._trial = True
                return True
            return False

    def calculate(self, invoice: Invoice, currency: str) -> TaxResult:
        if not self.allow():
            raise CircuitOpenError("tax engine circuit is open")
        try:
            result = self.engine.calculate(invoice, currency)
        except BaseException as exc:
            with self._lock:
                self._trial = False  # whatever happened, the next trial must be possible
                if isinstance(exc, Exception):
                    self.failures += 1
                    if self.failures >= self.threshold or self.opened_at is not None:  # a failed trial re-opens
                        self.opened_at = time.monotonic()
            raise
        with self._lock:
            self.failures = 0
            self.opened_at = None
            self._trial = False
        return result


def make_tax_engine(settings: Settings) -> TaxEngine:
    """The HTTP engine wins when both are configured (API.md). The circuit probes a failing engine
    within PROBE_AFTER_MAX seconds whatever `breaker_cooldown` says: a recovered engine is used
    again within seconds, and invoices still reach their attempts (and the dead-letter list) in
    seconds rather than one attempt per long cooldown."""
    if settings.tax_engine_url:
        return CircuitBreaker(
            HttpTaxEngine(settings.tax_engine_url, settings.tax_timeout),
            settings.breaker_threshold,
            min(settings.breaker_cooldown, PROBE_AFTER_MAX),
        )
    return RateTable(settings.tax_rates)
