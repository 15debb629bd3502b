"""Authentication by API key and scope, plus the correlation id every response carries."""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import ProblemError, invalid
from api.models import PATTERN_MESSAGES, TEXT_PATTERN
from infra import tracing
from infra.adapters import logs
from infra.service import Service


def new_correlation_id() -> str:
    """A random UUID (version 4) from the process's PRNG: correlation ids must be unique, not secret,
    and uuid.uuid4() asks the kernel for randomness on every request (11% of a read's time here)."""
    return str(uuid.UUID(int=random.getrandbits(128), version=4))


# A correlation id is echoed in a response header and stored on every event: only a plain token of at most
# 128 characters is taken as given; anything else (control characters, spaces, markup, longer, sent twice) is
# replaced by a generated one rather than refused, so tracing never fails a request. fullmatch: `$` would let
# a trailing newline through.
_CID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")
_TEXT = re.compile(TEXT_PATTERN)
_QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})  # probes and scrapes: access lines at debug
access_log = logs.get_logger("o2c.access")


def _invalid_header(name: str, message: str) -> ProblemError:
    return invalid([{"field": name, "message": message}])


def check_idempotency_key(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    """The Idempotency-Key is stored with the command's answer and names it in its causation id: once, 1-255
    characters, and the rule of text fields (no control characters), else 422 invalid_request naming it."""
    given = [v for k, v in connection.scope["headers"] if k == b"idempotency-key"]
    if not given:
        return
    if len(given) > 1:
        raise _invalid_header("Idempotency-Key", "must be sent once")
    key = given[0].decode("latin-1")
    if not 1 <= len(key) <= 255:
        raise _invalid_header("Idempotency-Key", "must be 1-255 characters")
    if not _TEXT.match(key):
        raise _invalid_header("Idempotency-Key", PATTERN_MESSAGES[TEXT_PATTERN])


async def require_scope(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard: routes name their scope in `opt['scope']`; routes without one are public."""
    scope = handler.opt.get("scope")
    if scope is None:
        return
    header = connection.headers.get("authorization", "")
    token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    svc: Service = connection.app.state.service
    seen = connection.scope.get("state", {}).get("authenticated")  # looked up by the rate limiter
    if not token:
        principal = None
    elif seen is not None and seen[0] == token:
        principal = seen[1]
    elif svc.keys.fresh:  # answered from memory: no need to leave the event loop
        principal = svc.keys.authenticate(token)
    else:
        principal = await anyio.to_thread.run_sync(svc.keys.authenticate, token)
    if principal is None:
        raise ProblemError(
            401,
            "unauthenticated",
            "Authentication required",
            "Send a valid API key as 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    logs.bind(actor=principal.name)
    if not principal.allows(scope):
        raise ProblemError(403, "forbidden", "Forbidden", f"The key '{principal.name}' lacks the scope '{scope}'")
    connection.state["principal"] = principal


def _observe(scope: Scope, status: int, seconds: float) -> None:
    svc = getattr(scope["app"].state, "service", None) if "app" in scope else None
    if svc is None or svc.metrics is None:
        return
    route = str(scope.get("path_template") or "unmatched")  # type: ignore[typeddict-item]
    svc.metrics.observe_request(route, scope["method"], status, seconds)


def _access(scope: Scope, status: int, seconds: float) -> None:
    """One line per request; correlation_id, actor and a command's position come from the contextvars."""
    route = str(scope.get("path_template") or "unmatched")  # type: ignore[typeddict-item]
    access_log.log(
        logging.DEBUG if route in _QUIET_ROUTES else logging.INFO,
        "request",
        method=scope["method"],
        route=route,
        status=status,
        duration_ms=round(seconds * 1000, 2),
    )


def correlation_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = [v for k, v in scope["headers"] if k == b"x-correlation-id"]
        cid = given[0].decode("latin-1") if len(given) == 1 else ""
        cid = cid if _CID.fullmatch(cid) else new_correlation_id()
        scope.setdefault("state", {})["correlation_id"] = cid
        logs.clear()
        logs.bind(correlation_id=cid)
        if tracing.enabled():
            await _traced(app, scope, receive, send)
            return
        parents = [v for k, v in scope["headers"] if k == b"traceparent"]
        parent = tracing.parse_traceparent(parents[0].decode("latin-1")) if len(parents) == 1 else None
        scope["state"]["traceparent"] = parent
        await _correlated(app, scope, receive, send, cid)

    return middleware


async def _traced(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Inside the server span Litestar's OpenTelemetry plugin opened (api/otel.py; it took the caller's
    traceparent): the events of this request carry that span's trace; the span is named by its route
    when the answer starts (the plugin ends the span with the answer's last message)."""
    span = tracing.current()
    scope["state"]["traceparent"] = span.traceparent

    async def send_named(message: Message) -> None:
        route = scope.get("path_template")  # type: ignore[typeddict-item]
        if message["type"] == "http.response.start" and route:
            span.rename(f"{scope['method']} {route}")
            span.set("http.route", str(route))
        await send(message)

    await _correlated(app, scope, receive, send_named, scope["state"]["correlation_id"])


async def _correlated(app: ASGIApp, scope: Scope, receive: Receive, send: Send, cid: str) -> None:
    started = time.perf_counter()
    status = 500

    async def send_with_id(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-correlation-id"]
            headers.append((b"x-correlation-id", cid.encode()))
            message = {**message, "headers": headers}  # type: ignore[typeddict-item]
        await send(message)

    try:
        await app(scope, receive, send_with_id)
    finally:
        seconds = time.perf_counter() - started
        _observe(scope, status, seconds)
        _access(scope, status, seconds)
        logs.clear()


async def single_query_values(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard: a query parameter given twice (`?limit=1&limit=2`) is ambiguous: 422 naming it, never last-wins."""
    params = connection.query_params
    repeated = sorted({k for k in params if len(params.getall(k)) > 1})
    if repeated:
        raise invalid([{"field": k, "message": "must be given once"} for k in repeated])
