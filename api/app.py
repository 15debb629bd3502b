"""The Litestar application: routes, auth, problem documents, OpenAPI at /schema."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from litestar import Litestar, MediaType, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.middleware import AbstractMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.opentelemetry import OpenTelemetryPlugin
from litestar.routes import HTTPRoute
from litestar.types import ASGIApp

from api.billing import DeadLettersController, FinanceController, InvoicesController
from api.body import CommandRequest
from api.deps import Provided, dependencies
from api.edge import edge_middleware
from api.edi import EdiController
from api.errors import EXCEPTION_HANDLERS, problem
from api.expected import ExpectedReceiptsController
from api.fulfilment import ShipmentsController
from api.inventory import InventoryController
from api.journal import JournalController
from api.keys import AdminKeysController
from api.kpis import ops_kpis
from api.openapi import document
from api.ops import ops_page, ops_summary
from api.order_changes import OrderChangesController
from api.orders import OrdersController
from api.otel import otel_plugin
from api.price_lists import PriceListsController
from api.queries import AdminController, QueriesController
from api.receivables import ReceivablesController
from api.reconciliations import ReconciliationsController
from api.reference import ReferenceController
from api.security import require_scope, single_query_values
from api.tenancy import check_listed_routes, customer_scope, tenancy_guard
from api.verify import VerifyController
from api.webhooks import WebhooksController
from infra import tracing
from infra.adapters.metrics import Metrics
from infra.readside.readmodels import ReadModels
from infra.service import Service
from infra.settings import Settings, load_settings


@get("/healthz", operation_id="Health", tags=["operations"])
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


READY_MAX_LAG = 1000  # events a read model may trail the log and still count as caught up


@get("/readyz", operation_id="Ready", tags=["operations"])
async def readyz(reads: NamedDependency[ReadModels], service: NamedDependency[Service]) -> Response[Any]:
    """Ready when the store answers, no read model or workflow is stuck on an error (whatever its
    lag), and every read model is within READY_MAX_LAG of the log."""
    try:
        lag = await anyio.to_thread.run_sync(reads.lag)
        workers = await anyio.to_thread.run_sync(service.worker_status)
        failing = await anyio.to_thread.run_sync(service.stuck)
    except Exception as exc:  # noqa: BLE001 - any store failure means not ready
        return problem(
            503,
            "not_ready",
            "Not ready",
            f"The store is not reachable: {type(exc).__name__}",
            headers={"Retry-After": "1"},
        )
    behind = {name: n for name, n in lag.items() if n > READY_MAX_LAG}
    ready = not behind and not failing
    body: dict[str, Any] = {"status": "ready" if ready else "not_ready", "projection_lag": lag, "workers": workers}
    if failing:
        body["stuck"] = failing  # {name: error} of the read models and workflows not following the log
    return Response(body, status_code=200 if ready else 503, media_type=MediaType.JSON)


@get("/metrics", operation_id="Metrics", tags=["operations"], media_type="text/plain; version=0.0.4")
async def metrics(metrics: NamedDependency[Metrics | None]) -> Response[bytes]:
    """Prometheus text: traffic, command outcomes, retries, projection lag, business signals."""
    assert metrics is not None
    body = await anyio.to_thread.run_sync(metrics.render)
    return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")


async def guard(request: Request[Any, Any, Any]) -> None:
    """The app's guards, in order, as one hook before every handler (and before its parameters are read,
    as guards run): Litestar copies the route handler for each guard it calls (74.4 -> 62.7 µs per bare
    request in process without it, bench/RESULTS.md); a before-request hook is handed the request,
    whose scope names the handler."""
    handler = request.route_handler
    await require_scope(request, handler)
    await single_query_values(request, handler)
    await tenancy_guard(request, handler)


def check_guarded(app: Litestar) -> None:
    """Every HTTP route answers through `guard`. Guards add up over Litestar's layers; a before-request
    hook does not: the nearest layer's wins, so a controller or route with a hook of its own would skip
    the scope, query and tenancy checks. Refused at start, naming the routes."""
    unguarded = sorted(
        f"{sorted(handler.http_methods)} {route.path}"
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if handler.resolve_before_request() is not app.before_request
    )
    if unguarded:
        raise RuntimeError(f"routes with a before_request hook of their own skip the app's guard: {unguarded}")


def wrap_edge(app: Litestar, edge: Callable[[ASGIApp], ASGIApp], otel: OpenTelemetryPlugin | None) -> None:
    """Put the edge layer (api/edge.py) around the app's exception handler, inside the tracing
    plugin's server span. There, every answer passes it: a 404 or 405 from routing too (API.md: every
    response carries X-Correlation-ID), which a route middleware never sees. It also spares each
    request the second exception handler Litestar adds around a route once any route middleware
    is set (bench/RESULTS.md, 2026-12-04)."""
    handled = app.asgi_handler  # Litestar's: the router in its exception handler, in the plugin's middleware
    if otel is not None:
        assert isinstance(handled, AbstractMiddleware)
        app.asgi_handler = otel.middleware(edge(handled.app))
    else:
        app.asgi_handler = edge(handled)


def create_app(settings: Settings | None = None, workers: bool = True) -> Litestar:
    """The service; `workers` also runs projections and workflows in this process."""
    settings = settings or load_settings()
    provided = Provided(settings, workers)
    otel = None
    if settings.otlp_endpoint:  # the provider first: the plugin's request spans are built on it
        tracing.configure(settings.otlp_endpoint)
        otel = otel_plugin()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        svc = await anyio.to_thread.run_sync(Service.start, provided.settings)
        svc.keys.keep_fresh(svc.stopping)
        app.state.service = svc
        provided.start(svc)  # what the dependencies are made from (api/deps.py)
        if provided.workers:
            svc.start_workers()
        if not provided.workers or provided.settings.is_postgres:  # ATP in memory while another process runs it
            svc.mirror_atp()
        try:
            yield
        finally:
            try:
                await anyio.to_thread.run_sync(svc.close)
            finally:
                provided.stop()

    app = Litestar(
        route_handlers=[
            healthz,
            readyz,
            metrics,
            ops_page,
            ops_summary,
            ops_kpis,
            ReferenceController,
            PriceListsController,
            InventoryController,
            ReconciliationsController,
            OrdersController,
            OrderChangesController,
            ExpectedReceiptsController,
            ShipmentsController,
            QueriesController,
            AdminController,
            VerifyController,
            InvoicesController,
            FinanceController,
            DeadLettersController,
            JournalController,
            AdminKeysController,
            ReceivablesController,
            WebhooksController,
            EdiController,
        ],
        dependencies={**dependencies(provided), "customers": Provide(customer_scope, sync_to_thread=False)},
        before_request=guard,
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=[lifespan],
        plugins=[otel] if otel is not None else [],
        request_class=CommandRequest,
        request_max_body_size=1024 * 1024,
        openapi_config=OpenAPIConfig(
            title="o2c order-to-cash ledger",
            version="1.0.0",
            path="/schema",
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="API key")}
            ),
            security=[{"bearer": []}],
        ),
    )
    wrap_edge(app, edge_middleware(provided), otel)
    document(app)
    check_listed_routes(app)
    check_guarded(app)
    app.state.provided = provided
    return app


def rebind(app: Litestar, settings: Settings) -> None:
    """Point a stopped app at other settings for its next start: its database, limits, clock and
    workers' settings. What the routes were built with stays: where traces go (the OTLP plugin) and
    whether the lifespan starts workers. The tests build the routes once per process and start them
    on each test's database (docs/decisions/0030)."""
    if settings.otlp_endpoint != app.state.provided.settings.otlp_endpoint:
        raise ValueError("where traces go is part of how the app was built: create another app")
    app.state.provided.rebind(settings)
