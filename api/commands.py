"""Running a command from a request: context, idempotency, the ledger in a worker thread."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec
from litestar import Request, Response

from api.errors import ProblemError
from api.security import new_correlation_id
from domain.errors import DomainError, DuplicateIdError, IdempotencyKeyReusedError
from infra import logs
from infra.keys import Principal
from infra.ledger import Context, Dedupe, Handler, Outcome, StoreUnavailableError
from infra.service import Service

log = logs.get_logger("o2c.commands")

_canonical = msgspec.json.Encoder(order="sorted")


def principal_of(request: Request[Any, Any, Any]) -> Principal:
    p: Principal = request.state["principal"]
    return p


def correlation_id(request: Request[Any, Any, Any]) -> str:
    cid: str = request.scope.get("state", {}).get("correlation_id") or new_correlation_id()
    return cid


def fingerprint(request: Request[Any, Any, Any], data: Any) -> str:
    canonical = _canonical.encode(data)
    return hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + canonical).hexdigest()


def render(outcome: Outcome) -> Response[bytes]:
    body = {**outcome.body, "position": outcome.position}
    return Response(
        content=json.dumps(body, separators=(",", ":")).encode(),
        status_code=outcome.status,
        media_type="application/json",
    )


async def execute(
    request: Request[Any, Any, Any],
    svc: Service,
    handler: Handler,
    data: Any,
    business: tuple[str, str] | None = None,
) -> Response[bytes]:
    """Run `handler` in the ledger, deduplicated on the Idempotency-Key and the business id."""
    principal = principal_of(request)
    fp = fingerprint(request, data)
    dedupe: list[Dedupe] = []
    idem_key = request.headers.get("idempotency-key")
    if idem_key is not None:
        if not 1 <= len(idem_key) <= 255:
            raise ProblemError(
                422,
                "invalid_request",
                "The request is not valid",
                "Idempotency-Key must be 1-255 characters",
                errors=[{"field": "Idempotency-Key", "message": "must be 1-255 characters"}],
            )
        dedupe.append(
            Dedupe(
                f"idem:{principal.name}",
                idem_key,
                fp,
                lambda: IdempotencyKeyReusedError(
                    "This Idempotency-Key was already used with a different request", idempotency_key=idem_key
                ),
            )
        )
    if business is not None:
        kind, key = business
        dedupe.append(
            Dedupe(
                kind,
                key,
                fp,
                lambda: DuplicateIdError(f"{kind} {key} was already recorded with a different payload", id=key),
            )
        )
    ctx = Context(
        actor=principal.name,
        correlation_id=correlation_id(request),
        causation_id=f"request:{idem_key or new_correlation_id()}",
    )
    command = request.route_handler.operation_id
    command = command if isinstance(command, str) else request.route_handler.handler_name
    try:
        outcome = await svc.ledger.run_async(ctx, handler, tuple(dedupe))
    except DomainError as exc:
        log.info("command rejected", command=command, code=exc.code, status=exc.status, detail=exc.detail)
        raise
    except StoreUnavailableError as exc:
        log.warning("command not saved", command=command, code="store_unavailable", error=str(exc))
        raise
    logs.bind(position=outcome.position)  # the access line of this request carries it too
    log.info("command replayed" if outcome.replayed else "command accepted", command=command, status=outcome.status)
    if svc.metrics is not None:
        svc.metrics.commands.labels(code=str(outcome.status)).inc()
        if outcome.replayed:
            svc.metrics.duplicates.inc()
    return render(outcome)
