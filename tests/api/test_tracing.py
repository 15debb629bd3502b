"""Tracing (API.md "Tracing"), on both stores: a request's W3C traceparent is stored with every event
it records and shown as the CloudEvents `traceparent` attribute in the feed and in webhooks; the
work that follows (backorder fill, billing, tax) stays in the same trace. With an OTLP endpoint,
spans reach a real OTLP/HTTP receiver started here, decoded with opentelemetry-proto."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from litestar.testing import TestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from api.app import create_app
from infra import tracing
from infra.settings import Settings
from tests.conftest import Api, _free_port, make_settings, seed, wait_until
from tests.http import ok, place
from tests.webhook_receiver import Receiver

T_ORDER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
T_RECEIPT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
T_SHIP = "00-11112222333344445555666677778888-1234567890abcdef-01"


def trace_of(traceparent: str) -> str:
    return traceparent.split("-")[1]


def feed(api: Api) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = ok(api.get("/v1/events", after=0, limit=1000), 200)["events"]
    return events


def traced_flow(api: Api) -> None:
    """An order backordered, the receipt that fills it, a shipment that is billed (each its own trace)."""
    assert place(api, "SO-T", [{"sku": "BOLT-10", "qty": 2}], headers={"traceparent": T_ORDER}).status_code == 201
    receipt = {"receipt_id": "R-T", "warehouse_id": "W-A", "lines": [{"sku": "BOLT-10", "qty": 5}]}
    assert api.post("/v1/inventory/receipts", receipt, headers={"traceparent": T_RECEIPT}).status_code == 201
    assert wait_until(lambda: api.get("/v1/orders/SO-T").json().get("status") == "allocated", timeout=10)
    shipment = {
        "shipment_id": "SH-T",
        "order_id": "SO-T",
        "warehouse_id": "W-A",
        "lines": [{"sku": "BOLT-10", "qty": 2}],
    }
    assert api.post("/v1/shipments", shipment, headers={"traceparent": T_SHIP}).status_code == 201
    assert wait_until(lambda: api.get("/v1/invoices/INV-SH-T").json().get("status") == "issued", timeout=10)


@pytest.fixture
def traced(database_url: str) -> Iterator[tuple[Api, Receiver]]:
    settings = make_settings(database_url, webhook_allow_private=True, webhook_retry_schedule=(0.05,))
    with Receiver() as receiver, TestClient(create_app(settings)) as client:
        api = Api(client)
        seed(api)
        hook = {"webhook_id": "t", "url": receiver.url, "event_types": ["*"]}
        receiver.secrets.append(ok(api.post("/v1/webhooks", hook), 201)["secret"])
        yield api, receiver


def test_a_request_trace_follows_its_events_and_the_work_they_cause(traced: tuple[Api, Receiver]) -> None:
    api, receiver = traced
    before = max(e["position"] for e in feed(api))
    traced_flow(api)
    events = [e for e in feed(api) if e["position"] > before]
    by_actor: dict[str, set[str | None]] = {}
    for e in events:
        by_actor.setdefault(e["actor"], set()).add(e.get("traceparent"))
    assert {e["traceparent"] for e in events if e["type"] == "o2c.OrderPlaced"} == {T_ORDER}
    assert {e["traceparent"] for e in events if e["type"] == "o2c.StockReceived"} == {T_RECEIPT}
    assert {e["traceparent"] for e in events if e["type"] == "o2c.ShipmentConfirmed"} == {T_SHIP}
    # the follow-on work continues the trace of the event that caused it
    filled = [e for e in events if e["type"] in ("o2c.BackorderFilled", "o2c.OrderLinesAllocated")]
    assert filled and {trace_of(e["traceparent"]) for e in filled} == {trace_of(T_RECEIPT)}
    for actor in ("workflow:backorder-fill", "workflow:promising"):  # when they acted, in a request's trace
        assert {trace_of(t) if t else None for t in by_actor.get(actor, set())} <= {
            trace_of(T_ORDER),
            trace_of(T_RECEIPT),
        }
    assert {trace_of(t) for t in by_actor["workflow:billing"] | by_actor["workflow:tax"]} == {trace_of(T_SHIP)}
    # events of requests without a traceparent carry none
    assert all("traceparent" not in e for e in feed(api) if e["position"] <= before)
    # webhooks carry the same attribute
    assert wait_until(lambda: len(receiver.received) >= len(events), timeout=10)
    sent = {r.event["id"]: r.event.get("traceparent") for r in receiver.received}
    assert all(sent[e["id"]] == e.get("traceparent") for e in events)


def test_a_malformed_traceparent_is_ignored(traced: tuple[Api, Receiver]) -> None:
    api, _ = traced
    for bad in ("00-zz-11-01", "00-" + "0" * 32 + "-b7ad6b7169203331-01", "garbage"):
        r = api.put("/v1/warehouses/W-X", {"name": bad[:20]})
        assert r.status_code in (200, 201)
        r = api.client.put("/v1/warehouses/W-Y", json={"name": "y"}, headers=api.headers({"traceparent": bad}))
        assert r.status_code in (200, 201)
    assert all("traceparent" not in e for e in feed(api))


# --- export over OTLP/HTTP ----------------------------------------------------------------------------


class OtlpReceiver:
    """A real OTLP/HTTP trace receiver: POST /v1/traces, protobuf, decoded with opentelemetry-proto."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, Any]] = []  # (trace id hex, span)
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if self.headers.get("content-encoding") == "gzip":
                    raw = gzip.decompress(raw)
                ok_path = self.path == "/v1/traces" and self.headers.get("content-type") == "application/x-protobuf"
                if ok_path:
                    request = ExportTraceServiceRequest.FromString(raw)
                    with outer.lock:
                        for rs in request.resource_spans:
                            for ss in rs.scope_spans:
                                outer.spans.extend((s.trace_id.hex(), s) for s in ss.spans)
                self.send_response(200 if ok_path else 404)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self.port = _free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def names(self, trace: str | None = None) -> set[str]:
        with self.lock:
            return {s.name for t, s in self.spans if trace is None or t == trace}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_with_an_otlp_endpoint_spans_are_exported_in_the_request_trace(database_url: str) -> None:
    otlp = OtlpReceiver()
    settings: Settings = make_settings(
        database_url,
        otlp_endpoint=f"http://127.0.0.1:{otlp.port}",
        webhook_allow_private=True,
        webhook_retry_schedule=(0.05,),
    )
    try:
        with Receiver() as receiver, TestClient(create_app(settings)) as client:
            api = Api(client)
            seed(api)
            hook = {"webhook_id": "t", "url": receiver.url, "event_types": ["StockReceived"]}
            receiver.secrets.append(ok(api.post("/v1/webhooks", hook), 201)["secret"])
            traced_flow(api)
            assert wait_until(lambda: receiver.received, timeout=10)
            assert receiver.received[0].headers["traceparent"].split("-")[1] == trace_of(T_RECEIPT)
            tracing.flush()
            wanted = {"POST /v1/inventory/receipts", "command ReceiveStock", "webhook attempt"}
            assert wait_until(lambda: wanted <= otlp.names(trace_of(T_RECEIPT)), timeout=10), otlp.names()
            assert wait_until(lambda: "tax call" in otlp.names(trace_of(T_SHIP)), timeout=10), otlp.names()
            assert "projection batch" in otlp.names()
            [server] = [s for t, s in otlp.spans if s.name == "POST /v1/inventory/receipts"]
            assert server.parent_span_id.hex() == T_RECEIPT.split("-")[2]  # a child of the caller's span
            attributes = {a.key: a.value for a in server.attributes}
            assert attributes["http.request.method"].string_value == "POST"
            assert attributes["http.route"].string_value == "/v1/inventory/receipts"
            assert attributes["http.response.status_code"].int_value == 201
            # the events carry the trace (the command span's traceparent under the request's)
            stored = [e for e in feed(api) if e["type"] == "o2c.StockReceived"]
            assert {trace_of(e["traceparent"]) for e in stored} == {trace_of(T_RECEIPT)}
    finally:
        tracing.shutdown()
        otlp.close()


def test_without_an_endpoint_nothing_is_set_up(api: Api) -> None:
    assert not tracing.enabled()
    with tracing.span("anything", T_ORDER) as span:
        assert span.traceparent == T_ORDER  # the parent passes through untouched
