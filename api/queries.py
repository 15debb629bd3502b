"""Queries: available-to-promise and audit history."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from litestar import Controller, get
from litestar.params import Parameter

from api.deps import Svc, wait_for_position
from api.reference import IdPath, MinPosition
from api.views import ts
from domain.errors import NotFoundError, UnknownSkuError
from infra.codec import event_data
from infra.commands import INDEX_KEY
from infra.ledger import BOOK, ORDER, POSITION, PRODUCT, WAREHOUSE_INDEX, Kind, position_key

READ = {"scope": "read"}


def atp(svc: Svc, sku: str, warehouse_id: str | None) -> dict[str, Any]:
    product, _ = svc.ledger.load(PRODUCT, sku)
    if product is None:
        raise UnknownSkuError(f"SKU {sku} is not in the catalog", sku=sku)
    index, _ = svc.ledger.load(WAREHOUSE_INDEX, INDEX_KEY)
    loaded = [svc.ledger.load(POSITION, position_key(sku, wh)) for wh in index]
    stocked = [p for p, version in loaded if version > 0]  # warehouses that have a position
    book, _ = svc.ledger.load(BOOK, sku)
    chosen = [p for p in stocked if warehouse_id in (None, p.warehouse_id)]
    if warehouse_id is None:
        backordered = book.total
    else:
        backordered = sum(e.qty for e in book.entries.values() if e.warehouse_id == warehouse_id)
    return {
        "sku": sku,
        "on_hand": sum(p.on_hand for p in chosen),
        "reserved": sum(p.reserved for p in chosen),
        "available": sum(p.available for p in chosen),
        "in_transit": sum(p.in_transit for p in chosen),
        "backordered": backordered,
        "warehouses": [
            {
                "warehouse_id": p.warehouse_id,
                "on_hand": p.on_hand,
                "reserved": p.reserved,
                "available": p.available,
                "in_transit": p.in_transit,
            }
            for p in stocked
        ],
    }


def history(svc: Svc, kind: Kind[Any], key: str) -> dict[str, Any]:
    records = svc.store.history(kind.stream_id(key))
    return {
        "events": [
            {
                "version": r.version,
                "type": r.topic,
                "recorded_at": ts(r.meta.occurred_at),
                "position": r.position,
                "actor": r.meta.actor,
                "correlation_id": r.meta.correlation_id,
                "causation_id": r.meta.causation_id,
                "data": event_data(r.event),
            }
            for r in records
        ]
    }


class QueriesController(Controller):
    path = "/v1"
    tags = ["queries"]

    @get("/atp/{sku:str}", opt=READ, operation_id="GetAvailableToPromise")
    async def get_atp(
        self,
        svc: Svc,
        sku: IdPath,
        min_position: MinPosition = None,
        warehouse_id: Annotated[str | None, Parameter(pattern=r"^[A-Za-z0-9._:-]{1,64}$", required=False)] = None,
    ) -> dict[str, Any]:
        await wait_for_position(svc, min_position)
        head = await anyio.to_thread.run_sync(svc.store.head)
        view = await anyio.to_thread.run_sync(atp, svc, sku, warehouse_id)
        return {**view, "position": head}

    @get("/orders/{order_id:str}/history", opt=READ, operation_id="GetOrderHistory")
    async def order_history(self, svc: Svc, order_id: IdPath, min_position: MinPosition = None) -> dict[str, Any]:
        await wait_for_position(svc, min_position)
        result = await anyio.to_thread.run_sync(history, svc, ORDER, order_id)
        if not result["events"]:
            raise NotFoundError(f"Order {order_id} does not exist", order_id=order_id)
        return result

    @get("/inventory/{warehouse_id:str}/{sku:str}/history", opt=READ, operation_id="GetPositionHistory")
    async def position_history(
        self, svc: Svc, warehouse_id: IdPath, sku: IdPath, min_position: MinPosition = None
    ) -> dict[str, Any]:
        await wait_for_position(svc, min_position)
        result = await anyio.to_thread.run_sync(history, svc, POSITION, position_key(sku, warehouse_id))
        if not result["events"]:
            raise NotFoundError(
                f"No inventory position for {sku} at {warehouse_id}", sku=sku, warehouse_id=warehouse_id
            )
        return result
