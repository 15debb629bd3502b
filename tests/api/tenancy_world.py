"""A world of two customers for the tenant-isolation tests (test_tenancy*.py): C1 and C2 each have an
order, a shipment, an invoice, a credit note and a contract price; `portal-1` acts for C1 alone and
`portal-2` for C2 alone, both with every scope (admin too: customer scoping holds whatever the scopes)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from infra.service import Service
from tests.conftest import Api, app_for, make_settings, seed, settle, wait_until
from tests.http import ok, place, receive
from tests.x12_build import interchange, po850

CUSTOMERS = ("C1", "C2")
MISSING = {"order_id": "SO-NONE", "invoice_id": "INV-NONE", "shipment_id": "SH-NONE", "customer_id": "C-NONE"}


def ids_of(customer_id: str) -> dict[str, str]:
    """The path parameters naming this customer's resources."""
    return {
        "order_id": f"SO-{customer_id}",
        "invoice_id": f"INV-SH-{customer_id}",
        "shipment_id": f"SH-{customer_id}",
        "customer_id": customer_id,
    }


def edi_ids_of(customer_id: str) -> dict[str, str]:
    """The resources of this customer's EDI order (from partner `E<customer>`): what the X12 document routes name."""
    return {
        "order_id": f"E{customer_id}-PO-1",
        "invoice_id": f"INV-SH-E{customer_id}",
        "shipment_id": f"SH-E{customer_id}",
        "customer_id": customer_id,
    }


def edi_order(admin: Api, customer_id: str) -> None:
    """Partner E<customer> (its own identity) sends PO-1 for 1 BOLT-10; it ships as SH-E<customer>."""
    partner = f"E{customer_id}"
    identity = {"isa_qualifier": "ZZ", "isa_id": partner, "gs_id": partner}
    us = {"our_isa_qualifier": "ZZ", "our_isa_id": "O2CSELL", "our_gs_id": "O2CSELL"}
    ok(admin.put(f"/v1/trading-partners/{partner}", {"customer_id": customer_id, **identity, **us}))
    po = po850("0001", "PO-1", [["1", "1", "EA", "", "", "VN", "BOLT-10"]])
    text = interchange([po], sender=partner, gs_sender=partner)
    headers = admin.headers({"Content-Type": "application/edi-x12"})
    answer = admin.client.post("/v1/edi/x12", content=text.encode(), headers=headers)
    assert answer.status_code == 200 and answer.json()["transactions"][0]["status"] == "accepted", answer.text
    ids = edi_ids_of(customer_id)
    body = {"shipment_id": ids["shipment_id"], "order_id": ids["order_id"], "warehouse_id": "W-A"}
    ok(admin.post("/v1/shipments", {**body, "lines": [{"sku": "BOLT-10", "qty": 1}]}))


SHARED = {"sku": "NUT-4", "warehouse_id": "W-A", "terms_id": "NET-30"}  # ids every key may name (catalog, terms)


@dataclass
class Perspective:
    """One portal's view: its key, its customer and the other one."""

    key: str
    mine: str
    theirs: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


@dataclass
class World:
    client: TestClient[Any]
    svc: Service
    admin: Api
    portals: list[Perspective]
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def unique(self, prefix: str) -> str:
        return f"{prefix}-{next(self.counter)}"

    def call(self, method: str, url: str, key: str, body: Any = None, **params: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key}"}
        if method in ("POST", "PUT", "PATCH"):
            return self.client.request(
                method, url, json=body if body is not None else {}, headers=headers, params=params
            )
        return self.client.request(method, url, headers=headers, params=params or None)


def build(client: TestClient[Any]) -> World:
    admin = Api(client)
    svc: Service = client.app.state.service
    seed(admin)
    receive(admin, "R-1", "W-A", "BOLT-10", 100)
    ok(admin.put("/v1/payment-terms/NET-30", {"name": "Net 30", "net_days": 30}))
    for c in CUSTOMERS:
        ids = ids_of(c)
        ok(admin.put(f"/v1/customers/{c}/prices/NUT-4", {"unit_price": "0.20"}))
        ok(place(admin, ids["order_id"], [{"sku": "BOLT-10", "qty": 3}], customer_id=c))
        body = {"shipment_id": ids["shipment_id"], "order_id": ids["order_id"], "warehouse_id": "W-A"}
        ok(admin.post("/v1/shipments", {**body, "lines": [{"sku": "BOLT-10", "qty": 2}]}))
        edi_order(admin, c)
    for c in CUSTOMERS:
        invoice_id = ids_of(c)["invoice_id"]
        path = f"/v1/invoices/{invoice_id}"
        issued = wait_until(lambda path=path: admin.get(path).json().get("status") == "issued", 20)
        assert issued, f"{invoice_id} was not issued"
        edi_path = f"/v1/invoices/{edi_ids_of(c)['invoice_id']}"
        assert wait_until(lambda path=edi_path: admin.get(path).json().get("status") == "issued", 20)
        sent = {"return_id": f"RT-{c}", "order_id": f"SO-{c}", "warehouse_id": "W-A", "restock": True}
        ok(admin.post("/v1/returns", {**sent, "lines": [{"sku": "BOLT-10", "qty": 1}]}))
    portals = []
    for mine, theirs in (("C1", "C2"), ("C2", "C1")):
        name = f"portal-{mine[-1]}"
        created = ok(admin.post("/v1/admin/keys", {"name": name, "scopes": ["*"], "customers": [mine]}))
        portals.append(Perspective(created["key"], mine, theirs))
    settle(svc)
    return World(client, svc, admin, portals)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with TestClient(app_for(make_settings(database_url))) as client:
        yield build(client)


class Statements:
    """The SQL a request runs in the request's own worker threads (background workers aside)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.seen: list[str] = []

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # the key list may be reloaded by a request that finds it stale: that is no lookup of the resource
        if threading.current_thread().name.startswith("AnyIO worker") and "o2c_api_key" not in statement:
            self.seen.append(statement)


def customer_ids(node: Any) -> set[str]:
    """Every `customer_id` value anywhere in an answer."""
    found: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "customer_id" and isinstance(v, str):
                found.add(v)
            found |= customer_ids(v)
    elif isinstance(node, list):
        for v in node:
            found |= customer_ids(v)
    return found
