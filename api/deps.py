"""Dependencies handed to handlers through Litestar's Provide, and read-your-writes waits."""

from __future__ import annotations

from collections.abc import Callable

import anyio
import anyio.to_thread
from litestar.datastructures import State
from litestar.di import NamedDependency

from api.errors import ProblemError
from infra.service import Service

IMPLICIT_WAIT = 2.0  # seconds a read waits, unasked, for this process's own last write


def provide_service(state: State) -> Service:
    svc: Service = state.service
    return svc


Svc = NamedDependency[Service]


async def _wait(reached: Callable[[], int], target: int, timeout: float, in_memory: bool = False) -> bool:
    deadline = anyio.current_time() + timeout
    while True:
        now = reached() if in_memory else await anyio.to_thread.run_sync(reached)
        if now >= target:
            return True
        if anyio.current_time() >= deadline:
            return False
        await anyio.sleep(0.01)


def _stale(min_position: int) -> ProblemError:
    return ProblemError(
        503,
        "stale_read_model",
        "Read model not caught up",
        f"The read model has not yet processed position {min_position}; retry shortly",
        headers={"Retry-After": "1"},
        min_position=min_position,
    )


async def wait_for_position(svc: Service, min_position: int | None) -> None:
    """For reads served from the event store itself: wait until the log holds `min_position`."""
    if min_position and not await _wait(svc.store.head, min_position, svc.settings.min_position_wait):
        raise _stale(min_position)


async def wait_for_read_models(svc: Service, names: tuple[str, ...], min_position: int | None) -> int:
    """Read-your-writes for read models. With `min_position`, wait (bounded) or answer 503.
    Without it, wait briefly for this process's own last write, then answer what is there.
    Returns the position the answer reflects."""

    def reached() -> int:
        return min(svc.read.position(n) for n in names)

    in_memory = svc.read.positions_in_memory(names)  # else ask in a worker thread, off the event loop
    if min_position:
        if not await _wait(reached, min_position, svc.settings.min_position_wait, in_memory):
            raise _stale(min_position)
    elif svc.read.local and svc.ledger.last_position:  # this process runs the read models it wrote for
        await _wait(reached, svc.ledger.last_position, IMPLICIT_WAIT, in_memory)
    return reached() if in_memory else await anyio.to_thread.run_sync(reached)
