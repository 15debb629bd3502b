"""Queries: available-to-promise, balances, signals, the event feed and audit history."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import anyio
import anyio.to_thread
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import Parameter

from api.deps import ReadSide, Waits
from api.errors import ProblemError
from api.openapi import answers
from api.read_resources import Atp, AtpList, Balance, EventFeed, History, HistoryEvent, Promise, Rebuild, Signals
from api.reference import MAX_POSITION, IdPath, MinPosition
from api.tenancy import CUSTOMER_PATH, FORBIDDEN, OPEN, ORDER_PATH, tenant
from domain.errors import NotFoundError, SkuNotFoundError, UnknownWarehouseError
from domain.values import ID_PATTERN, MAX_QTY, format_timestamp, is_valid_id
from infra.clock import Clock
from infra.eventstore.codec import event_data
from infra.eventstore.feed import read_feed
from infra.eventstore.store import EventStore
from infra.ledger.kinds import ORDER, POSITION, WAREHOUSE, Kind, position_key
from infra.ledger.ledger import Ledger
from infra.readside.readmodels import ReadModels
from infra.readside.rebuild import rebuild_together
from infra.service import Service
from projections.balances import balance_view

READ = tenant("read", OPEN)
READ_ONLY_UNSCOPED = tenant("read", FORBIDDEN)  # not for keys scoped to customers
WarehouseFilter = Annotated[str | None, Parameter(pattern=ID_PATTERN, required=False)]


def history(store: EventStore, kind: Kind[Any], key: str) -> History:
    records = store.history(kind.stream_id(key))
    return History(
        [
            HistoryEvent(
                version=r.version,
                type=r.topic,
                recorded_at=format_timestamp(r.meta.occurred_at),
                position=r.position,
                actor=r.meta.actor,
                correlation_id=r.meta.correlation_id,
                causation_id=r.meta.causation_id,
                data=event_data(r.event),
            )
            for r in records
        ]
    )


async def _atp(
    reads: ReadModels, skus: list[str], warehouse_id: str | None, today: date
) -> dict[str, dict[str, Any] | None]:
    """From memory on the event loop when this process holds the ATP model, else from SQL in a thread."""
    if reads.atp_ready_in_memory:
        return reads.atp(skus, warehouse_id, today)
    return await anyio.to_thread.run_sync(reads.atp, skus, warehouse_id, today)


def signals_of(reads: ReadModels, today: date) -> dict[str, Any]:
    """The read models' signals with `promises_late` as of `today` (the service's clock)."""
    return {**reads.signals(), "promises_late": reads.promises_late(today)}


class QueriesController(Controller):
    path = "/v1"
    tags = ["queries"]

    @get("/atp/{sku:str}", opt=READ, operation_id="GetAvailableToPromise", responses=answers(Atp, 200))
    async def get_atp(
        self,
        side: NamedDependency[ReadSide],
        sku: IdPath,
        min_position: MinPosition = None,
        warehouse_id: WarehouseFilter = None,
    ) -> dict[str, Any]:
        position = await side.waits.for_read_models(("atp",), min_position)
        found = (await _atp(side.reads, [sku], warehouse_id, side.clock.today()))[sku]
        if found is None:
            raise SkuNotFoundError(f"SKU {sku} is not in the catalog", sku=sku)
        return {**found, "position": position}

    @get("/atp/{sku:str}/promise", opt=READ, operation_id="GetPromiseDate", responses=answers(Promise, 200))
    async def get_promise(
        self,
        reads: NamedDependency[ReadModels],
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        clock: NamedDependency[Clock],
        sku: IdPath,
        qty: Annotated[int, Parameter(ge=1, le=MAX_QTY)],
        warehouse_id: WarehouseFilter = None,
        min_position: MinPosition = None,
    ) -> dict[str, Any]:
        """The capable-to-promise date of a new order for `qty`, behind every open backorder."""
        position = await waits.for_read_models(("atp",), min_position)
        if (
            warehouse_id is not None
            and (await anyio.to_thread.run_sync(ledger.load, WAREHOUSE, warehouse_id))[0] is None
        ):
            raise UnknownWarehouseError(f"Warehouse {warehouse_id} does not exist", warehouse_id=warehouse_id)
        found = await anyio.to_thread.run_sync(reads.promise, sku, qty, warehouse_id, clock.today())
        if found is None:
            raise SkuNotFoundError(f"SKU {sku} is not in the catalog", sku=sku)
        when = found["promise_date"]
        return {**found, "promise_date": when.isoformat() if when else None, "position": position}

    @get("/atp", opt=READ, operation_id="ListAvailableToPromise", responses=answers(AtpList, 200))
    async def list_atp(
        self,
        side: NamedDependency[ReadSide],
        skus: Annotated[str, Parameter(min_length=1, max_length=20000, pattern=r"\A[A-Za-z0-9._:, -]+\Z")],
        min_position: MinPosition = None,
        warehouse_id: WarehouseFilter = None,
    ) -> dict[str, Any]:
        wanted = [s.strip() for s in skus.split(",") if s.strip()]
        bad = [s for s in wanted if not is_valid_id(s)]
        if not wanted or bad or len(wanted) > 1000:
            raise ProblemError(
                422,
                "invalid_request",
                "The request is not valid",
                "skus must be 1-1000 comma-separated SKU ids",
                errors=[{"field": "skus", "message": f"invalid: {', '.join(bad[:5]) or 'empty or too many'}"}],
            )
        position = await side.waits.for_read_models(("atp",), min_position)
        found = await _atp(side.reads, wanted, warehouse_id, side.clock.today())
        unknown = [s for s in wanted if found[s] is None]
        if unknown:
            raise SkuNotFoundError(f"Unknown SKU: {', '.join(unknown)}", sku=unknown[0], skus=unknown)
        return {"items": [{**found[s], "position": position} for s in wanted], "position": position}  # type: ignore[dict-item]

    @get(
        "/customers/{customer_id:str}/balance",
        opt=tenant("read", CUSTOMER_PATH),
        operation_id="GetCustomerBalance",
        responses=answers(Balance, 200),
    )
    async def get_balance(
        self,
        reads: NamedDependency[ReadModels],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        customer_id: IdPath,
        min_position: MinPosition = None,
    ) -> dict[str, Any]:
        position = await waits.for_read_models(("balances",), min_position)
        row = await anyio.to_thread.run_sync(reads.balance, customer_id)
        if row is None:
            raise NotFoundError(f"Customer {customer_id} does not exist", customer_id=customer_id)
        return {**balance_view(row, currency), "position": position}

    @get("/events", opt=READ_ONLY_UNSCOPED, operation_id="ReadEventFeed", responses=answers(EventFeed, 200))
    async def events(
        self,
        store: NamedDependency[EventStore],
        waits: NamedDependency[Waits],
        service: NamedDependency[Service],
        after: Annotated[int, Parameter(ge=0, le=MAX_POSITION)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
        wait: Annotated[float, Parameter(ge=0, le=30)] = 0,
        min_position: MinPosition = None,
    ) -> dict[str, Any]:
        await waits.for_log(min_position)
        deadline = anyio.current_time() + wait
        while True:
            events, next_after = await anyio.to_thread.run_sync(read_feed, store, after, limit)
            if events or anyio.current_time() >= deadline or service.stopping.is_set():
                return {"events": events, "next_after": next_after}
            if next_after > after:  # only internal records: move on without waiting
                after = next_after
                continue
            await anyio.sleep(0.05)

    @get("/ops/signals", opt=READ_ONLY_UNSCOPED, operation_id="GetSignals", responses=answers(Signals, 200))
    async def signals(
        self,
        reads: NamedDependency[ReadModels],
        waits: NamedDependency[Waits],
        service: NamedDependency[Service],
        min_position: MinPosition = None,
    ) -> dict[str, Any]:
        position = await waits.for_read_models(("atp", "orders"), min_position)
        result = await anyio.to_thread.run_sync(signals_of, reads, service.clock.today())
        if service.webhooks is not None:
            result["webhooks_failing"] = await anyio.to_thread.run_sync(service.webhooks.failing, service.clock.now())
        return {**result, "runner_errors": dict(service.runner.errors) if service.runner else {}, "position": position}

    @get("/orders/{order_id:str}/history", opt=tenant("read", ORDER_PATH), operation_id="GetOrderHistory")
    async def order_history(
        self,
        store: NamedDependency[EventStore],
        waits: NamedDependency[Waits],
        order_id: IdPath,
        min_position: MinPosition = None,
    ) -> History:
        await waits.for_log(min_position)
        result = await anyio.to_thread.run_sync(history, store, ORDER, order_id)
        if not result.events:
            raise NotFoundError(f"Order {order_id} does not exist", order_id=order_id)
        return result

    @get("/inventory/{warehouse_id:str}/{sku:str}/history", opt=READ_ONLY_UNSCOPED, operation_id="GetPositionHistory")
    async def position_history(
        self,
        store: NamedDependency[EventStore],
        waits: NamedDependency[Waits],
        warehouse_id: IdPath,
        sku: IdPath,
        min_position: MinPosition = None,
    ) -> History:
        await waits.for_log(min_position)
        result = await anyio.to_thread.run_sync(history, store, POSITION, position_key(sku, warehouse_id))
        if not result.events:
            raise NotFoundError(
                f"No inventory position for {sku} at {warehouse_id}", sku=sku, warehouse_id=warehouse_id
            )
        return result


class AdminController(Controller):
    path = "/v1/admin"
    tags = ["admin"]

    @post(
        "/projections/{name:str}/rebuild",
        opt=tenant("admin", FORBIDDEN),
        operation_id="RebuildProjection",
        status_code=202,
    )
    async def rebuild(
        self, reads: NamedDependency[ReadModels], service: NamedDependency[Service], name: IdPath
    ) -> Rebuild:
        if name not in reads.projections:
            raise NotFoundError(f"No read model named {name}; choose from {', '.join(reads.projections)}", name=name)
        projection = reads[name]
        service.in_background(f"rebuild-{name}", lambda: rebuild_together([projection], stop=service.stopping))
        return Rebuild(name, "rebuilding", projection.generation)
