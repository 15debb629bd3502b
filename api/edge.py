"""The one ASGI layer every request passes on its way to its handler: the correlation id, the trace
parent, the rate limit, the `Allow` of OPTIONS answers, and, when the answer is done, the request's
metrics and access line.

One layer rather than one middleware per concern: each Litestar middleware is another coroutine
call and, where it watches the answer, another `send` wrapper per request, and the bare request is
what issue 21 measures against plain Litestar (bench/RESULTS.md). The order of the concerns is the
order the separate middlewares had: the correlation id first, so a 429 carries one and is counted.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.deps import Provided
from api.ratelimit import EXEMPT, client_of, too_many
from api.security import new_correlation_id
from infra import tracing
from infra.adapters import logs
from infra.service import Service

# A correlation id is echoed in a response header and stored on every event: only a plain token of at most
# 128 characters is taken as given; anything else (control characters, spaces, markup, longer, sent twice) is
# replaced by a generated one rather than refused, so tracing never fails a request. fullmatch: `$` would let
# a trailing newline through.
_CID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes: access lines at debug
access_log = logs.every_request_logger("o2c.access")


def _correlation_id(scope: Scope) -> str:
    given = [v for k, v in scope["headers"] if k == b"x-correlation-id"]
    cid = given[0].decode("latin-1") if len(given) == 1 else ""
    return cid if _CID.fullmatch(cid) else new_correlation_id()


def _traceparent(scope: Scope) -> str | None:
    parents = [v for k, v in scope["headers"] if k == b"traceparent"]
    return tracing.parse_traceparent(parents[0].decode("latin-1")) if len(parents) == 1 else None


class _Allowed:
    """Every method of each path, for the `Allow` of an OPTIONS answer: Litestar merges handlers that
    share a path into one route but keeps the OPTIONS handler of the first, whose `Allow` lists only
    that first route's methods (e.g. GET without the PUT beside it). Read from the app's routes once."""

    def __init__(self) -> None:
        self._by_template: dict[str, bytes] = {}

    def of(self, scope: Scope) -> bytes | None:
        if not self._by_template:
            for route in scope["app"].routes:
                methods = getattr(route, "methods", None)
                if methods:
                    self._by_template[route.path_format] = ", ".join(sorted(methods)).encode()
        return self._by_template.get(str(scope.get("path_template") or ""))  # type: ignore[typeddict-item]


def _finish(scope: Scope, svc: Service | None, status: int, seconds: float) -> None:
    route = str(scope.get("path_template") or "unmatched")  # type: ignore[typeddict-item]
    if svc is not None and svc.metrics is not None:
        svc.metrics.observe_request(route, scope["method"], status, seconds)
    # one line per request; correlation_id, actor and a command's position come from the bound facts
    level = logging.DEBUG if route in _QUIET_ROUTES else logging.INFO
    if access_log.enabled(level):
        access_log.log(
            level,
            "request",
            method=scope["method"],
            route=route,
            status=status,
            duration_ms=round(seconds * 1000, 2),
        )


def edge_middleware(provided: Provided) -> Callable[[ASGIApp], ASGIApp]:
    """The layer around an ASGI app: the app's exception handler, which `api.app.wrap_edge` puts it
    around, so every answer passes it, the router's own 404 and 405 included. What it reads lives out
    here (the `Allow` table) or in `provided`: the service once the lifespan has started it (its keys
    and metrics) and the rate limit's buckets of this run."""
    allowed = _Allowed()

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            started = time.perf_counter()
            svc = provided.started
            cid = _correlation_id(scope)
            state = scope.setdefault("state", {})
            state["correlation_id"] = cid
            logs.clear()
            logs.bind(correlation_id=cid)
            span = tracing.current() if tracing.enabled() else None  # the server span of api/otel.py
            state["traceparent"] = span.traceparent if span is not None else _traceparent(scope)
            options = scope["method"] == "OPTIONS"
            status = 500

            async def answer(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-correlation-id"]
                    methods = allowed.of(scope) if options else None
                    if methods is not None:
                        headers = [h for h in headers if h[0].lower() != b"allow"]
                        headers.append((b"allow", methods))
                    headers.append((b"x-correlation-id", cid.encode()))
                    message = {**message, "headers": headers}  # type: ignore[typeddict-item]
                    route = scope.get("path_template")  # type: ignore[typeddict-item]
                    if span is not None and route:  # the plugin ends the span with the answer's last message
                        span.rename(f"{scope['method']} {route}")
                        span.set("http.route", str(route))
                await send(message)

            buckets = provided.buckets
            try:
                if buckets is not None and scope["path"] not in EXEMPT:
                    wait = buckets.take(await client_of(scope, svc))
                    if wait > 0:
                        await too_many(answer, wait)
                        return
                await app(scope, receive, answer)
            finally:
                _finish(scope, svc, status, time.perf_counter() - started)
                logs.clear()

        return middleware

    return wrap
