"""API keys as an audited aggregate: creation, rotation and revocation are events (the key itself never is:
its hash lives in the key table of infra/adapters/keys.py, outside the log)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import assert_never

from domain.decider import Decider
from domain.errors import CONFLICT, DomainError, DuplicateIdError, NotFoundError
from domain.events import Event, register

SCOPES = frozenset(
    {"catalog:write", "orders:write", "inventory:write", "shipments:write", "finance:write", "read", "admin"}
)


class ApiKeyCreated(Event, frozen=True, kw_only=True):
    name: str
    scopes: tuple[str, ...]
    customers: tuple[str, ...] | None = None  # None: every customer
    expires_at: datetime | None = None
    at: datetime


class ApiKeyRotated(Event, frozen=True, kw_only=True):
    name: str
    previous_valid_until: datetime  # the old key works until then (the grace)
    at: datetime


class ApiKeyRevoked(Event, frozen=True, kw_only=True):
    name: str
    at: datetime


register(ApiKeyCreated, ApiKeyRotated, ApiKeyRevoked)
EVENTS = (ApiKeyCreated, ApiKeyRotated, ApiKeyRevoked)


class KeyRevokedError(DomainError):
    code = "key_revoked"
    category = CONFLICT
    title = "The key is revoked"


class KeyExpiredError(DomainError):
    code = "key_expired"
    category = CONFLICT
    title = "The key has expired"


@dataclass(frozen=True)
class ApiKey:
    name: str
    scopes: tuple[str, ...]
    customers: tuple[str, ...] | None
    expires_at: datetime | None
    created_at: datetime
    revoked_at: datetime | None = None
    rotated_at: datetime | None = None


@dataclass(frozen=True)
class CreateApiKey:
    name: str
    scopes: tuple[str, ...]
    customers: tuple[str, ...] | None
    expires_at: datetime | None
    at: datetime


@dataclass(frozen=True)
class RotateApiKey:
    name: str
    grace_seconds: int
    at: datetime
    existing: ApiKey | None = None  # a key made before keys were audited: its stream starts with it


@dataclass(frozen=True)
class RevokeApiKey:
    name: str
    at: datetime
    existing: ApiKey | None = None


KeyCommand = CreateApiKey | RotateApiKey | RevokeApiKey


def evolve(state: ApiKey | None, event: Event) -> ApiKey | None:
    if isinstance(event, ApiKeyCreated):
        return ApiKey(event.name, event.scopes, event.customers, event.expires_at, event.at)
    if state is None:
        return None
    if isinstance(event, ApiKeyRotated):
        return replace(state, rotated_at=event.at)
    if isinstance(event, ApiKeyRevoked):
        return replace(state, revoked_at=event.at)
    return state


def _active(state: ApiKey | None, name: str, at: datetime) -> ApiKey:
    if state is None:
        raise NotFoundError(f"No key named {name}", name=name)
    if state.revoked_at is not None:
        raise KeyRevokedError(f"The key {name} was revoked", name=name)
    if state.expires_at is not None and state.expires_at <= at:
        raise KeyExpiredError(f"The key {name} has expired", name=name)
    return state


def decide(command: KeyCommand, state: ApiKey | None) -> list[Event]:
    """A name is used once, ever (it is the actor of every event its key records); only a live key
    rotates; revoking twice records nothing. Scopes, customers and times arrive checked on the command."""
    if isinstance(command, CreateApiKey):
        if state is not None:
            raise DuplicateIdError(f"A key named {command.name} already exists", name=command.name)
        return [
            ApiKeyCreated(
                name=command.name,
                scopes=command.scopes,
                customers=command.customers,
                expires_at=command.expires_at,
                at=command.at,
            )
        ]
    adopted = _adopt(state, command.existing)
    state = evolve(state, adopted[0]) if adopted else state
    if isinstance(command, RotateApiKey):
        _active(state, command.name, command.at)
        until = command.at + timedelta(seconds=command.grace_seconds)
        return [*adopted, ApiKeyRotated(name=command.name, previous_valid_until=until, at=command.at)]
    if isinstance(command, RevokeApiKey):
        if state is None:
            raise NotFoundError(f"No key named {command.name}", name=command.name)
        if state.revoked_at is not None:
            return adopted
        return [*adopted, ApiKeyRevoked(name=command.name, at=command.at)]
    assert_never(command)


def _adopt(state: ApiKey | None, existing: ApiKey | None) -> list[Event]:
    """A key known only to the key table (older versions recorded no events) gets its creation recorded,
    as of when it was made, before the first change to it."""
    if state is not None or existing is None:
        return []
    return [
        ApiKeyCreated(
            name=existing.name,
            scopes=existing.scopes,
            customers=existing.customers,
            expires_at=existing.expires_at,
            at=existing.created_at,
        )
    ]


decider: Decider[KeyCommand, ApiKey | None] = Decider(decide, evolve, lambda key: None)
