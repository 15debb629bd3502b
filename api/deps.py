"""Dependencies handed to handlers through Litestar's Provide."""

from __future__ import annotations

from typing import Any

import anyio
from litestar.datastructures import State
from litestar.di import NamedDependency

from api.errors import ProblemError
from infra.service import Service


def provide_service(state: State) -> Service:
    svc: Service = state.service
    return svc


async def wait_for_position(svc: Service, min_position: int | None, reached: Any = None) -> None:
    """Read-your-writes: wait (bounded) until what answers has processed `min_position`."""
    if not min_position:
        return
    current = reached or svc.store.head
    deadline = anyio.current_time() + svc.settings.min_position_wait
    while True:
        if await anyio.to_thread.run_sync(current) >= min_position:
            return
        if anyio.current_time() >= deadline:
            raise ProblemError(
                503,
                "stale_read_model",
                "Read model not caught up",
                f"The read model has not yet processed position {min_position}; retry shortly",
                headers={"Retry-After": "1"},
            )
        await anyio.sleep(0.02)


Svc = NamedDependency[Service]
