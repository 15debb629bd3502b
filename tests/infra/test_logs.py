"""Structured logs: a real `o2c serve` writes one JSON object per stderr line, and a command's access
line and command line carry its correlation id, actor and position; runner batches, tax attempts
and dead letters carry theirs. Also the console format and tracebacks, in-process."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.adapters import logs
from tests.conftest import Api, _free_port, seed, wait_until
from tests.infra.test_lifecycle import ServerProcess, json_lines

CID = "log-test-order-1"


def first(lines: list[dict[str, Any]], **wanted: Any) -> dict[str, Any]:
    found = [line for line in lines if all(line.get(k) == v for k, v in wanted.items())]
    assert found, f"no line with {wanted}"
    return found[0]


def test_every_stderr_line_is_json_and_a_command_is_traced_by_correlation_id_actor_and_position(
    database_url: str, tmp_path: Path
) -> None:
    log_path = tmp_path / "serve.log"
    dead_engine = f"http://127.0.0.1:{_free_port()}"  # nothing listens: every tax attempt fails
    settings = {"O2C_LOG_LEVEL": "debug", "O2C_TAX_ENGINE_URL": dead_engine, "O2C_TAX_MAX_ATTEMPTS": "1"}
    with ServerProcess(database_url, log_path, **settings) as server:
        with httpx.Client(base_url=server.base, timeout=30) as client:
            api = Api(client)
            seed(api)
            receipt = {"receipt_id": "R-1", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 10}]}
            assert api.post("/v1/inventory/receipts", receipt).status_code == 201
            order = {"order_id": "SO-1", "customer_id": "C1", "channel": "web", "lines": [{"sku": "BOLT-10", "qty": 4}]}
            placed = api.post("/v1/orders", order, headers={"X-Correlation-ID": CID})
            assert placed.status_code == 201, placed.text
            position = placed.json()["position"]
            unknown = {"receipt_id": "R-2", "warehouse_id": "W-NOPE", "lines": [{"sku": "BOLT-10", "qty": 1}]}
            rejected = api.post("/v1/inventory/receipts", unknown, headers={"X-Correlation-ID": "log-test-bad"})
            assert rejected.status_code == 422
            shipment = {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A"}
            shipment["lines"] = [{"sku": "BOLT-10", "qty": 4}]
            assert api.post("/v1/shipments", shipment).status_code == 201
        # Billing invoices the shipment, the tax engine is down, the one allowed attempt dead-letters it.
        assert wait_until(
            lambda: any(line["event"] == "invoice dead-lettered" for line in json_lines(log_path)), timeout=30
        ), log_path.read_text()[-3000:]
        code, _ = server.terminate()
    assert code == 0

    lines = json_lines(log_path)  # every line parses as one JSON object
    for line in lines:
        assert {"timestamp", "level", "event", "logger"} <= line.keys(), line
    access = first(lines, logger="o2c.access", correlation_id=CID)
    assert access["method"] == "POST" and access["route"] == "/v1/orders" and access["status"] == 201
    assert access["actor"] == "admin" and access["position"] == position
    assert isinstance(access["duration_ms"], float) and access["duration_ms"] > 0
    command = first(lines, logger="o2c.commands", correlation_id=CID)
    assert command["event"] == "command accepted" and command["command"] == "PlaceOrder"
    assert command["actor"] == "admin" and command["position"] == position and command["level"] == "info"

    bad = first(lines, logger="o2c.commands", correlation_id="log-test-bad")
    assert bad["event"] == "command rejected" and bad["code"] == "unknown_warehouse" and bad["status"] == 422
    assert "position" not in bad  # nothing was recorded
    assert first(lines, logger="o2c.access", correlation_id="log-test-bad")["status"] == 422

    batch = first(lines, event="batch applied", follower="orders")
    assert batch["logger"] == "o2c.runner" and batch["position"] >= 1 and batch["level"] == "debug"
    assert any(line["follower"] == "atp" and line["position"] >= position for line in lines if "follower" in line)
    failed = first(lines, event="tax attempt failed", invoice_id="INV-SH-1")
    dead = first(lines, event="invoice dead-lettered", invoice_id="INV-SH-1")
    for line in (failed, dead):
        assert line["attempt"] == 1 and line["position"] > position and line["actor"] == "workflow:tax"
    assert dead["level"] == "error"
    assert first(lines, logger="uvicorn.error", event="Application startup complete.")["level"] == "info"


@pytest.fixture
def own_logging() -> Iterator[io.StringIO]:
    """Route logging to a buffer for one test, then put the process's logging back as it was."""
    touched = [logging.getLogger(), *(logging.getLogger(name) for name in logs.LIBRARY_LOGGERS)]
    saved = [(list(lg.handlers), lg.level, lg.propagate) for lg in touched]
    try:
        yield io.StringIO()
    finally:
        for lg, (handlers, level, propagate) in zip(touched, saved, strict=True):
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate = propagate
        logs.clear()


def test_a_traceback_stays_on_its_one_json_line_with_the_bound_request_facts(own_logging: io.StringIO) -> None:
    logs.configure("json", "info", stream=own_logging)
    logs.bind(correlation_id="cid-7", actor="webshop")
    try:
        raise RuntimeError("the store went away\nsecond line")
    except RuntimeError:
        logging.getLogger("o2c.runner").exception("follower %s failed", "atp", extra={"follower": "atp"})
    logging.getLogger("o2c.runner").debug("below the level: not written")
    (line,) = own_logging.getvalue().splitlines()
    record = json.loads(line)
    assert record["event"] == "follower atp failed" and record["follower"] == "atp" and record["level"] == "error"
    assert record["correlation_id"] == "cid-7" and record["actor"] == "webshop"
    assert "RuntimeError: the store went away" in record["exception"]


def test_the_console_format_is_readable_text(own_logging: io.StringIO) -> None:
    logs.configure("console", "debug", stream=own_logging)
    logs.get_logger("o2c.commands").info("command accepted", command="PlaceOrder", position=42)
    text = own_logging.getvalue()
    assert "command accepted" in text and "command=PlaceOrder" in text and "position=42" in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


def test_the_every_request_line_is_the_line_structlog_would_write(own_logging: io.StringIO) -> None:
    logs.configure("json", "info", stream=own_logging)
    logs.bind(correlation_id="cid-8", actor="portal", status="bound")  # the line's own `status` wins
    fast, chain = logs.every_request_logger("o2c.access"), logs.get_logger("o2c.access")
    for logger in (fast, chain):
        logger.log(logging.INFO, "request", method="GET", route="/v1/atp/{sku:str}", status=200, duration_ms=0.4)
        logger.log(logging.DEBUG, "request", method="GET", route="/healthz", status=200, duration_ms=0.1)
    written = [json.loads(line) for line in own_logging.getvalue().splitlines()]
    assert len(written) == 2  # the debug lines are below the level
    stamps = [line.pop("timestamp") for line in written]
    assert written[0] == written[1]
    assert written[0] == {
        "correlation_id": "cid-8",
        "actor": "portal",
        "status": 200,
        "method": "GET",
        "route": "/v1/atp/{sku:str}",
        "duration_ms": 0.4,
        "event": "request",
        "level": "info",
        "logger": "o2c.access",
    }
    for stamp in stamps:  # ISO 8601 in UTC, as structlog's TimeStamper writes it
        assert stamp.endswith("Z") and datetime.fromisoformat(stamp[:-1] + "+00:00").tzinfo is not None
    logs.configure("console", "debug", stream=own_logging)  # not JSON: the structlog chain renders it
    fast.log(logging.DEBUG, "request", route="/healthz")
    assert "request" in own_logging.getvalue().splitlines()[-1] and "route=/healthz" in own_logging.getvalue()
