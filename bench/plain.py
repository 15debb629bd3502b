"""The plainest Litestar app, the reference every ratio of `python -m bench.ratio` is taken against:
one route answering a msgspec Struct, served by uvicorn in one process with the settings `o2c serve`
uses (no access log, uvicorn's defaults otherwise). `GET /spin/{sku}?us=N` answers the same after
N µs of busy work: plain Litestar at the throughput of a heavier o2c route, to tell the tail latency
any app pays at that rate from the tail o2c adds.

    python -m bench.plain --port 8001
"""

from __future__ import annotations

import argparse
import time

import msgspec
import uvicorn
from litestar import Litestar, get


class Pong(msgspec.Struct):
    status: str


@get("/ping", sync_to_thread=False)
def ping() -> Pong:
    return Pong("ok")


@get("/spin/{sku:str}", sync_to_thread=False)
def spin(sku: str, us: float = 0.0) -> Pong:
    until = time.perf_counter() + us / 1e6
    while time.perf_counter() < until:
        pass
    return Pong("ok")


app = Litestar(route_handlers=[ping, spin])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
