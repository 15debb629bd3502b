"""API keys over HTTP and the command line (API.md "Customer-scoped keys, expiry and rotation").

`KeyAdmin` is the one way keys change: the change is decided and recorded as an event on the key's stream
first (who, when; never the key), then the key table is written (hashes only). The HTTP routes and
`o2c keys` both go through it. A key is shown once: its creation and rotation answers are not recorded
for an Idempotency-Key replay (that would put the key in the log); a repeated creation is 409 duplicate_id.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import anyio.to_thread
import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.params import JSONBody
from msgspec import Meta

from api.commands import correlation_id, principal_of
from api.deps import Waits
from api.errors import invalid
from api.fulfilment import parse_rfc3339
from api.models import Body, Id, Timestamp
from api.openapi import answers
from api.reference import IdPath, MinPosition
from api.resources import Resource, Time
from api.security import check_idempotency_key, new_correlation_id
from domain import apikey
from domain.errors import DuplicateIdError, NotFoundError
from domain.values import format_timestamp
from infra.adapters.keys import KeyRing, Principal
from infra.clock import Clock
from infra.eventstore.store import EventStore
from infra.ledger.kinds import API_KEY
from infra.ledger.unitofwork import Context
from infra.service import Service

Scope = Literal[
    "catalog:write", "orders:write", "inventory:write", "shipments:write", "finance:write", "read", "admin", "*"
]
DEFAULT_GRACE = 86400
MAX_GRACE = 365 * 86400


class CreateKeyRequest(Body):
    name: Id
    scopes: Annotated[list[Scope], Meta(min_length=1, max_length=8)]
    customers: Annotated[list[Id], Meta(min_length=1, max_length=1000)] | None = None
    expires_at: Timestamp | None = None


class RotateKeyRequest(Body):
    grace_seconds: Annotated[int, Meta(ge=0, le=MAX_GRACE)] = DEFAULT_GRACE


NO_GRACE_GIVEN = RotateKeyRequest()


class KeyChange(Resource):
    type: str
    at: Time
    actor: str | None


class ApiKeyView(Resource):
    name: str
    scopes: list[str]
    customers: list[str] | None
    expires_at: Time | None
    created_at: Time
    revoked_at: Time | None
    status: Literal["active", "revoked", "expired"]


class ApiKeyDetail(ApiKeyView):
    history: list[KeyChange]


class IssuedKey(Resource):
    """A key as created or rotated: the only answers that carry `key`."""

    name: str
    key: str
    scopes: list[str]
    customers: list[str] | None
    expires_at: Time | None
    created_at: Time
    previous_valid_until: Time | None = None


class ApiKeyList(Resource):
    items: list[ApiKeyView]
    next_after: str | None


def _time(value: datetime | None) -> str | None:
    return format_timestamp(value) if value is not None else None


class KeyAdmin:
    """Creates, rotates and revokes keys: the event first, then the key table (see the module docstring)."""

    def __init__(self, svc: Service) -> None:
        self.svc = svc

    @property
    def ring(self) -> KeyRing:
        return self.svc.keys

    @property
    def clock(self) -> Clock:
        return self.svc.clock

    def _record(self, ctx: Context, command: apikey.KeyCommand) -> apikey.ApiKey:
        ctx = dataclasses.replace(ctx, occurred_at=command.at)  # the service's clock, as the decision saw it
        result = self.svc.app.execute(ctx, command).result
        assert isinstance(result, apikey.ApiKey)
        return result

    def _legacy(self, name: str) -> apikey.ApiKey | None:
        """A key of the table made before keys were audited (it has no stream yet)."""
        row = next((r for r in self.ring.list() if r["name"] == name), None)
        if row is None or self.svc.ledger.load(API_KEY, name)[0] is not None:
            return None
        customers = tuple(row["customers"]) if row["customers"] is not None else None
        return apikey.ApiKey(name, tuple(row["scopes"].split(",")), customers, row["expires_at"], row["created_at"])

    def create(
        self,
        ctx: Context,
        name: str,
        scopes: frozenset[str],
        customers: frozenset[str] | None,
        expires_at: datetime | None,
    ) -> tuple[str, apikey.ApiKey]:
        if self._legacy(name) is not None:
            raise DuplicateIdError(f"A key named {name} already exists", name=name)
        now = self.clock.now()
        listed = tuple(sorted(customers)) if customers is not None else None
        state = self._record(ctx, apikey.CreateApiKey(name, tuple(sorted(scopes)), listed, expires_at, now))
        try:
            key = self.ring.create(name, scopes, customers, expires_at, created_at=now)
        except ValueError:  # the table has it (made by an older version meanwhile)
            raise DuplicateIdError(f"A key named {name} already exists", name=name) from None
        return key, state

    def rotate(self, ctx: Context, name: str, grace_seconds: int) -> tuple[str, apikey.ApiKey, datetime]:
        now = self.clock.now()
        command = apikey.RotateApiKey(name, grace_seconds, now, existing=self._legacy(name))
        state = self._record(ctx, command)
        until = now + timedelta(seconds=grace_seconds)
        try:
            key = self.ring.rotate(name, until)
        except ValueError:  # recorded, but its table row was never written (see decision 0021): write it now
            customers = frozenset(state.customers) if state.customers is not None else None
            key = self.ring.create(
                name, frozenset(state.scopes), customers, state.expires_at, created_at=state.created_at
            )
        return key, state, until

    def revoke(self, ctx: Context, name: str) -> None:
        self._record(ctx, apikey.RevokeApiKey(name, self.clock.now(), existing=self._legacy(name)))
        self.ring.revoke(name)

    def view(self, name: str | None = None) -> list[ApiKeyView]:
        now = self.clock.now()
        views = []
        for row in self.ring.list():
            if name is not None and row["name"] != name:
                continue
            expired = row["expires_at"] is not None and row["expires_at"] <= now
            status: Literal["active", "revoked", "expired"] = (
                "revoked" if row["revoked_at"] else "expired" if expired else "active"
            )
            views.append(
                ApiKeyView(
                    row["name"],
                    row["scopes"].split(","),
                    row["customers"],
                    _time(row["expires_at"]),
                    format_timestamp(row["created_at"]),
                    _time(row["revoked_at"]),
                    status,
                )
            )
        return views

    def detail(self, name: str) -> ApiKeyDetail:
        found = self.view(name)
        if not found:
            raise NotFoundError(f"No key named {name}", name=name)
        store: EventStore = self.svc.store
        history = [
            KeyChange(r.topic, format_timestamp(getattr(r.event, "at", r.meta.occurred_at)), r.meta.actor)
            for r in store.history(API_KEY.stream_id(name))
        ]
        return ApiKeyDetail(**msgspec.structs.asdict(found[0]), history=history)


def issued(key: str, state: apikey.ApiKey, previous_valid_until: datetime | None = None) -> IssuedKey:
    return IssuedKey(
        state.name,
        key,
        list(state.scopes),
        list(state.customers) if state.customers is not None else None,
        _time(state.expires_at),
        format_timestamp(state.created_at),
        _time(previous_valid_until),
    )


def scopes_of(sent: list[str]) -> frozenset[str]:
    return frozenset({"admin"}) if "*" in sent else frozenset(sent)


def check_expiry(expires_at: datetime | None, now: datetime, field: str = "expires_at") -> None:
    if expires_at is not None and expires_at <= now:
        raise invalid([{"field": field, "message": "must be in the future"}])


def _context(request: Request[Any, Any, Any]) -> Context:
    principal: Principal = principal_of(request)
    check_idempotency_key(request)
    key = request.headers.get("idempotency-key")
    return Context(principal.name, correlation_id(request), f"request:{key or new_correlation_id()}")


ADMIN = {"scope": "admin", "tenant": "forbidden"}


class AdminKeysController(Controller):
    path = "/v1/admin/keys"
    tags = ["admin"]

    @post("/", opt=ADMIN, operation_id="CreateApiKey", responses=answers(IssuedKey))
    async def create(
        self, request: Request[Any, Any, Any], service: NamedDependency[Service], data: JSONBody[CreateKeyRequest]
    ) -> Response[IssuedKey]:
        expires_at = parse_rfc3339(data.expires_at, "expires_at") if data.expires_at is not None else None
        check_expiry(expires_at, service.clock.now())
        customers = frozenset(data.customers) if data.customers is not None else None
        admin = KeyAdmin(service)
        key, state = await anyio.to_thread.run_sync(
            admin.create, _context(request), data.name, scopes_of(list(data.scopes)), customers, expires_at
        )
        return Response(issued(key, state), status_code=201)

    @get("/", opt=ADMIN, operation_id="ListApiKeys")
    async def list_keys(
        self, service: NamedDependency[Service], waits: NamedDependency[Waits], min_position: MinPosition = None
    ) -> ApiKeyList:
        await waits.for_log(min_position)
        return ApiKeyList(await anyio.to_thread.run_sync(KeyAdmin(service).view), None)

    @get("/{name:str}", opt=ADMIN, operation_id="GetApiKey")
    async def get_key(
        self,
        service: NamedDependency[Service],
        waits: NamedDependency[Waits],
        name: IdPath,
        min_position: MinPosition = None,
    ) -> ApiKeyDetail:
        await waits.for_log(min_position)
        return await anyio.to_thread.run_sync(KeyAdmin(service).detail, name)

    @delete("/{name:str}", opt=ADMIN, operation_id="RevokeApiKey", status_code=204)
    async def revoke(self, request: Request[Any, Any, Any], service: NamedDependency[Service], name: IdPath) -> None:
        await anyio.to_thread.run_sync(KeyAdmin(service).revoke, _context(request), name)

    @post(
        "/{name:str}/rotate",
        opt=ADMIN,
        operation_id="RotateApiKey",
        status_code=200,
        responses=answers(IssuedKey, 200),
    )
    async def rotate(
        self,
        request: Request[Any, Any, Any],
        service: NamedDependency[Service],
        name: IdPath,
        data: JSONBody[RotateKeyRequest] = NO_GRACE_GIVEN,
    ) -> IssuedKey:
        key, state, until = await anyio.to_thread.run_sync(
            KeyAdmin(service).rotate, _context(request), name, data.grace_seconds
        )
        return issued(key, state, until)
