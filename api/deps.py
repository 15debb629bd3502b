"""What handlers are handed, by parameter name (Litestar's Provide, each from the service the lifespan
started, through `Provided`), and read-your-writes waits. A handler names only what it uses, marked NamedDependency:

    gateway   CommandGateway  run a command: the application service, idempotency, the answer, counters
    ledger    Ledger          an aggregate as it stands (or stood at a version)
    store     EventStore      the log: its head, a stream's history, the feed
    reads     ReadModels      the read models' queries
    waits     Waits           read-your-writes: `min_position` on the log or on read models
    currency  str             the deployment's currency, echoed on money-bearing resources
    metrics   Metrics         the Prometheus collectors
    service   Service         the running process itself: its workers, background jobs, shutdown
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import anyio
import anyio.to_thread
from litestar.di import Provide

from api.commands import CommandGateway
from api.errors import ProblemError
from api.ratelimit import TokenBuckets
from infra.adapters.metrics import Metrics
from infra.clock import Clock
from infra.eventstore.store import EventStore
from infra.ledger.ledger import Ledger
from infra.readside.readmodels import ReadModels
from infra.service import Service
from infra.settings import Settings

IMPLICIT_WAIT = 2.0  # seconds a read waits, unasked, for this process's own last write


async def _wait(reached: Callable[[], int], target: int, timeout: float, in_memory: bool = False) -> bool:
    deadline = anyio.current_time() + timeout
    while True:
        now = reached() if in_memory else await anyio.to_thread.run_sync(reached)
        if now >= target:
            return True
        if anyio.current_time() >= deadline:
            return False
        await anyio.sleep(0.01)


def _stale(min_position: int) -> ProblemError:
    return ProblemError(
        503,
        "stale_read_model",
        "Read model not caught up",
        f"The read model has not yet processed position {min_position}; retry shortly",
        headers={"Retry-After": "1"},
        min_position=min_position,
    )


class Waits:
    """Read-your-writes: wait, bounded, until the log or the read models hold a position, else 503."""

    def __init__(self, store: EventStore, reads: ReadModels, ledger: Ledger, timeout: float) -> None:
        self.store = store
        self.reads = reads
        self.ledger = ledger
        self.timeout = timeout

    async def for_log(self, min_position: int | None) -> None:
        """For reads served from the event store itself: wait until the log holds `min_position`."""
        if min_position and not await _wait(self.store.head, min_position, self.timeout):
            raise _stale(min_position)

    async def for_read_models(self, names: tuple[str, ...], min_position: int | None) -> int:
        """Read-your-writes for read models. With `min_position`, wait (bounded) or answer 503.
        Without it, wait briefly for this process's own last write, then answer what is there.
        Returns the position the answer reflects."""
        reads = self.reads

        def reached() -> int:
            return min(reads.position(n) for n in names)

        in_memory = reads.positions_in_memory(names)  # else ask in a worker thread, off the event loop
        if min_position:
            if not await _wait(reached, min_position, self.timeout, in_memory):
                raise _stale(min_position)
        elif reads.local and self.ledger.last_position:  # this process runs the read models it wrote for
            await _wait(reached, self.ledger.last_position, IMPLICIT_WAIT, in_memory)
        return reached() if in_memory else await anyio.to_thread.run_sync(reached)

    async def for_workflow(self, workflow: str, names: tuple[str, ...], min_position: int | None) -> int:
        """Read-your-writes for read models of what a workflow records after the fact (the journal):
        with `min_position`, wait until the workflow has acted on the log up to it, then until the
        read models hold the log as it was then (what the workflow recorded included), all within
        the one bounded wait, else 503. Without it, as `for_read_models`."""
        if not min_position:
            return await self.for_read_models(names, None)
        started = anyio.current_time()
        reads = self.reads

        def acted() -> int:
            return reads.tracking_position(workflow)

        if not await _wait(acted, min_position, self.timeout):
            raise _stale(min_position)
        head = await anyio.to_thread.run_sync(self.store.head)
        left = max(self.timeout - (anyio.current_time() - started), 0.0)

        def reached() -> int:
            return min(reads.position(n) for n in names)

        in_memory = reads.positions_in_memory(names)
        if not await _wait(reached, max(head, min_position), left, in_memory):
            raise _stale(min_position)
        return reached() if in_memory else await anyio.to_thread.run_sync(reached)


class ReadSide:
    """What the hot read routes (ATP) use, handed as ONE dependency: Litestar resolves each
    dependency of a route on every request, and three of them cost ATP a third of its throughput
    (bench/RESULTS.md, 2026-12-02)."""

    def __init__(self, reads: ReadModels, waits: Waits, clock: Clock) -> None:
        self.reads = reads
        self.waits = waits
        self.clock = clock


class Provided:
    """What the app's dependencies are made from: the settings a start uses, the service the lifespan
    started, and the objects built from it once per start (not per request). Litestar resolves a
    provider's own parameters through a signature model on every request (a `state: State` parameter
    is wrapped in a new State each time), so every provider here takes none: it reads this holder,
    which the lifespan fills.

    Everything a run keeps (the service, the rate limit's buckets) is made at `start` and dropped at
    `stop`, so a stopped app starts again as new, on the same settings or, through `rebind`, on
    others: building the routes costs far more than a start (0.3-0.6 s, docs/decisions/0030)."""

    def __init__(self, settings: Settings, workers: bool) -> None:
        self.settings = settings
        self.workers = workers  # the lifespan also starts the projections and workflows
        self.buckets: TokenBuckets | None = None
        self.starts = 0  # how many times the lifespan has started a service
        self._service: Service | None = None
        self._gateway: CommandGateway | None = None
        self._waits: Waits | None = None
        self._side: ReadSide | None = None

    def start(self, svc: Service) -> None:
        limit = svc.settings.rate_limit
        self.buckets = TokenBuckets(limit) if limit is not None else None  # a new run's callers start full
        self._service = svc
        self.starts += 1
        self._gateway = self._waits = self._side = None  # built again from this service on first use

    def stop(self) -> None:
        self._service = self._gateway = self._waits = self._side = None
        self.buckets = None

    def rebind(self, settings: Settings) -> None:
        """Start next time on `settings`. Only a stopped app: a running one keeps what it started on."""
        if self._service is not None:
            raise RuntimeError("the app is running: stop it before pointing it at other settings")
        self.settings = settings

    @property
    def started(self) -> Service | None:
        """The service, or None before the lifespan has started it."""
        return self._service

    def service(self) -> Service:
        if self._service is None:
            raise RuntimeError("the app's lifespan has not started the service")
        return self._service

    def gateway(self) -> CommandGateway:
        if self._gateway is None:
            svc = self.service()
            self._gateway = CommandGateway(svc.app, svc.metrics, svc.settings.currency, _ClockOf(svc))
        return self._gateway

    def waits(self) -> Waits:
        if self._waits is None:
            svc = self.service()
            self._waits = Waits(svc.store, svc.read, svc.ledger, svc.settings.min_position_wait)
        return self._waits

    def side(self) -> ReadSide:
        if self._side is None:
            svc = self.service()
            self._side = ReadSide(svc.read, self.waits(), _ClockOf(svc))
        return self._side

    def ledger(self) -> Ledger:
        return self.service().ledger

    def store(self) -> EventStore:
        return self.service().store

    def reads(self) -> ReadModels:
        return self.service().read

    def currency(self) -> str:
        return self.service().settings.currency

    def metrics(self) -> Metrics | None:
        return self.service().metrics

    def clock(self) -> Clock:
        return self.service().clock


class _ClockOf(Clock):
    """The service's clock as it is when asked (tests put a fixed one on the service later)."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc

    def now(self) -> datetime:
        return self.svc.clock.now()

    def today(self) -> date:
        return self.svc.clock.today()


def dependencies(provided: Provided) -> dict[str, Provide]:
    """The app's dependencies, by the parameter name a handler gives them."""
    providers: dict[str, Callable[[], object]] = {
        "gateway": provided.gateway,
        "ledger": provided.ledger,
        "store": provided.store,
        "reads": provided.reads,
        "waits": provided.waits,
        "currency": provided.currency,
        "metrics": provided.metrics,
        "clock": provided.clock,
        "side": provided.side,
        "service": provided.service,
    }
    return {name: Provide(provider, sync_to_thread=False) for name, provider in providers.items()}
