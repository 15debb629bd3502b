"""One place that turns every failure into an RFC 9457 problem document."""

from __future__ import annotations

import logging
import re
import sqlite3
from typing import Any

import msgspec
import psycopg
import sqlalchemy as sa
from eventsourcing.persistence import PersistenceError
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from api.models import PATTERN_MESSAGES
from domain.errors import Category, DomainError
from infra.eventstore.store import unreachable
from infra.ledger.ledger import StoreUnavailableError

log = logging.getLogger("o2c.api")
PROBLEM = "application/problem+json"


class ProblemError(Exception):
    """An edge-level rejection (bad JSON, auth, size) carrying its problem fields."""

    def __init__(
        self, status: int, code: str, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra


def problem(
    status: int, code: str, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response[bytes]:
    body: dict[str, Any] = {
        "type": f"/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    body.update(extra)
    return Response(
        content=msgspec.json.encode(body),
        status_code=status,
        media_type=PROBLEM,
        headers=headers or {},
    )


_PATH = re.compile(r"at `\$((?:\.[A-Za-z_0-9]+|\[\d+\])*)`")
_REGEX = "Expected `str` matching regex "
_PLAIN = {f"{_REGEX}{pattern!r}": words for pattern, words in PATTERN_MESSAGES.items()}
_MISSING = re.compile(r"Missing required (\w+) parameter (['\"])(.*?)\2")
MAX_ECHO = 100  # characters of a client's own field name a problem repeats


def _plain(message: str) -> str:
    """msgspec names a refused pattern by its regex; the common ones are said in words instead."""
    return _PLAIN.get(message, message) if message.startswith(_REGEX) else message


def _echo(name: str) -> str:
    return name if len(name) <= MAX_ECHO else name[:MAX_ECHO] + "..."


def invalid(errors: list[dict[str, str]]) -> ProblemError:
    """422 invalid_request; `detail` repeats the first error so a log line alone says what was wrong."""
    first = errors[0]
    return ProblemError(
        422,
        "invalid_request",
        "The request is not valid",
        f"{first['field']}: {first['message']}",
        errors=errors,
    )


def validation_problem(exc: msgspec.ValidationError) -> ProblemError:
    """Turn msgspec's message ('Expected `int`, got `str` - at `$.lines[0].qty`') into errors[]."""
    text = str(exc)
    match = _PATH.search(text)
    path = match.group(1).lstrip(".") if match else ""
    message = text[: match.start()].rstrip(" -") if match else text
    field = path or "body"
    if message.startswith("Object missing required field"):
        missing = message.split("`")[1]
        field = f"{path}.{missing}" if path else missing
    elif message.startswith("Object contains unknown field"):
        unknown = _echo(message.split("`")[1])
        field = f"{path}.{unknown}" if path else unknown
        message = f"Object contains unknown field `{unknown}`"
    return invalid([{"field": field, "message": _plain(message)}])


def parameter_problem(exc: ValidationException) -> ProblemError:
    """Query, path and header parameters that are missing or do not convert (e.g. limit=abc), each named."""
    errors = [
        {"field": _echo(str(e.get("key") or "")), "message": _plain(str(e.get("message") or "is not valid"))}
        for e in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(e, dict)
    ]
    detail = exc.detail if isinstance(exc.detail, str) else ""
    missing = _MISSING.search(detail)
    if missing:  # Litestar says this in its detail alone, with no `extra`
        errors = [{"field": _echo(missing.group(3)), "message": f"required {missing.group(1)} parameter is missing"}]
    if not errors:
        errors = [{"field": "", "message": detail or "Invalid parameters"}]
    return invalid(errors)


STATUS_OF: dict[Category, int] = {"rejected": 422, "not_found": 404, "conflict": 409}


def status_for(exc: DomainError) -> int:
    """The HTTP status of a domain refusal: the API's reading of the domain's category."""
    return STATUS_OF[exc.category]


RESERVED = frozenset({"type", "title", "status", "detail", "code", "headers"})


def facts_of(exc: DomainError) -> dict[str, Any]:
    """A refusal's facts as problem members; one named like a member of every problem is dropped."""
    return {k: v for k, v in exc.facts.items() if k not in RESERVED}


def _domain(request: Request[Any, Any, Any], exc: DomainError) -> Response[bytes]:
    svc = getattr(request.app.state, "service", None)
    if svc is not None and svc.metrics is not None and request.method in ("POST", "PUT"):
        svc.metrics.commands.labels(code=exc.code).inc()
    return problem(status_for(exc), exc.code, exc.title, exc.detail, **facts_of(exc))


def _problem(request: Request[Any, Any, Any], exc: ProblemError) -> Response[bytes]:
    return problem(exc.status, exc.code, exc.title, exc.detail, headers=exc.headers, **exc.extra)


def _unavailable(request: Request[Any, Any, Any], exc: StoreUnavailableError) -> Response[bytes]:
    log.warning("store unavailable: %s", exc)
    return problem(
        503,
        "store_unavailable",
        "The ledger is temporarily unavailable",
        "The event store could not take the command in time; retry after a moment.",
        headers={"Retry-After": "1"},
    )


def _store_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """A database error: the store being away (lost connection, refused, locked) is a 503 the client
    may retry; anything else is a bug."""
    if not unreachable(exc):
        return _unexpected(request, exc)
    log.warning("store unreachable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
    return problem(
        503,
        "store_unavailable",
        "The ledger is temporarily unavailable",
        "The event store cannot be reached right now; retry after a moment.",
        headers={"Retry-After": "2"},
    )


_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    413: ("payload_too_large", "Request body too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
    429: ("rate_limited", "Too many requests"),
}


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    status = exc.status_code
    if isinstance(exc, ValidationException):
        return _problem(request, parameter_problem(exc))
    if status == 405 and "//" in request.url.path:
        status = 404  # an empty id segment: the router collapsed it, but no resource has that id
    code, title = _CODES.get(status, ("error", "Error"))
    detail = exc.detail if isinstance(exc.detail, str) and not isinstance(exc, NotFoundException) else title
    return problem(status, code, title, detail, headers=dict(exc.headers or {}))


def _unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return problem(500, "internal_error", "Internal error", "The request failed unexpectedly; it has been logged.")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    DomainError: _domain,
    ProblemError: _problem,
    StoreUnavailableError: _unavailable,
    PersistenceError: _store_error,
    sa.exc.SQLAlchemyError: _store_error,
    psycopg.Error: _store_error,
    sqlite3.Error: _store_error,
    HTTPException: _http,
    Exception: _unexpected,
}
