"""The write side: load streams, decide, save every event of a command in one atomic write.

A command runs inside a UnitOfWork. On a version conflict (another command saved first) the whole
command is reloaded and decided again, with bounded, jittered retries. Idempotency records
(`CommandRecorded`) are saved in the same write as the command's events.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from uuid import UUID

import anyio.to_thread
from eventsourcing.persistence import IntegrityError

from domain import backorders, catalog, customer, inventory, invoice, order, payment, shipment, transfer
from domain.errors import DomainError
from domain.events import Event
from infra.eventstore.codec import CommandRecorded, Meta
from infra.eventstore.store import STORE_ERRORS, EventStore, NewEvent, unreachable
from infra.eventstore.streams import stream_id
from infra.ledger.snapshots import EVERY, crossed

if TYPE_CHECKING:
    from infra.ledger.groupcommit import GroupCommitter
    from infra.ledger.snapshots import Snapshots

log = logging.getLogger("infra.ledger")
S = TypeVar("S")
UNREACHABLE_PATIENCE = 3.0  # seconds a command keeps retrying a store it cannot reach before a 503


@dataclass(frozen=True)
class Kind(Generic[S]):
    """A kind of stream: how a business key maps to a stream and how its state evolves."""

    name: str
    initial: Callable[[str], S]
    evolve: Callable[[S, Event], S]

    def stream_id(self, key: str) -> UUID:
        return stream_id(self.name, key)


def _position_initial(key: str) -> inventory.Position:
    sku, _, warehouse_id = key.partition("@")
    return inventory.Position(sku=sku, warehouse_id=warehouse_id)


PRODUCT: Kind[catalog.Product | None] = Kind("product", lambda k: None, catalog.evolve_product)
WAREHOUSE: Kind[catalog.Warehouse | None] = Kind("warehouse", lambda k: None, catalog.evolve_warehouse)
WAREHOUSE_INDEX: Kind[tuple[str, ...]] = Kind("warehouse-index", lambda k: (), catalog.evolve_warehouse_index)
CUSTOMER: Kind[customer.Customer | None] = Kind("customer", lambda k: None, customer.evolve_customer)
ACCOUNT: Kind[customer.Account | None] = Kind("account", lambda k: None, customer.evolve_account)
POSITION: Kind[inventory.Position] = Kind("position", _position_initial, inventory.evolve_position)
ORDER: Kind[order.Order | None] = Kind("order", lambda k: None, order.evolve_order)
BOOK: Kind[backorders.Book] = Kind("backorders", lambda k: backorders.Book(sku=k), backorders.evolve_book)
SHIPMENT: Kind[shipment.Shipment | None] = Kind("shipment", lambda k: None, shipment.evolve_shipment)
TRANSFER: Kind[transfer.Transfer | None] = Kind("transfer", lambda k: None, transfer.evolve_transfer)

INVOICE: Kind[invoice.Invoice | None] = Kind("invoice", lambda k: None, invoice.evolve_invoice)
SEQUENCE: Kind[int] = Kind("sequence", lambda k: 0, invoice.evolve_sequence)


def _evolve_payment(state: payment.PaymentReceived | None, event: Event) -> payment.PaymentReceived | None:
    return event if isinstance(event, payment.PaymentReceived) else state


PAYMENT: Kind[payment.PaymentReceived | None] = Kind("payment", lambda k: None, _evolve_payment)


def _evolve_record(state: CommandRecorded | None, event: Event) -> CommandRecorded | None:
    return event if isinstance(event, CommandRecorded) else state


RECORD: Kind[CommandRecorded | None] = Kind("command", lambda k: None, _evolve_record)

KINDS: dict[str, Kind[Any]] = {
    k.name: k
    for k in (
        PRODUCT,
        WAREHOUSE,
        WAREHOUSE_INDEX,
        CUSTOMER,
        ACCOUNT,
        POSITION,
        ORDER,
        BOOK,
        SHIPMENT,
        TRANSFER,
        RECORD,
        INVOICE,
        SEQUENCE,
        PAYMENT,
    )
}


def position_key(sku: str, warehouse_id: str) -> str:
    return f"{sku}@{warehouse_id}"


@dataclass(frozen=True)
class Context:
    """Who asked, and why: copied onto every event the command records."""

    actor: str
    correlation_id: str
    causation_id: str
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class _Loaded:
    kind: Kind[Any]
    key: str
    state: Any
    version: int


class StateCache:
    """Recent stream states by stream id, kept current by tailing the global log.

    `sync()` reads whatever was appended since the last sync (by this process or any other) and
    folds it into the cached states, so loading a cached stream needs no query at all: one
    `max(position)` per command replaces a query per stream. A state that cannot be brought up to
    date (a version gap) is dropped and reloaded on next use. A stale read can never be saved:
    every write is still checked against the stream versions it decided on.
    States are immutable, so sharing them between threads is safe. Bounded; oldest entries go first.
    With `snapshots`, long-lived streams missing from memory start from their persisted snapshot,
    and states that pass a snapshot point are offered to it.
    """

    def __init__(
        self, max_streams: int = 50_000, valid_upto: int | None = None, snapshots: Snapshots | None = None
    ) -> None:
        self.max_streams = max_streams
        self.snapshots = snapshots
        # Every stream id in the store as of the last sync, when known: a stream outside it does not
        # exist yet, so loading it needs no query (new orders, new idempotency records). A stream
        # created meanwhile by another process makes the write conflict and the command retry.
        self.known: set[UUID] | None = None
        self._states: OrderedDict[UUID, tuple[Kind[Any], Any, int]] = OrderedDict()
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self.valid_upto = valid_upto  # None: not tailing, every load asks the store

    def get(self, sid: UUID) -> tuple[Any, int] | None:
        with self._lock:
            found = self._states.get(sid)
            if found is None:
                return None
            self._states.move_to_end(sid)
            return found[1], found[2]

    def put(self, sid: UUID, kind: Kind[Any], state: Any, version: int) -> None:
        if version and self.known is not None:
            self.known.add(sid)
        with self._lock:
            current = self._states.get(sid)
            if current is not None and current[2] >= version:
                return
            self._states[sid] = (kind, state, version)
            self._states.move_to_end(sid)
            while len(self._states) > self.max_streams:
                self._states.popitem(last=False)
        self._offer(sid, kind, state, current[2] if current is not None else version - 1, version)

    def _offer(self, sid: UUID, kind: Kind[Any], state: Any, old_version: int, version: int) -> None:
        if self.snapshots is not None and version and self.snapshots.covers(kind) and crossed(old_version, version):
            self.snapshots.offer(sid, kind, state, version)

    def put_loaded(self, sid: UUID, kind: Kind[Any], state: Any, version: int, seen_upto: int | None) -> None:
        """Cache a state just read from the store, unless a sync ran meanwhile (it may have skipped
        events of this stream that the read did not see yet)."""
        with self._sync_lock:
            if self.valid_upto == seen_upto:
                self.put(sid, kind, state, version)

    def drop(self, sids: Iterable[UUID]) -> None:
        with self._lock:
            for sid in sids:
                self._states.pop(sid, None)

    def advance(self, positions: Sequence[int]) -> None:
        """This process just wrote `positions` and cached the states it wrote. If they directly follow
        what the cache has seen (no other write can sit between them: appends are serialised), there
        is nothing to read back on the next sync."""
        if self.valid_upto is None or not positions:
            return
        with self._sync_lock:
            low, high = min(positions), max(positions)
            if low == self.valid_upto + 1 and high - low + 1 == len(positions):
                self.valid_upto = high

    def sync(self, store: EventStore) -> None:
        """Fold everything recorded since the last sync into the cached states."""
        if self.valid_upto is None:
            return
        head = store.head()
        if head <= self.valid_upto:
            return
        with self._sync_lock:
            after = self.valid_upto
            while after < head:
                records = store.read(after, 2000)
                if not records:
                    break
                known = self.known
                for rec in records:
                    sid = rec.stream_id if isinstance(rec.stream_id, UUID) else UUID(rec.stream_id)
                    if known is not None:
                        known.add(sid)
                    self._apply(sid, rec)
                after = records[-1].position or after
            self.valid_upto = max(self.valid_upto, after)

    def _apply(self, sid: UUID, rec: Any) -> None:
        with self._lock:
            found = self._states.get(sid)
            if found is None:
                return
            kind, state, version = found
            if rec.version <= version:
                return
            if rec.version != version + 1:
                del self._states[sid]
                return
            state = kind.evolve(state, rec.event)
            self._states[sid] = (kind, state, rec.version)
        self._offer(sid, kind, state, version, rec.version)


def load_state(store: EventStore, cache: StateCache, kind: Kind[S], key: str) -> tuple[S, int]:
    """A stream's current state: from a tailing cache as is, else the cached state plus newer events."""
    sid = kind.stream_id(key)
    cached = cache.get(sid)
    if cached is not None and cache.valid_upto is not None:
        state_now: S = cached[0]
        return state_now, cached[1]
    seen_upto = cache.valid_upto
    if cached is None and cache.known is not None and seen_upto is not None and sid not in cache.known:
        state_new = kind.initial(key)  # no such stream as of the last sync: nothing to read
        cache.put_loaded(sid, kind, state_new, 0, seen_upto)
        return state_new, 0
    snapshots = cache.snapshots if cache.snapshots is not None and cache.snapshots.covers(kind) else None
    if cached is None and snapshots is not None:
        cached = snapshots.get(sid, kind)
    state, version = cached if cached is not None else (kind.initial(key), 0)
    newer = store.load(sid, after=version)
    for rec in newer:
        state = kind.evolve(state, rec.event)
        version = rec.version
    if newer or cached is None:
        cache.put_loaded(sid, kind, state, version, seen_upto)
    if snapshots is not None and len(newer) >= EVERY:
        snapshots.offer(sid, kind, state, version)
    return state, version


def _command_of(meta: Meta) -> tuple[object, ...]:
    """What every event of one command shares (one Context): the events a command recorded together
    are one step of time travel, so no answer shows a state between two of them."""
    return (meta.occurred_at, meta.actor, meta.correlation_id, meta.causation_id)


class UnitOfWork:
    """Streams loaded for one attempt of one command, and the events it decided."""

    def __init__(
        self,
        store: EventStore,
        ctx: Context,
        cache: StateCache | None = None,
        shared: dict[UUID, _Loaded] | None = None,
    ) -> None:
        self.store = store
        self.ctx = ctx
        self.cache = cache or StateCache(max_streams=1000)
        self._loaded: dict[UUID, _Loaded] = {}
        self._shared = shared  # streams as earlier commands of the same group commit left them
        self.pending: list[NewEvent] = []

    def _load(self, kind: Kind[S], key: str) -> _Loaded:
        sid = kind.stream_id(key)
        loaded = self._loaded.get(sid)
        if loaded is None and self._shared is not None and sid in self._shared:
            seen = self._shared[sid]
            loaded = self._loaded[sid] = _Loaded(seen.kind, seen.key, seen.state, seen.version)
        if loaded is None:
            state, version = load_state(self.store, self.cache, kind, key)
            loaded = self._loaded[sid] = _Loaded(kind, key, state, version)
        return loaded

    @property
    def loaded_streams(self) -> list[UUID]:
        return list(self._loaded)

    def committed(self) -> None:
        """The write succeeded: the new states are the streams' latest."""
        for sid, loaded in self._loaded.items():
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
class Outcome:
    status: int
    body: dict[str, Any]
    position: int
    replayed: bool = False


def needs_write(uow: UnitOfWork, dedupe: tuple[Dedupe, ...]) -> bool:
    """A command is saved when it decided events, or when it carries a key that must be recorded anyway."""
    return uow.has_events or any(d.always for d in dedupe)


class StoreUnavailableError(Exception):
    """The event store cannot be reached or stays contended; the client should retry later."""


Handler = Callable[[UnitOfWork], tuple[int, dict[str, Any]]]


class Ledger:
    def __init__(self, store: EventStore, max_attempts: int = 60, snapshots: Snapshots | None = None) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.after_commit: list[Callable[[list[NewEvent], list[int]], None]] = []
        self.last_position = 0  # the newest position this process has committed
        self.cache = StateCache(valid_upto=store.head(), snapshots=snapshots)
        self.cache.known = store.stream_ids()  # read after the head: a superset of what it covers
        self.group: GroupCommitter | None = None
        self.on_retry: list[Callable[[], None]] = []

    def load(self, kind: Kind[S], key: str, upto_version: int | None = None) -> tuple[S, int]:
        """A stream's state now, or as it stood after version `upto_version` (time travel)."""
        if upto_version is None:
            self.cache.sync(self.store)
            return load_state(self.store, self.cache, kind, key)
        state = kind.initial(key)
        version = 0
        step: tuple[object, ...] | None = None
        for rec in self.store.load(kind.stream_id(key)):
            command = _command_of(rec.meta)
            if rec.version > upto_version and command != step:
                break  # a later command: the answer is the state after the whole command of `upto_version`
            state = kind.evolve(state, rec.event)
            version, step = rec.version, command
        return state, version

    def run(self, ctx: Context, handler: Handler, dedupe: tuple[Dedupe, ...] = ()) -> Outcome:
        """Decide and save one command. With group commit on, it joins the next shared write."""
        if self.group is not None and not self.group.is_writer():
            return self.group.submit(ctx, handler, dedupe)
        return self.run_alone(ctx, handler, dedupe)

    async def run_async(self, ctx: Context, handler: Handler, dedupe: tuple[Dedupe, ...] = ()) -> Outcome:
        """`run` for a caller on an event loop: with group commit the request awaits the shared write
        without holding a worker thread; without it the command runs in a worker thread."""
        if self.group is not None:
            return await self.group.submit_async(ctx, handler, dedupe)
        return await anyio.to_thread.run_sync(self.run_alone, ctx, handler, dedupe)

    def run_alone(self, ctx: Context, handler: Handler, dedupe: tuple[Dedupe, ...] = ()) -> Outcome:
        last_error: Exception | None = None
        unreachable_since: float | None = None
        for attempt in range(self.max_attempts):
            started = time.monotonic()
            uow = UnitOfWork(self.store, ctx, self.cache)
            try:
                self.cache.sync(self.store)
                replay = self._replay(uow, dedupe)
                if replay is not None:
                    return replay
                status, body = handler(uow)
                if not needs_write(uow, dedupe):
                    return Outcome(status, body, self.store.public_head())
                self.add_records(uow, dedupe, status, body)
                positions = self.store.append(uow.pending)
                uow.committed()
                self.published(uow.pending, positions)
                return Outcome(status, body, self.answer_position(uow.pending, positions))
            except IntegrityError as exc:
                last_error = exc
                self.cache.drop(uow.loaded_streams)  # reload what we decided on: someone wrote first
                for hook in self.on_retry:
                    hook()
            except STORE_ERRORS as exc:  # locked SQLite, lost or refused connection: retry for a while
                if not unreachable(exc):
                    raise
                last_error = exc
                unreachable_since = unreachable_since or started
                if time.monotonic() - unreachable_since >= UNREACHABLE_PATIENCE:
                    break
            time.sleep(random.uniform(0, min(0.002 * 2 ** min(attempt, 6), 0.1)))
        log.warning("command gave up after %s attempts: %s", self.max_attempts, last_error)
        raise StoreUnavailableError(str(last_error))

    def add_records(self, uow: UnitOfWork, dedupe: tuple[Dedupe, ...], status: int, body: dict[str, Any]) -> None:
        """Idempotency records go last in the command's write; the last one anchors `position`."""
        text = json.dumps(body, separators=(",", ":"))
        anchor = dedupe[-1].record_key if dedupe else ""
        for d in dedupe:
            record = CommandRecorded(
                scope=d.scope, key=d.key, fingerprint=d.fingerprint, status=status, body=text, anchor=anchor
            )
            uow.record(RECORD, d.record_key, [record])

    def answer_position(self, events: Sequence[NewEvent], positions: Sequence[int]) -> int:
        """A command answers the position of the last public event it recorded, or, with none, of
        the newest public event before its write (its idempotency records are internal)."""
        public = [p for e, p in zip(events, positions, strict=True) if not isinstance(e.event, CommandRecorded)]
        if public:
            return max(public)
        return self.store.public_head(before=min(positions)) if positions else self.store.public_head()

    def published(self, events: list[NewEvent], positions: list[int]) -> None:
        """The write is committed and its states are in the cache."""
        self.cache.advance(positions)
        if positions:
            self.last_position = max(self.last_position, *positions)
        for hook in self.after_commit:
            hook(events, positions)

    def _replay(self, uow: UnitOfWork, dedupe: tuple[Dedupe, ...]) -> Outcome | None:
        for d in dedupe:
            record = uow.get(RECORD, d.record_key)
            if record is None:
                continue
            if record.fingerprint != d.fingerprint:
                raise d.on_mismatch()
            recorded_at = self.store.position_of(RECORD.stream_id(record.anchor or d.record_key), 1)
            position = self.store.public_head(before=recorded_at) if recorded_at else self.store.public_head()
            return Outcome(record.status, json.loads(record.body), position, replayed=True)
        return None
