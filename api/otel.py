"""HTTP server spans by Litestar's OpenTelemetry plugin (opentelemetry-instrumentation-asgi), on the
tracer provider infra/tracing.py configured for OTLP export. Only built when an endpoint is set: with
none, the app has no such middleware at all (docs/decisions/0023-tracing.md)."""

from __future__ import annotations

from typing import Any

from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

from infra import tracing


def _span_details(scope: Any) -> tuple[str, dict[str, Any]]:
    # the route is not matched yet when the span opens: named by the method alone (HTTP semantic
    # conventions), renamed "METHOD /route/{template}" by the edge layer (api/edge.py) once it is
    return str(scope.get("method") or scope.get("type", "")), {}


def otel_plugin() -> OpenTelemetryPlugin:
    """The plugin over the configured provider; call after `tracing.configure(endpoint)`."""
    return OpenTelemetryPlugin(
        OpenTelemetryConfig(
            tracer_provider=tracing.provider(),
            scope_span_details_extractor=_span_details,
            exclude_spans=["receive", "send"],  # one span per request, not one per ASGI message
        )
    )
