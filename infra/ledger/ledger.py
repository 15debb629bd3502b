"""The write side: load streams, decide, save every event of a command in one atomic write.

A command runs inside a UnitOfWork. On a version conflict (another command saved first) the whole
command is reloaded and decided again, with bounded, jittered retries. Idempotency records
(`CommandRecorded`) are saved in the same write as the command's events.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from eventsourcing.persistence import IntegrityError

from infra.eventstore.codec import CommandRecorded, Meta
from infra.eventstore.store import STORE_ERRORS, EventStore, NewEvent, unreachable
from infra.ledger.cache import StateCache, load_state, load_states
from infra.ledger.kinds import RECORD, Kind
from infra.ledger.snapshots import Snapshots
from infra.ledger.unitofwork import Context, Dedupe, Handler, Outcome, Reply, UnitOfWork, needs_write

log = logging.getLogger("infra.ledger")
S = TypeVar("S")
UNREACHABLE_PATIENCE = 3.0  # seconds a command keeps retrying a store it cannot reach before a 503


def _command_of(meta: Meta) -> tuple[object, ...]:
    """What every event of one command shares (one Context): the events a command recorded together
    are one step of time travel, so no answer shows a state between two of them."""
    return (meta.occurred_at, meta.actor, meta.correlation_id, meta.causation_id)


class StoreUnavailableError(Exception):
    """The event store cannot be reached or stays contended; the client should retry later."""


class SharedWrite(Protocol):
    """Where commands wait to be saved together (infra/ledger/groupcommit.py), by one writer thread."""

    def is_writer(self) -> bool: ...

    def submit(
        self, ctx: Context, handler: Handler, dedupe: tuple[Dedupe, ...], reply: Reply | None
    ) -> Outcome[Any]: ...

    async def submit_async(
        self, ctx: Context, handler: Handler, dedupe: tuple[Dedupe, ...], reply: Reply | None
    ) -> Outcome[Any]: ...

    def stop(self) -> None: ...


class Ledger:
    def __init__(self, store: EventStore, max_attempts: int = 60, snapshots: Snapshots | None = None) -> None:
        self.store = store
        self.max_attempts = max_attempts
        self.after_commit: list[Callable[[list[NewEvent], list[int]], None]] = []
        self.last_position = 0  # the newest position this process has committed
        self.cache = StateCache(valid_upto=store.head(), snapshots=snapshots)
        self.cache.known = store.stream_ids()  # read after the head: a superset of what it covers
        self.group: SharedWrite | None = None  # a GroupCommitter, when group commit is on
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

    def warm(self, reads: Sequence[tuple[Kind[Any], Sequence[str]]]) -> None:
        """Bring these streams into the state cache, in batched reads, before a command that reads
        them all joins the shared write, so the group commit's single writer finds them in memory
        instead of holding every other command while it reads (a reconciliation of 50,000 SKUs).
        Only an optimisation: the command itself still loads (and its write checks) what it decides on."""
        self.cache.sync(self.store)
        for kind, keys in reads:
            load_states(self.store, self.cache, kind, keys)

    def run(
        self, ctx: Context, handler: Handler, dedupe: tuple[Dedupe, ...] = (), reply: Reply | None = None
    ) -> Outcome[Any]:
        """Decide and save one command. With group commit on, it joins the next shared write.

        `reply` turns the handler's result into the caller's answer; with `dedupe` that text is
        recorded in the command's write and a repeat gets it back unchanged, without a result."""
        if self.group is not None and not self.group.is_writer():
            return self.group.submit(ctx, handler, dedupe, reply)
        return self.run_alone(ctx, handler, dedupe, reply)

    async def run_async(
        self, ctx: Context, handler: Handler, dedupe: tuple[Dedupe, ...] = (), reply: Reply | None = None
    ) -> Outcome[Any]:
        """`run` for a caller on an event loop: with group commit the request awaits the shared write
        without holding a worker thread; without it the command runs in a worker thread."""
        if self.group is not None:
            return await self.group.submit_async(ctx, handler, dedupe, reply)
        return await anyio.to_thread.run_sync(self.run_alone, ctx, handler, dedupe, reply)

    def run_alone(
        self, ctx: Context, handler: Handler, dedupe: tuple[Dedupe, ...] = (), reply: Reply | None = None
    ) -> Outcome[Any]:
        last_error: Exception | None = None
        unreachable_since: float | None = None
        for attempt in range(self.max_attempts):
            started = time.monotonic()
            uow = UnitOfWork(self.store, ctx, self.cache)
            try:
                self.cache.sync(self.store)
                replay = self.replay(uow, dedupe)
                if replay is not None:
                    return replay
                result = handler(uow)
                text = reply(result) if reply is not None else ""
                if not needs_write(uow, dedupe):
                    return Outcome(result, text, self.store.public_head())
                self.add_records(uow, dedupe, text)
                positions = self.store.append(uow.pending)
                uow.committed()
                self.published(uow.pending, positions)
                return Outcome(result, text, self.answer_position(uow.pending, positions))
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

    def add_records(self, uow: UnitOfWork, dedupe: tuple[Dedupe, ...], reply: str) -> None:
        """Idempotency records go last in the command's write; the last one anchors `position`."""
        anchor = dedupe[-1].record_key if dedupe else ""
        for d in dedupe:
            record = CommandRecorded(scope=d.scope, key=d.key, fingerprint=d.fingerprint, reply=reply, anchor=anchor)
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

    def replay(self, uow: UnitOfWork, dedupe: tuple[Dedupe, ...]) -> Outcome[Any] | None:
        for d in dedupe:
            record = uow.get(RECORD, d.record_key)
            if record is None:
                continue
            if record.fingerprint != d.fingerprint:
                raise d.on_mismatch()
            recorded_at = self.store.position_of(RECORD.stream_id(record.anchor or d.record_key), 1)
            position = self.store.public_head(before=recorded_at) if recorded_at else self.store.public_head()
            return Outcome(None, record.reply, position, replayed=True)
        return None
