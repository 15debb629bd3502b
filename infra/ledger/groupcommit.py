"""Group commit: commands that arrive together are decided one after another by a single writer
thread and saved in ONE transaction, so they share the commit's cost.

Each command decides on the streams as the commands before it in the batch left them, so the batch
never conflicts with itself and each command keeps its own atomicity (its events are all in the
write or none are). A command rejected by a rule leaves the batch untouched. If the shared write
fails (another process wrote first, or the database went away), every command of the batch is run
again on its own through the ordinary retrying path, so one loser never fails the others.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import anyio.to_thread
from eventsourcing.persistence import IntegrityError

from infra.eventstore.store import STORE_ERRORS
from infra.ledger.kinds import RECORD
from infra.ledger.ledger import Ledger
from infra.ledger.unitofwork import Context, Dedupe, Handler, Loaded, Outcome, Reply, UnitOfWork, needs_write

log = logging.getLogger("o2c.groupcommit")


class _Deferred(Exception):
    """The command repeats one recorded earlier in this very batch: answer it after the commit."""


class _RunAlone(Exception):
    """The store failed under the batch: the caller's own thread retries the command on its own, so
    commands waiting out an outage wait side by side instead of one after another in the writer."""


@dataclass
class _Job:
    ctx: Context
    handler: Handler
    dedupe: tuple[Dedupe, ...]
    reply: Reply | None
    done: threading.Event = field(default_factory=threading.Event)
    outcome: Outcome[Any] | None = None
    error: BaseException | None = None
    notify: Callable[[], None] | None = None  # for a caller awaiting on an event loop

    def finish(self, outcome: Outcome[Any] | None = None, error: BaseException | None = None) -> None:
        self.outcome, self.error = outcome, error
        self.done.set()
        if self.notify is not None:
            self.notify()


_WAKE = _Job(Context("", "", ""), lambda uow: None, (), None)  # stop() wakes the writer with it; never run


def _wake(loop: asyncio.AbstractEventLoop, settled: asyncio.Future[None]) -> None:
    def settle() -> None:
        if not settled.done():  # the request may have been cancelled meanwhile
            settled.set_result(None)

    try:
        loop.call_soon_threadsafe(settle)
    except RuntimeError:  # the loop is closed: nobody is waiting any more
        pass


class GroupCommitter:
    def __init__(self, ledger: Ledger, max_batch: int = 64) -> None:
        self.ledger = ledger
        self.max_batch = max_batch
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="o2c-group-commit", daemon=True)
        self.batches = 0
        self.commands = 0
        self._thread.start()

    def is_writer(self) -> bool:
        return threading.current_thread() is self._thread

    def submit(self, ctx: Context, handler: Handler, dedupe: tuple[Dedupe, ...], reply: Reply | None) -> Outcome[Any]:
        if self._stop.is_set():
            return self.ledger.run_alone(ctx, handler, dedupe, reply)
        job = _Job(ctx, handler, dedupe, reply)
        self._queue.put(job)
        job.done.wait()
        if isinstance(job.error, _RunAlone):
            return self.ledger.run_alone(ctx, handler, dedupe, reply)
        if job.error is not None:
            raise job.error
        assert job.outcome is not None
        return job.outcome

    async def submit_async(
        self, ctx: Context, handler: Handler, dedupe: tuple[Dedupe, ...], reply: Reply | None
    ) -> Outcome[Any]:
        """As `submit`, awaited on the event loop: no worker thread is parked per waiting command."""
        if self._stop.is_set():
            return await anyio.to_thread.run_sync(self.ledger.run_alone, ctx, handler, dedupe, reply)
        loop = asyncio.get_running_loop()
        settled: asyncio.Future[None] = loop.create_future()
        job = _Job(ctx, handler, dedupe, reply, notify=lambda: _wake(loop, settled))
        self._queue.put(job)
        await settled
        if isinstance(job.error, _RunAlone):
            return await anyio.to_thread.run_sync(self.ledger.run_alone, ctx, handler, dedupe, reply)
        if job.error is not None:
            raise job.error
        assert job.outcome is not None
        return job.outcome

    def stop(self) -> None:
        self._stop.set()
        self._queue.put(_WAKE)  # the writer stops at once instead of at its next poll
        self._thread.join(10)
        while True:  # anything still queued runs on its own
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job is not _WAKE:
                self._alone(job)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            if first is _WAKE:
                continue
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _WAKE:
                    break
                batch.append(job)
            try:
                self._run(batch)
            except BaseException as exc:
                log.exception("group commit failed")
                for job in batch:
                    if not job.done.is_set():
                        job.finish(error=exc)

    def _alone(self, job: _Job) -> None:
        try:
            job.finish(self.ledger.run_alone(job.ctx, job.handler, job.dedupe, job.reply))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            job.finish(error=exc)

    def _run(self, batch: list[_Job]) -> None:
        ledger = self.ledger
        store = ledger.store
        try:
            ledger.cache.sync(store)
        except STORE_ERRORS:  # the store is away: each command retries (and gives up) on its own
            for job in batch:
                job.finish(error=_RunAlone())
            return
        shared: dict[UUID, Loaded] = {}
        recorded_here: set[UUID] = set()
        accepted: list[tuple[_Job, UnitOfWork, Any, str]] = []
        deferred: list[_Job] = []
        for job in batch:
            uow = UnitOfWork(store, job.ctx, ledger.cache, shared)
            try:
                for d in job.dedupe:
                    if RECORD.stream_id(d.record_key) in recorded_here:
                        raise _Deferred
                replay = ledger.replay(uow, job.dedupe)
                if replay is not None:
                    job.finish(replay)
                    continue
                result = job.handler(uow)
                text = job.reply(result) if job.reply is not None else ""
                if needs_write(uow, job.dedupe):
                    ledger.add_records(uow, job.dedupe, text)
                    recorded_here.update(RECORD.stream_id(d.record_key) for d in job.dedupe)
                    shared.update(uow.loaded)
                accepted.append((job, uow, result, text))
            except _Deferred:
                deferred.append(job)
            except IntegrityError:
                deferred.append(job)  # a read failed: run it on its own after this batch
            except STORE_ERRORS:
                job.finish(error=_RunAlone())
            except BaseException as exc:  # noqa: BLE001 - the command's own rejection, for its caller
                job.finish(error=exc)
        pending = [e for _, uow, _, _ in accepted for e in uow.pending]
        positions: list[int] = []
        if pending:
            try:
                positions = store.append(pending)
            except (IntegrityError, *STORE_ERRORS) as exc:
                log.info("group commit of %s commands failed (%s); running them one by one", len(accepted), exc)
                ledger.cache.drop(shared)
                for job in [job for job, _, _, _ in accepted] + deferred:
                    if isinstance(exc, IntegrityError):
                        self._alone(job)
                    else:
                        job.finish(error=_RunAlone())
                return
        for sid, loaded in shared.items():
            if loaded.changed:  # a stream the batch only read is in the cache already, or was evicted
                ledger.cache.put(sid, loaded.kind, loaded.state, loaded.version)
        ledger.published(pending, positions)
        self.batches += 1
        self.commands += len(accepted)
        offset = 0
        public_head: int | None = None
        for job, uow, result, text in accepted:
            mine = positions[offset : offset + len(uow.pending)]
            offset += len(uow.pending)
            if mine:
                position = ledger.answer_position(uow.pending, mine)
            else:  # recorded nothing: the newest public event as this batch committed
                if public_head is None:
                    public_head = store.public_head()
                position = public_head
            job.finish(Outcome(result, text, position))
        for job in deferred:
            self._alone(job)
