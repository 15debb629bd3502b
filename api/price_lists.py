"""Price lists (API.md "Price lists and units of measure"): PUT replaces a list, GET reads it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, put
from litestar.di import NamedDependency
from litestar.params import JSONBody

from api.commands import Answer, CommandGateway
from api.deps import Waits
from api.models import PutPriceListRequest
from api.openapi import put_answers
from api.reference import WRITE, IdPath, MinPosition
from api.resources import PriceList, PriceListAnswer, Resource
from api.tenancy import FORBIDDEN, tenant
from api.views import price_list_view
from domain import price_list
from domain.errors import NotFoundError
from domain.values import parse_money
from infra.ledger.kinds import PRICE_LIST
from infra.ledger.ledger import Ledger


def put_answer(view: Callable[[Any], Resource]) -> Answer:
    """201 when the PUT created the list, 200 when it replaced it (as every reference PUT)."""
    return lambda done: (201 if done[0] else 200, view(done[1]))


class PriceListsController(Controller):
    path = "/v1/price-lists"
    tags = ["reference data"]

    @put("/{price_list_id:str}", opt=WRITE, operation_id="PutPriceList", responses=put_answers(PriceListAnswer))
    async def put_price_list(
        self,
        request: Request[Any, Any, Any],
        gateway: NamedDependency[CommandGateway],
        currency: NamedDependency[str],
        price_list_id: IdPath,
        data: JSONBody[PutPriceListRequest],
    ) -> Response[bytes]:
        items = tuple(
            price_list.PriceListItem(
                sku=i.sku,
                unit_price=parse_money(i.unit_price),
                min_qty=i.min_qty,
                valid_from=i.valid_from,
                valid_to=i.valid_to,
            )
            for i in data.items
        )
        cmd = price_list.PutPriceList(price_list_id, data.name, items)
        return await gateway.execute(request, cmd, data, put_answer(lambda state: price_list_view(state, currency)))

    # A price list can serve many customers: a portal key is shown its prices on its orders and
    # contract prices, never a whole list (api/tenancy.py)
    @get("/{price_list_id:str}", opt=tenant("read", FORBIDDEN), operation_id="GetPriceList")
    async def get_price_list(
        self,
        ledger: NamedDependency[Ledger],
        waits: NamedDependency[Waits],
        currency: NamedDependency[str],
        price_list_id: IdPath,
        min_position: MinPosition = None,
    ) -> PriceList:
        await waits.for_log(min_position)
        state, _ = await anyio.to_thread.run_sync(ledger.load, PRICE_LIST, price_list_id)
        if state is None:
            raise NotFoundError(f"Price list {price_list_id} does not exist", price_list_id=price_list_id)
        return price_list_view(state, currency)
