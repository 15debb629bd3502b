"""`FakeTaxEngine`: a small HTTP tax engine on 127.0.0.1 (a free port) that computes the tax from
the request, checks the request's shape, counts calls per invoice, and can be switched to fail
(500), hang longer than the client's timeout, or answer nonsense. Used by the tax engine and tax
worker tests and by tests/api/billing.py.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from domain.invoice import Invoice, InvoiceLine

MONEY = re.compile(r"-?\d+\.\d{2}")
REQUEST_KEYS = {"invoice_id", "customer_id", "region", "currency", "lines", "freight"}


def request_problems(body: Any) -> list[str]:
    """What is wrong with a tax request, against API.md's shape (money as 2-place strings)."""
    if not isinstance(body, dict):
        return [f"the body is not an object: {body!r}"]
    problems = []
    if set(body) != REQUEST_KEYS:
        problems.append(f"keys {sorted(body)} are not {sorted(REQUEST_KEYS)}")
    for key in ("invoice_id", "customer_id", "region", "currency"):
        if not isinstance(body.get(key), str):
            problems.append(f"{key} is not a string: {body.get(key)!r}")
    lines = body.get("lines")
    if not isinstance(lines, list) or not lines:
        problems.append(f"lines is not a non-empty list: {lines!r}")
    else:
        for ln in lines:
            if not isinstance(ln, dict) or set(ln) != {"sku", "amount"}:
                problems.append(f"line {ln!r} is not {{sku, amount}}")
            elif (
                not isinstance(ln["sku"], str) or not isinstance(ln["amount"], str) or not MONEY.fullmatch(ln["amount"])
            ):
                problems.append(f"line {ln!r}: sku must be a string and amount a 2-place string")
    freight = body.get("freight")
    if not isinstance(freight, str) or not MONEY.fullmatch(freight):
        problems.append(f"freight is not a 2-place string: {freight!r}")
    return problems


class FakeTaxEngine:
    """A real tax engine over HTTP. `mode`: ok | error (500) | hang (answers after `hang_for` s,
    longer than the client's timeout) | malformed (200 without tax_amount) | negative."""

    def __init__(self, rates: dict[str, str] | None = None, hang_for: float = 1.5) -> None:
        self.rates = {k: Decimal(v) for k, v in (rates or {"CA": "0.0725"}).items()}
        self.mode = "ok"
        self.hang_for = hang_for
        self.calls: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                problems = request_problems(body)
                if self.headers.get_content_type() != "application/json":
                    problems.append(f"content type {self.headers.get_content_type()}")
                with engine._lock:
                    mode = engine.mode
                    engine.calls.append(body if isinstance(body, dict) else {"raw": body})
                    engine.problems.extend(problems)
                if problems:
                    return self._answer(400, {"error": problems})
                if mode == "error":
                    return self._answer(500, {"error": "engine down"})
                if mode == "hang":
                    engine._release.wait(engine.hang_for)
                if mode == "malformed":
                    return self._answer(200, {"tax": "1.00"})
                if mode == "negative":
                    return self._answer(200, {"tax_amount": "-1.00"})
                return self._answer(200, {"tax_amount": str(engine.tax_for(body))})

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout) before the answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tax"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def tax_for(self, body: dict[str, Any]) -> Decimal:
        base = sum((Decimal(ln["amount"]) for ln in body["lines"]), Decimal(0)) + Decimal(body["freight"])
        rate = self.rates.get(body["region"], Decimal(0))
        return (base * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    def set_mode(self, mode: str) -> None:
        with self._lock:
            self.mode = mode

    def calls_for(self, invoice_id: str) -> int:
        with self._lock:
            return sum(1 for c in self.calls if c.get("invoice_id") == invoice_id)

    def call_count(self) -> int:
        with self._lock:
            return len(self.calls)

    def per_invoice(self) -> Counter[str]:
        with self._lock:
            return Counter(str(c.get("invoice_id")) for c in self.calls)

    def start(self) -> FakeTaxEngine:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@pytest.fixture
def tax_engine() -> Iterator[FakeTaxEngine]:
    engine = FakeTaxEngine().start()
    yield engine
    engine.stop()


def an_invoice(
    invoice_id: str = "INV-SH-1", region: str = "CA", freight: str = "7.50", customer_id: str = "CAL"
) -> Invoice:
    """EXAMPLES.md section 3: 4 x 12.49 with freight 7.50."""
    line = InvoiceLine(sku="WIDGET", qty=4, unit_price=Decimal("12.49"), amount=Decimal("49.96"), line_id="1")
    return Invoice(
        invoice_id, "invoice", "SO-1", "SH-1", customer_id, region, (line,), Decimal(freight), Decimal("49.96")
    )
