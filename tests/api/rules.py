"""What the API-rules tests (test_rules_*.py) share: the service of the app under test (the `svc`
fixture; a test module takes it with `svc = rules.svc`) and reads of orders and stock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from infra.service import Service
from tests.conftest import Api
from tests.http import read, receive


@pytest.fixture
def svc(client: TestClient[Any]) -> Service:
    service: Service = client.app.state.service
    return service


def order_of(api: Api, order_id: str, position: int | None = None) -> dict[str, Any]:
    return read(api, f"/v1/orders/{order_id}", position)


def atp(api: Api, sku: str, position: int | None = None, **params: Any) -> dict[str, Any]:
    return read(api, f"/v1/atp/{sku}", position, **params)


def per_warehouse(view: dict[str, Any]) -> dict[str, tuple[int, int, int]]:
    return {w["warehouse_id"]: (w["on_hand"], w["reserved"], w["available"]) for w in view["warehouses"]}


def stock(api: Api, sku: str = "BOLT-10", **by_warehouse: int) -> int:
    position = 0
    for wh, qty in by_warehouse.items():
        position = receive(api, f"R-{sku}-{wh}-{qty}", wh.replace("_", "-"), sku, qty)
    return position


def parse_time(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.tzinfo is not None, text
    return value
