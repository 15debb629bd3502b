"""Stream states kept in memory, current by tailing the log, so a command loads most streams without a query."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from infra.eventstore.store import EventStore
from infra.ledger.kinds import Kind
from infra.ledger.snapshots import EVERY, crossed

if TYPE_CHECKING:
    from infra.ledger.snapshots import Snapshots

S = TypeVar("S")


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
    in_memory = cached is not None  # not tailing: the cached state, to bring up to date
    if cached is None and snapshots is not None:
        cached = snapshots.get(sid, kind)
    state, version = cached if cached is not None else (kind.initial(key), 0)
    newer = store.load(sid, after=version)
    for rec in newer:
        state = kind.evolve(state, rec.event)
        version = rec.version
    if newer or not in_memory:  # a state from a snapshot is cached too, even with nothing newer
        cache.put_loaded(sid, kind, state, version, seen_upto)
    if snapshots is not None and len(newer) >= EVERY:
        snapshots.offer(sid, kind, state, version)
    return state, version


def load_states(store: EventStore, cache: StateCache, kind: Kind[S], keys: Sequence[str]) -> dict[str, tuple[S, int]]:
    """Many streams' current states, as `load_state` gives each: from the tailing cache where it has
    them (or knows there is no such stream), the rest read together (`EventStore.load_many`), not a
    query per stream. The rest are replayed whole rather than from a snapshot (one query, not two per stream)."""
    found: dict[str, tuple[S, int]] = {}
    missing: dict[UUID, tuple[str, tuple[Any, int] | None]] = {}
    seen_upto = cache.valid_upto
    for key in keys:
        sid = kind.stream_id(key)
        cached = cache.get(sid)
        if cached is not None and seen_upto is not None:
            found[key] = (cached[0], cached[1])
        elif cached is None and cache.known is not None and seen_upto is not None and sid not in cache.known:
            state_new = kind.initial(key)
            cache.put_loaded(sid, kind, state_new, 0, seen_upto)
            found[key] = (state_new, 0)
        else:
            missing[sid] = (key, cached)
    if not missing:
        return found
    snapshots = cache.snapshots if cache.snapshots is not None and cache.snapshots.covers(kind) else None
    for sid, records in store.load_many(list(missing)).items():
        key, cached = missing[sid]
        state, version = cached if cached is not None else (kind.initial(key), 0)
        newer = [rec for rec in records if rec.version > version]
        for rec in newer:
            state = kind.evolve(state, rec.event)
            version = rec.version
        cache.put_loaded(sid, kind, state, version, seen_upto)
        if snapshots is not None and len(newer) >= EVERY:
            snapshots.offer(sid, kind, state, version)
        found[key] = (state, version)
    return found
