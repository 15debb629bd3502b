"""One attempt of one command: the streams it loaded, the events it decided, who asked and why."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

from domain.errors import DomainError
from domain.events import Event
from infra.eventstore.codec import Meta
from infra.eventstore.store import EventStore, NewEvent
from infra.ledger.cache import StateCache, load_state, load_states
from infra.ledger.kinds import Kind

S = TypeVar("S")
R = TypeVar("R")


@dataclass(frozen=True)
class Context:
    """Who asked, and why: copied onto every event the command records."""

    actor: str
    correlation_id: str
    causation_id: str
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    traceparent: str | None = None  # W3C trace context of the request or event that caused the command


@dataclass
class Loaded:
    """A stream as one command (or one group commit) has it: its state and version."""

    kind: Kind[Any]
    key: str
    state: Any
    version: int
    base: int = -1  # the version it was loaded at (-1: not told); the cache needs it back only when it moved

    @property
    def changed(self) -> bool:
        return self.version != self.base


class UnitOfWork:
    """Streams loaded for one attempt of one command, and the events it decided."""

    def __init__(
        self,
        store: EventStore,
        ctx: Context,
        cache: StateCache | None = None,
        shared: dict[UUID, Loaded] | None = None,
    ) -> None:
        self.store = store
        self.ctx = ctx
        self.cache = cache or StateCache(max_streams=1000)
        self._loaded: dict[UUID, Loaded] = {}
        self._shared = shared  # streams as earlier commands of the same group commit left them
        self.pending: list[NewEvent] = []

    def _load(self, kind: Kind[S], key: str) -> Loaded:
        sid = kind.stream_id(key)
        loaded = self._loaded.get(sid)
        if loaded is None and self._shared is not None and sid in self._shared:
            seen = self._shared[sid]
            loaded = self._loaded[sid] = Loaded(seen.kind, seen.key, seen.state, seen.version, seen.base)
        if loaded is None:
            state, version = load_state(self.store, self.cache, kind, key)
            loaded = self._loaded[sid] = Loaded(kind, key, state, version, version)
        return loaded

    def preload(self, kind: Kind[Any], keys: list[str]) -> None:
        """Load many streams at once (from the cache, the rest in batched queries) before a command
        reads them one by one: a command over thousands of SKUs makes a few queries, not one per stream."""
        todo = []
        for key in keys:
            sid = kind.stream_id(key)
            if sid not in self._loaded and (self._shared is None or sid not in self._shared):
                todo.append(key)
        for key, (state, version) in load_states(self.store, self.cache, kind, todo).items():
            self._loaded[kind.stream_id(key)] = Loaded(kind, key, state, version, version)

    def existing(self, kind: Kind[Any], keys: Sequence[str]) -> set[str]:
        """Those of `keys` whose stream has events, without loading a state: from what this attempt
        loaded, else the tailing cache's set of known streams (as of its last sync, which is what
        `get` would answer too: a stream unknown there loads as its initial state without a query),
        else one query per 500 streams."""
        found: set[str] = set()
        ask: dict[UUID, str] = {}
        known = self.cache.known if self.cache.valid_upto is not None else None
        for key in keys:
            sid = kind.stream_id(key)
            loaded = self._loaded.get(sid)
            if loaded is None and self._shared is not None:
                loaded = self._shared.get(sid)
            if loaded is not None:
                if loaded.version:
                    found.add(key)
            elif known is not None:
                if sid in known:
                    found.add(key)
            else:
                ask[sid] = key
        if ask:
            found.update(ask[sid] for sid in self.store.existing(list(ask)))
        return found

    @property
    def loaded_streams(self) -> list[UUID]:
        return list(self._loaded)

    @property
    def loaded(self) -> dict[UUID, Loaded]:
        """Every stream this attempt loaded, as its decisions left it."""
        return self._loaded

    def committed(self) -> None:
        """The write succeeded: the new states are the streams' latest. A stream it only read is as
        the cache (or the store) gave it: putting it back would only evict others (a reconciliation
        reads 50,000 streams and changes a few)."""
        for sid, loaded in self._loaded.items():
            if loaded.changed:
                self.cache.put(sid, loaded.kind, loaded.state, loaded.version)

    def get(self, kind: Kind[S], key: str) -> S:
        state: S = self._load(kind, key).state
        return state

    def version(self, kind: Kind[Any], key: str) -> int:
        return self._load(kind, key).version

    def record(self, kind: Kind[S], key: str, events: list[Event]) -> S:
        """Apply decided events to the stream's state and queue them for the atomic write."""
        loaded = self._load(kind, key)
        sid = kind.stream_id(key)
        meta = Meta(
            kind=kind.name,
            key=key,
            occurred_at=self.ctx.occurred_at,
            actor=self.ctx.actor,
            correlation_id=self.ctx.correlation_id,
            causation_id=self.ctx.causation_id,
            traceparent=self.ctx.traceparent,
        )
        for event in events:
            loaded.version += 1
            loaded.state = kind.evolve(loaded.state, event)
            self.pending.append(NewEvent(sid, loaded.version, meta, event))
        state: S = loaded.state
        return state

    @property
    def has_events(self) -> bool:
        return bool(self.pending)

    def attempt(self, run: Callable[[], R]) -> R:
        """Run part of a command all or nothing: when `run` raises a DomainError, the streams it loaded or
        changed and the events it queued are as they were before, and the error goes on to the caller (one
        purchase order of an EDI interchange refused while the others are placed in the same write)."""
        before = {sid: (loaded.state, loaded.version) for sid, loaded in self._loaded.items()}
        queued = len(self.pending)
        try:
            return run()
        except DomainError:
            for sid in [sid for sid in self._loaded if sid not in before]:
                del self._loaded[sid]
            for sid, (state, version) in before.items():
                self._loaded[sid].state, self._loaded[sid].version = state, version
            del self.pending[queued:]
            raise


@dataclass(frozen=True)
class Dedupe:
    """A repeat of a command is answered from its record, not decided again.

    `scope`+`key` name the record; a different `fingerprint` under the same name is an error.
    """

    scope: str
    key: str
    fingerprint: str
    on_mismatch: Callable[[], DomainError]
    always: bool = False  # recorded even when the command itself records nothing (an idempotency key)

    @property
    def record_key(self) -> str:
        return f"{self.scope}:{self.key}"


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What a command came to: its domain result (None when it was answered from its record), the
    caller's reply to it (opaque text, recorded with the idempotency records and returned unchanged on
    a repeat), and the log position the command answers."""

    result: R | None
    reply: str
    position: int
    replayed: bool = False


def needs_write(uow: UnitOfWork, dedupe: tuple[Dedupe, ...]) -> bool:
    """A command is saved when it decided events, or when it carries a key that must be recorded anyway."""
    return uow.has_events or any(d.always for d in dedupe)


Handler = Callable[[UnitOfWork], Any]  # decides and records in the unit of work; returns a domain result
Reply = Callable[[Any], str]  # the caller's answer to a result (its bytes are the caller's business)
