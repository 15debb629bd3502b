"""Customer scoping: the one place where a key with `customers` is kept to those customers' data.

Every route says in `opt["tenant"]` what it is to such a key (tests/api/test_tenancy.py fails for a route
that does not), and `tenancy_guard` enforces it before the handler runs:

    OPEN        the same as for any key (ATP, promises, products, warehouses)
    FORBIDDEN   403 forbidden (the feed, signals, ops, inventory, reference-data writes, admin)
    Owned       a single resource named by a path parameter: one of another customer answers exactly what
                an id that does not exist answers, decided here for both, after the same single lookup
                (the first event of the resource's stream), so neither the answer nor the work done
                tells them apart
    Listed      a list: the route declares its customer field, the guard works out which customers the
                list may hold (the key's, narrowed by a `?customer_id=` filter) and the handler receives
                that set as its `customers` dependency and hands it to its query
    Names       a command whose body names a customer (403 forbidden when it is not the key's, whether
                that customer exists or not) or an order (answered as a missing order when it is not
                the key's)

A route without a classification is refused to a customer-scoped key (403): a new route is closed to
portals until someone decides what it shows them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from litestar import Litestar, Request
from litestar.connection import ASGIConnection
from litestar.handlers import HTTPRouteHandler
from litestar.handlers.base import BaseRouteHandler

from api.errors import ProblemError
from domain.errors import DomainError, NotFoundError, UnknownOrderError
from infra.adapters.keys import Principal
from infra.eventstore.store import EventStore
from infra.ledger.kinds import INVOICE, ORDER, SHIPMENT, Kind
from infra.service import Service

OPEN = "open"
FORBIDDEN = "forbidden"
Missing = Callable[[Mapping[str, Any]], DomainError]


@dataclass(frozen=True)
class Owned:
    """A resource named by the path parameter `param`: of `kind`'s stream (its first event names the
    customer), or, with no kind, the customer the parameter names itself."""

    param: str
    kind: Kind[Any] | None
    missing: Missing


@dataclass(frozen=True)
class Listed:
    field: str = "customer_id"  # the query parameter (and item field) that names the customer


@dataclass(frozen=True)
class Names:
    """Body fields of a command: `customer` names a customer, `order` an existing order."""

    customer: str | None = None
    order: str | None = None


Tenant = str | Owned | Listed | Names


def _missing_order(p: Mapping[str, Any]) -> DomainError:
    return NotFoundError(f"Order {p['order_id']} does not exist", order_id=p["order_id"])


def _missing_invoice(p: Mapping[str, Any]) -> DomainError:
    return NotFoundError(f"Invoice {p['invoice_id']} does not exist", invoice_id=p["invoice_id"])


def _missing_shipment(p: Mapping[str, Any]) -> DomainError:
    return NotFoundError(f"Shipment {p['shipment_id']} does not exist", shipment_id=p["shipment_id"])


def _missing_customer(p: Mapping[str, Any]) -> DomainError:
    return NotFoundError(f"Customer {p['customer_id']} does not exist", customer_id=p["customer_id"])


def _missing_price(p: Mapping[str, Any]) -> DomainError:
    return NotFoundError(
        f"No contract price for {p['sku']} and customer {p['customer_id']}", customer_id=p["customer_id"], sku=p["sku"]
    )


def _unknown_order(order_id: str) -> DomainError:
    return UnknownOrderError(f"Order {order_id} does not exist", order_id=order_id)


ORDER_PATH = Owned("order_id", ORDER, _missing_order)
INVOICE_PATH = Owned("invoice_id", INVOICE, _missing_invoice)  # credit notes too: the same stream kind
SHIPMENT_PATH = Owned("shipment_id", SHIPMENT, _missing_shipment)
CUSTOMER_PATH = Owned("customer_id", None, _missing_customer)
PRICE_PATH = Owned("customer_id", None, _missing_price)
LISTED = Listed()


def tenant(scope: str, rule: Tenant) -> dict[str, Any]:
    """A route's `opt`: its scope and what it is to a customer-scoped key."""
    return {"scope": scope, "tenant": rule}


def _forbidden(principal: Principal, what: str) -> ProblemError:
    return ProblemError(
        403, "forbidden", "Forbidden", f"The key '{principal.name}' acts for its customers alone: {what}"
    )


def owner_of(store: EventStore, kind: Kind[Any], key: str) -> str | None:
    """The customer of a resource, from the first event of its stream; None when there is none. One
    query of the same shape whether the stream exists or not."""
    first = store.first_event(kind.stream_id(key))
    return getattr(first.event, "customer_id", None) if first is not None else None


async def _owned(store: EventStore, kind: Kind[Any] | None, key: str) -> str | None:
    if kind is None:
        return key
    return await anyio.to_thread.run_sync(owner_of, store, kind, key)


def _listed(connection: ASGIConnection[Any, Any, Any, Any], rule: Listed, allowed: frozenset[str] | None) -> None:
    asked = connection.query_params.get(rule.field)
    wanted = frozenset({asked}) if asked else None
    if allowed is not None:
        wanted = allowed if wanted is None else wanted & allowed
    connection.state["customers"] = wanted


async def tenancy_guard(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Guard, after `require_scope`: what a key with `customers` may see and do on this route."""
    rule: Tenant | None = handler.opt.get("tenant")
    principal: Principal | None = connection.scope["state"].get("principal")  # set by require_scope
    allowed = principal.customers if principal is not None else None
    if isinstance(rule, Listed):
        _listed(connection, rule, allowed)
    if principal is None or allowed is None:
        return
    if rule == OPEN or isinstance(rule, Listed):
        return
    if rule is None or rule == FORBIDDEN:
        raise _forbidden(principal, "this route is not open to such keys")
    svc: Service = connection.app.state.service
    if isinstance(rule, Owned):
        params = connection.path_params
        if await _owned(svc.store, rule.kind, str(params[rule.param])) not in allowed:
            raise rule.missing(params)
        return
    if isinstance(rule, Names):
        assert isinstance(connection, Request)
        data = await connection.json()  # the handler's body Struct, decoded strictly (api/body.py)
        if rule.customer is not None and getattr(data, rule.customer) not in allowed:
            raise _forbidden(principal, f"{rule.customer} names another customer")
        if rule.order is not None:
            order_id = getattr(data, rule.order)
            if await _owned(svc.store, ORDER, order_id) not in allowed:
                raise _unknown_order(order_id)
        return
    raise _forbidden(principal, "this route is not open to such keys")


class CustomerScope:
    """What a list route is handed as `customers`: the customers its answer may hold (None: all)."""

    def __init__(self, only: frozenset[str] | None) -> None:
        self.only = only


def customer_scope(request: Request[Any, Any, Any]) -> CustomerScope:
    """The set the guard worked out for this list request (see `Listed`)."""
    return CustomerScope(request.state.get("customers"))


def check_listed_routes(app: Litestar) -> None:
    """A Listed route that does not take `customers` would ignore the guard's filter: refuse to start."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not isinstance(handler, HTTPRouteHandler):
                continue
            if (
                isinstance(handler.opt.get("tenant"), Listed)
                and "customers" not in handler.parsed_fn_signature.parameters
            ):
                raise RuntimeError(f"{route.path}: a Listed route must take the `customers` dependency")
