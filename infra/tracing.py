"""W3C trace context and, when asked for, OpenTelemetry spans exported over OTLP/HTTP.

A `traceparent` travels with the work: a request's is stored in the metadata of every event it
records, the feed shows it as the CloudEvents `traceparent` attribute, and a workflow acting on an
event continues its trace. With an OTLP endpoint configured (`OTEL_EXPORTER_OTLP_ENDPOINT`, read
by infra/settings.py), `span` opens real spans (command, projection batch, tax call, webhook
attempt; the request's server span comes from Litestar's plugin, api/otel.py) and answers their
traceparent; without one it opens nothing and answers the parent it was given, so tracing costs
one `is None` test (docs/decisions/0023-tracing.md)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_TRACEPARENT = re.compile(r"\A00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})\Z")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16

_tracer: Any = None  # the configured SDK tracer; None: export is off
_provider: Any = None
_endpoint: str | None = None


def parse_traceparent(value: str | None) -> str | None:
    """A valid version-00 traceparent, lower-cased; None for anything else (W3C: ignore it)."""
    if not value:
        return None
    value = value.strip().lower()
    match = _TRACEPARENT.match(value)
    if match is None or match.group(1) == _ZERO_TRACE or match.group(2) == _ZERO_SPAN:
        return None
    return value


def trace_id(traceparent: str | None) -> str | None:
    return traceparent.split("-")[1] if traceparent else None


def enabled() -> bool:
    return _tracer is not None


def configure(endpoint: str | None, service_name: str = "o2c") -> None:
    """Export spans to `endpoint` (OTLP/HTTP protobuf, `<endpoint>/v1/traces`); None: export nothing.
    Configuring the endpoint already in use keeps its provider (the app's request spans hold it)."""
    global _tracer, _provider, _endpoint
    if endpoint and _provider is not None and endpoint == _endpoint:
        return
    shutdown()
    if not endpoint:
        return
    # HTTP spans with the stable semantic conventions (http.request.method, http.response.status_code)
    # unless the operator chose otherwise; read once, when the first instrumentation is built
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=500))
    _provider, _endpoint = provider, endpoint
    _tracer = provider.get_tracer("o2c")


def provider() -> Any:
    """The SDK tracer provider in use (None when export is off), for the HTTP instrumentation."""
    return _provider


def flush() -> None:
    if _provider is not None:
        _provider.force_flush()


def shutdown() -> None:
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


def _context_of(traceparent: str | None) -> Any:
    if traceparent is None:
        return None  # the current context (the enclosing span, if any)
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


def _traceparent_of(span: Any) -> str:
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def current() -> Span:
    """The span the caller runs in (the HTTP server span inside a request), as a handle; its
    traceparent is None when export is off or no span is open."""
    if _tracer is None:
        return Span(None, None)
    from opentelemetry import trace

    s = trace.get_current_span()
    return Span(_traceparent_of(s), s) if s.get_span_context().is_valid else Span(None, None)


@contextmanager
def span(name: str, parent: str | None = None, kind: str = "internal", **attributes: Any) -> Iterator[Any]:
    """A span named `name` under `parent` (or the current span); yields a `Span` handle whose
    `traceparent` is the span's own (or `parent` when export is off)."""
    if _tracer is None:
        yield Span(parent, None)
        return
    from opentelemetry.trace import SpanKind

    kinds = {"internal": SpanKind.INTERNAL, "server": SpanKind.SERVER, "client": SpanKind.CLIENT}
    attrs = {k.replace("__", "."): v for k, v in attributes.items() if v is not None}
    with _tracer.start_as_current_span(name, context=_context_of(parent), kind=kinds[kind], attributes=attrs) as s:
        yield Span(_traceparent_of(s), s)


class Span:
    """What `span` hands the caller: the traceparent to pass on, and attributes to add."""

    __slots__ = ("_span", "traceparent")

    def __init__(self, traceparent: str | None, span: Any) -> None:
        self.traceparent = traceparent
        self._span = span

    def rename(self, name: str) -> None:
        if self._span is not None:
            self._span.update_name(name)

    def set(self, key: str, value: Any) -> None:
        if self._span is not None and value is not None:
            self._span.set_attribute(key, value)

    def error(self, message: str) -> None:
        if self._span is not None:
            from opentelemetry.trace import Status, StatusCode

            self._span.set_status(Status(StatusCode.ERROR, message))
