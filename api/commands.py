"""Running a command from a request: context, idempotency, the ledger in a worker thread."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import msgspec
from litestar import Request, Response

from api.errors import PROBLEM
from api.security import check_idempotency_key, new_correlation_id
from domain.errors import DomainError, DuplicateIdError, IdempotencyKeyReusedError
from infra.adapters import logs
from infra.adapters.keys import Principal
from infra.ledger.ledger import StoreUnavailableError
from infra.ledger.unitofwork import Context, Dedupe, Handler, Outcome
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
    """The answer of a command, first time or replayed (the same bytes both times)."""
    if outcome.status >= 400:  # a rule's rejection kept under its Idempotency-Key: a problem document
        return Response(
            content=json.dumps(outcome.body, separators=(",", ":")).encode(),
            status_code=outcome.status,
            media_type=PROBLEM,
        )
    body = {**outcome.body, "position": outcome.position}
    return Response(
        content=json.dumps(body, separators=(",", ":")).encode(),
        status_code=outcome.status,
        media_type="application/json",
    )


_NOT_RULES = frozenset({"invalid_request", "idempotency_key_reused"})


def refused_by_rule(exc: DomainError) -> bool:
    """A business rule's 409 or 422 (replayed for the same key), as opposed to a malformed request."""
    return exc.status in (409, 422) and exc.code not in _NOT_RULES


def problem_body(exc: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{exc.code}",
        "title": exc.title,
        "status": exc.status,
        "detail": exc.detail,
        "code": exc.code,
    }
    body.update(exc.facts)
    built: dict[str, Any] = msgspec.to_builtins(body)  # Decimal and dates as strings, like the first answer
    return built


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
        check_idempotency_key(request)  # once, 1-255 characters, no control characters (done by parse too)
        dedupe.append(
            Dedupe(
                f"idem:{principal.name}",
                idem_key,
                fp,
                lambda: IdempotencyKeyReusedError(
                    "This Idempotency-Key was already used with a different request", idempotency_key=idem_key
                ),
                always=True,  # a command that records nothing still records its key
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
        if idem_key is None or not refused_by_rule(exc):
            raise
        outcome = await _keep_refusal(svc, ctx, dedupe[0], exc)
    except StoreUnavailableError as exc:
        log.warning("command not saved", command=command, code="store_unavailable", error=str(exc))
        raise
    if outcome.status >= 400:
        if svc.metrics is not None:
            svc.metrics.commands.labels(code=str(outcome.body.get("code", outcome.status))).inc()
        return render(outcome)
    logs.bind(position=outcome.position)  # the access line of this request carries it too
    log.info("command replayed" if outcome.replayed else "command accepted", command=command, status=outcome.status)
    if svc.metrics is not None:
        svc.metrics.commands.labels(code=str(outcome.status)).inc()
        if outcome.replayed:
            svc.metrics.duplicates.inc()
    return render(outcome)


async def _keep_refusal(svc: Service, ctx: Context, idem: Dedupe, exc: DomainError) -> Outcome:
    """Record a rule's refusal under the Idempotency-Key (nothing else), so the same key and body get
    the same answer again; a concurrent twin recorded first wins. The store being away: answer the
    refusal unrecorded (a repeat is then decided afresh)."""
    body = problem_body(exc)
    try:
        return await svc.ledger.run_async(ctx, lambda uow: (exc.status, body), (idem,))
    except StoreUnavailableError:
        raise exc from None
