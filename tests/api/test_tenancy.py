"""The tenant-isolation matrix: every route of the app, walked with two customer-scoped keys, on both stores.

Routes are enumerated from the app with their `opt['tenant']` (api/tenancy.py), so a new route fails here
until it is classified. Per class: FORBIDDEN answers 403; OPEN answers and shows no other customer; an
Owned resource of the other customer answers exactly what a missing id answers (status, code, body) after
the same SQL; a Listed list holds only the key's customers, and a filter for the other customer is empty;
a command whose body Names the other customer is 403 (existing or not), one naming the other's order
answers as for a missing order, and neither records anything.
"""

from __future__ import annotations

import re
import statistics
import time
from typing import Any

import httpx
from litestar import Litestar, get
from litestar.handlers import HTTPRouteHandler
from litestar.testing import TestClient

from api.app import create_app
from api.tenancy import FORBIDDEN, LISTED, OPEN, Listed, Names, Owned, check_listed_routes, tenant
from tests.api.tenancy_world import (
    MISSING,
    SHARED,
    Perspective,
    Statements,
    World,
    customer_ids,
    edi_ids_of,
    ids_of,
    world,
)
from tests.conftest import ADMIN_KEY, make_settings, settle
from tests.http import problem

__all__ = ["world"]
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")
OPEN_PARAMS: dict[str, dict[str, Any]] = {"/v1/atp": {"skus": "NUT-4"}, "/v1/atp/{sku:str}/promise": {"qty": 1}}
NEEDED_PARAMS: dict[str, dict[str, Any]] = {  # the query parameters a route requires
    "/v1/ar/aging": {"as_of": "2999-12-31"},
    "/v1/customers/{customer_id:str}/statement": {"from": "2000-01-01", "to": "2999-12-31"},
}


def routes(app: Litestar) -> list[tuple[str, str, HTTPRouteHandler]]:
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler, HTTPRouteHandler) and handler.opt.get("scope") is not None:
                for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                    found.append((method, route.path, handler))
    return sorted(found, key=lambda r: (r[0] != "GET", r[1], r[0]))  # reads first: commands change the world


def url(path: str, values: dict[str, str]) -> str:
    return _PARAM.sub(lambda m: values.get(m.group(1), "X-1"), path)


def bodies(w: World, operation: str, named: str) -> dict[str, Any] | None:
    """A valid body for a command that Names a customer or an order (`named`); None: none known."""
    unique = w.unique
    samples: dict[str, dict[str, Any]] = {
        "PlaceOrder": {"customer_id": named, "channel": "portal", "lines": [{"sku": "NUT-4", "qty": 1}]},
        "ReceivePayment": {"payment_id": unique("PAY"), "customer_id": named, "amount": "1.00"},
        "ConfirmShipment": {
            "shipment_id": unique("SH-T"),
            "order_id": named,
            "warehouse_id": "W-A",
            "lines": [{"sku": "BOLT-10", "qty": 1}],
        },
        "RecordReturn": {
            "return_id": unique("RT-T"),
            "order_id": named,
            "warehouse_id": "W-A",
            "lines": [{"sku": "BOLT-10", "qty": 1}],
            "restock": True,
        },
    }
    return samples.get(operation)


def same_as_missing(theirs: httpx.Response, missing: httpx.Response, their_id: str, missing_id: str) -> None:
    assert theirs.status_code == missing.status_code, (theirs.text, missing.text)
    assert theirs.headers["content-type"] == missing.headers["content-type"]
    assert theirs.text.replace(their_id, missing_id) == missing.text, (theirs.text, missing.text)


def check_owned(w: World, p: Perspective, method: str, path: str, rule: Owned) -> None:
    of = edi_ids_of if "/edi/" in path else ids_of  # the X12 documents exist for EDI orders alone
    mine, theirs = of(p.mine), of(p.theirs)
    values = {**SHARED, **mine}
    needs = NEEDED_PARAMS.get(path, {})
    with Statements(w.svc.engine) as theirs_sql:
        their_answer = w.call(method, url(path, {**values, rule.param: theirs[rule.param]}), p.key, **needs)
    with Statements(w.svc.engine) as missing_sql:
        missing_answer = w.call(method, url(path, {**values, rule.param: MISSING[rule.param]}), p.key, **needs)
    problem(their_answer, 404, "not_found")
    same_as_missing(their_answer, missing_answer, theirs[rule.param], MISSING[rule.param])
    assert theirs_sql.seen == missing_sql.seen, "another customer's id costs other lookups than a missing one"
    assert rule.kind is None or theirs_sql.seen, "the owner lookup was not seen: the comparison proves nothing"
    if method == "GET":  # exactly what any key is told of an id that does not exist
        as_admin = w.call(method, url(path, {**values, rule.param: MISSING[rule.param]}), w.admin.key, **needs)
        same_as_missing(missing_answer, as_admin, MISSING[rule.param], MISSING[rule.param])
        ok_answer = w.call(method, url(path, values), p.key, **needs)
        assert ok_answer.status_code == 200, (path, ok_answer.text)
        if ok_answer.headers["content-type"].startswith("application/json"):  # X12 text names no customer id
            assert customer_ids(ok_answer.json()) <= {p.mine}
    else:
        own = w.call(method, url(path, values), p.key, **needs)
        assert own.status_code not in (401, 403, 404), (method, path, own.text)


def check_listed(w: World, p: Perspective, path: str, rule: Listed) -> None:
    needs = NEEDED_PARAMS.get(path, {})
    everything = w.call("GET", path, w.admin.key, **needs)
    assert p.theirs in customer_ids(everything.json()), "the world holds the other customer's items"
    unfiltered = w.call("GET", path, p.key, **needs)
    assert unfiltered.status_code == 200, unfiltered.text
    assert customer_ids(unfiltered.json()) == {p.mine}, unfiltered.text
    own = w.call("GET", path, p.key, **needs, **{rule.field: p.mine})
    assert customer_ids(own.json()) == {p.mine}
    theirs = w.call("GET", path, p.key, **needs, **{rule.field: p.theirs})
    missing = w.call("GET", path, p.key, **needs, **{rule.field: MISSING["customer_id"]})
    assert theirs.status_code == 200 and customer_ids(theirs.json()) == set(), theirs.text
    assert theirs.json().get("items", []) == []
    assert without_position(theirs.json()) == without_position(missing.json())


def without_position(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "position"}


def check_names(w: World, p: Perspective, method: str, path: str, handler: HTTPRouteHandler, rule: Names) -> None:
    operation = str(handler.operation_id)
    field = "customer_id" if rule.customer is not None else "order_id"
    mine, theirs, missing = ids_of(p.mine)[field], ids_of(p.theirs)[field], MISSING[field]
    sample = bodies(w, operation, mine)
    assert sample is not None, f"{operation}: add a sample body to tests/api/test_tenancy.py"
    head = settle(w.svc, quiet=0.1)  # workflows following earlier commands are done
    their_answer = w.call(method, path, p.key, {**sample, field: theirs})
    missing_answer = w.call(method, path, p.key, {**sample, field: missing})
    if rule.customer is not None:
        problem(their_answer, 403, "forbidden")
    else:
        problem(their_answer, 422, "unknown_order")
    same_as_missing(their_answer, missing_answer, theirs, missing)
    assert w.svc.store.head() == head, "a refused command recorded something"
    own = w.call(method, path, p.key, bodies(w, operation, mine))
    assert own.status_code not in (401, 403) and "unknown_order" not in own.text, (operation, own.text)


def test_every_route_is_classified_and_keeps_each_portal_to_its_own_customer(world: World) -> None:
    w = world
    table = routes(w.client.app)
    unclassified = [(m, p) for m, p, h in table if "tenant" not in h.opt]
    assert not unclassified, f"routes without opt['tenant'] (see api/tenancy.py): {unclassified}"
    seen: dict[str, int] = {}
    for p in w.portals:
        for method, path, handler in table:
            rule = handler.opt["tenant"]
            values = {**SHARED, **ids_of(p.mine)}
            if rule == FORBIDDEN:
                problem(w.call(method, url(path, values), p.key), 403, "forbidden")
            elif rule == OPEN:  # answers, and names no other customer even when asked about theirs
                for ids in (values, {**SHARED, **ids_of(p.theirs)}):
                    answer = w.call(method, url(path, ids), p.key, **OPEN_PARAMS.get(path, {}))
                    assert answer.status_code == 200, (path, answer.text)
                    assert customer_ids(answer.json()) <= {p.mine}, (path, answer.text)
            elif isinstance(rule, Owned):
                check_owned(w, p, method, path, rule)
            elif isinstance(rule, Listed):
                check_listed(w, p, path, rule)
            elif isinstance(rule, Names):
                check_names(w, p, method, path, handler, rule)
            else:
                raise AssertionError(f"{method} {path}: unknown classification {rule!r}")
            kind = rule if isinstance(rule, str) else type(rule).__name__
            seen[kind] = seen.get(kind, 0) + 1
    assert set(seen) == {FORBIDDEN, OPEN, "Owned", "Listed", "Names"}, seen
    assert seen[FORBIDDEN] > 20 and seen["Owned"] > 15, seen


def test_credit_notes_allocations_timing_and_a_key_for_two_customers(world: World) -> None:
    """One world for the cases the matrix does not reach (building one costs seconds)."""
    w = world
    p = w.portals[0]
    takes_as_long_as_a_missing_id(w, p)
    theirs = w.call("GET", f"/v1/invoices/CN-RT-{p.theirs}", p.key)
    missing = w.call("GET", "/v1/invoices/CN-RT-NONE", p.key)
    same_as_missing(theirs, missing, f"CN-RT-{p.theirs}", "CN-RT-NONE")
    problem(theirs, 404, "not_found")
    mine = w.call("GET", f"/v1/invoices/CN-RT-{p.mine}", p.key)
    assert mine.status_code == 200 and mine.json()["kind"] == "credit_note"
    listed = w.call("GET", "/v1/invoices", p.key).json()["items"]
    assert sorted(i["invoice_id"] for i in listed) == sorted(
        [f"CN-RT-{p.mine}", f"INV-SH-E{p.mine}", f"INV-SH-{p.mine}"]
    )
    by_order = w.call("GET", "/v1/invoices", p.key, order_id=f"SO-{p.theirs}").json()
    assert by_order["items"] == []

    sent = {"payment_id": "PAY-X", "customer_id": p.mine, "amount": "1.00"}
    theirs = w.call(
        "POST", "/v1/payments", p.key, {**sent, "allocations": [{"invoice_id": f"INV-SH-{p.theirs}", "amount": "1.00"}]}
    )
    missing = w.call(
        "POST", "/v1/payments", p.key, {**sent, "allocations": [{"invoice_id": "INV-NONE", "amount": "1.00"}]}
    )
    problem(theirs, 422, "invalid_allocation")
    same_as_missing(theirs, missing, f"INV-SH-{p.theirs}", "INV-NONE")

    created = w.admin.post("/v1/admin/keys", {"name": "group", "scopes": ["read"], "customers": ["C1", "C2"]})
    key = created.json()["key"]
    orders = w.call("GET", "/v1/orders", key).json()["items"]
    assert {o["customer_id"] for o in orders} == {"C1", "C2"}
    assert w.call("GET", "/v1/orders/SO-C2", key).status_code == 200
    assert w.call("GET", "/v1/orders", key, customer_id="C2").json()["items"][0]["customer_id"] == "C2"
    problem(w.call("GET", "/v1/events", key), 403, "forbidden")


def test_a_route_nobody_classified_is_closed_to_scoped_keys_and_a_list_must_take_its_filter(database_url: str) -> None:
    @get("/v1/unclassified", opt={"scope": "read"}, operation_id="Unclassified", sync_to_thread=False)
    def unclassified() -> dict[str, str]:
        return {"customer_id": "C2"}

    @get("/v1/a-list", opt=tenant("read", LISTED), operation_id="AList", sync_to_thread=False)
    def a_list() -> dict[str, list[str]]:
        return {"items": []}

    with TestClient(create_app(make_settings(database_url), workers=False)) as client:
        client.app.register(unclassified)
        portal = client.app.state.service.keys.create("portal", frozenset({"read"}), frozenset({"C1"}))
        problem(client.get("/v1/unclassified", headers={"Authorization": f"Bearer {portal}"}), 403, "forbidden")
        assert client.get("/v1/unclassified", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).status_code == 200
        check_listed_routes(client.app)
        client.app.register(a_list)
        try:
            check_listed_routes(client.app)
        except RuntimeError as exc:
            assert "/v1/a-list" in str(exc)
        else:
            raise AssertionError("a Listed route without the customers dependency was accepted")


def takes_as_long_as_a_missing_id(w: World, p: Perspective) -> None:
    """Within noise: the two are asked in turn, many times, and their medians compared loosely (the SQL
    check of the matrix is the exact form of this rule; this one guards against work outside SQL)."""
    for path in ("/v1/orders/{}", "/v1/invoices/{}/history"):
        ids = {"theirs": f"SO-{p.theirs}", "missing": "SO-NONE"}
        if "invoices" in path:
            ids = {"theirs": f"INV-SH-{p.theirs}", "missing": "INV-NONE"}
        times: dict[str, list[float]] = {"theirs": [], "missing": []}
        for _ in range(40):
            for which, value in ids.items():
                started = time.perf_counter()
                assert w.call("GET", path.format(value), p.key).status_code == 404
                times[which].append(time.perf_counter() - started)
        ratio = statistics.median(times["theirs"]) / statistics.median(times["missing"])
        assert 0.5 < ratio < 2.0, (path, ratio)
