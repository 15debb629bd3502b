"""Running a command from a request: context, idempotency, the application service, the answer.

`CommandGateway.execute` runs it; the application service returns a domain result, and `answer` (given by
the route) turns it into a status and a body. That reply is recorded with the command, so a repeat is
answered the same bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import msgspec
from litestar import Request, Response

from api.errors import facts_of, status_for
from api.replies import code_of, render, reply_text, status_of
from api.resources import Resource
from api.security import check_idempotency_key, new_correlation_id
from domain.errors import DomainError, DuplicateIdError, IdempotencyKeyReusedError
from infra.adapters import logs
from infra.adapters.keys import Principal
from infra.adapters.metrics import Metrics
from infra.clock import Clock
from infra.commands.application import Application
from infra.ledger.ledger import StoreUnavailableError
from infra.ledger.unitofwork import Context, Dedupe, Outcome

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


_NOT_RULES = frozenset({"invalid_request", "idempotency_key_reused"})


def refused_by_rule(exc: DomainError) -> bool:
    """A business rule's 409 or 422 (replayed for the same key), as opposed to a malformed request."""
    return exc.category in ("conflict", "rejected") and exc.code not in _NOT_RULES


def problem_body(exc: DomainError) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": f"/problems/{exc.code}",
        "title": exc.title,
        "status": status_for(exc),
        "detail": exc.detail,
        "code": exc.code,
    }
    body.update(facts_of(exc))
    built: dict[str, Any] = msgspec.to_builtins(body)  # Decimal and dates as strings, like the first answer
    return built


Answer = Callable[[Any], tuple[int, Resource]]  # a command's result -> status and body (without position)


class CommandGateway:
    """What a command route is handed (as `gateway`): the application service, the counters of
    what its commands answered, and what the hot routes also need (the currency, the clock), so
    order intake resolves one dependency per request instead of three."""

    def __init__(
        self, app: Application, metrics: Metrics | None = None, currency: str = "USD", clock: Clock | None = None
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.currency = currency
        self.clock = clock or Clock()

    async def execute(
        self,
        request: Request[Any, Any, Any],
        command: Any,
        data: Any,
        answer: Answer,
        business: tuple[str, str] | None = None,
        keep_business: bool = False,
        restate: Callable[[DomainError], DomainError] | None = None,
    ) -> Response[bytes]:
        """Run `command` in the application service, deduplicated on the Idempotency-Key and the
        business id, and answer its result with `answer`. With `always` the business id is recorded
        even when the command records nothing (a repeat then gets the first answer, not a new one).
        `restate` may say a refusal in the request's own terms (the CSV form names file lines) before
        it is answered or recorded."""
        principal = principal_of(request)
        fp = fingerprint(request, data)
        dedupe: list[Dedupe] = []
        idem_key = request.headers.get("idempotency-key")
        if idem_key is not None:
            check_idempotency_key(request)  # once, 1-255 characters, no control characters (done by the body too)
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
                    always=keep_business,  # the id is remembered even when the command recorded nothing
                )
            )
        ctx = Context(
            actor=principal.name,
            correlation_id=correlation_id(request),
            causation_id=f"request:{idem_key or new_correlation_id()}",
            traceparent=request.scope.get("state", {}).get("traceparent"),
        )
        name = request.route_handler.operation_id
        name = name if isinstance(name, str) else request.route_handler.handler_name
        try:
            outcome = await self.app.execute_async(ctx, command, dedupe, lambda result: reply_text(*answer(result)))
        except DomainError as refused:
            exc = restate(refused) if restate is not None else refused
            log.info("command rejected", command=name, code=exc.code, status=status_for(exc), detail=exc.detail)
            if idem_key is None or not refused_by_rule(exc):
                if exc is refused:
                    raise
                raise exc from refused
            outcome = await self._keep_refusal(ctx, dedupe[0], exc)
        except StoreUnavailableError as exc:
            log.warning("command not saved", command=name, code="store_unavailable", error=str(exc))
            raise
        status = status_of(outcome.reply)
        if status >= 400:
            if self.metrics is not None:
                self.metrics.commands.labels(code=code_of(outcome.reply)).inc()
            return render(outcome.reply, outcome.position)
        logs.bind(position=outcome.position)  # the access line of this request carries it too
        log.info("command replayed" if outcome.replayed else "command accepted", command=name, status=status)
        if self.metrics is not None:
            self.metrics.commands.labels(code=str(status)).inc()
            if outcome.replayed:
                self.metrics.duplicates.inc()
        return render(outcome.reply, outcome.position)

    async def _keep_refusal(self, ctx: Context, idem: Dedupe, exc: DomainError) -> Outcome[Any]:
        """Record a rule's refusal under the Idempotency-Key (nothing else), so the same key and body get
        the same answer again; a concurrent twin recorded first wins. The store being away: answer the
        refusal unrecorded (a repeat is then decided afresh)."""
        text = reply_text(status_for(exc), problem_body(exc))
        try:
            return await self.app.ledger.run_async(ctx, lambda uow: None, (idem,), lambda _: text)
        except StoreUnavailableError:
            raise exc from None
