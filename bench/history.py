"""What a long history costs one order, in process and in one thread: 3-line orders decided and
saved one by one (as `python -m bench.decide`) on top of N events of history, with the state-cache
loads that went to the store counted by stream kind.

    python -m bench.history --events 1000000 [--orders 4000] [--keep /tmp/o2c-history-1000000.db]

Builds the history once into a SQLite file (`--keep`: reuse it next time; the build of 1,000,000
events takes about 6 minutes here), copies it, starts the service on the copy without workers and
prints per 1,000 orders the milliseconds per order and the loads from the store so far: `first`
the first load of a stream, `again` a stream the cache had already held and lost.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import tempfile
import time
from dataclasses import replace
from typing import Any

import infra.ledger.cache as cache_module
import infra.ledger.unitofwork as unitofwork_module
from bench.__main__ import prepare
from bench.decide import place
from bench.workload import commands_stream
from infra.service import Service
from infra.settings import Settings

SUFFIXES = ("", "-wal", "-shm")


def history_file(events: int, keep: str | None) -> str:
    path = keep or os.path.join(tempfile.mkdtemp(prefix="o2c-history-"), "o2c.db")
    if not os.path.exists(path):
        started = time.perf_counter()
        total, _ = prepare(f"sqlite:///{path}", events)
        print(f"history of {total:,} events built in {time.perf_counter() - started:.0f} s: {path}")
    return path


def count_loads(misses: collections.Counter[tuple[str, str]]) -> None:
    """Wrap `load_state` so that each load the cache cannot answer is counted by kind."""
    original = cache_module.load_state
    seen: set[Any] = set()

    def counted(store: Any, cache: Any, kind: Any, key: str) -> Any:
        sid = kind.stream_id(key)
        absent = cache.known is not None and sid not in cache.known
        if cache.get(sid) is None and not absent:
            misses[(kind.name, "again" if sid in seen else "first")] += 1
            seen.add(sid)
        return original(store, cache, kind, key)

    unitofwork_module.load_state = counted  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--keep", help="the history's SQLite file: built if missing, reused if there")
    args = parser.parse_args()
    source = history_file(args.events, args.keep)
    copy = os.path.join(tempfile.mkdtemp(prefix="o2c-history-copy-"), "o2c.db")
    for suffix in SUFFIXES:
        if os.path.exists(source + suffix):
            shutil.copy(source + suffix, copy + suffix)
    misses: collections.Counter[tuple[str, str]] = collections.Counter()
    count_loads(misses)
    svc = Service.start(Settings(database_url=f"sqlite:///{copy}", group_commit=False))
    try:
        print(f"{svc.store.head():,} events in the store")
        skus = [f"SKU-{i:05d}" for i in range(200)]
        customers = [f"CUST-{i:04d}" for i in range(50)]
        orders = (payload for kind, payload in commands_stream(skus, customers) if kind == "order")
        started = time.perf_counter()
        for n, cmd in enumerate(orders, start=1):
            place(svc, replace(cmd, order_id=f"H-{n}"))
            if n % 1000 == 0:
                ms = (time.perf_counter() - started) / 1000 * 1000
                loads = ", ".join(f"{kind} {when} {count}" for (kind, when), count in sorted(misses.items()))
                print(f"orders {n - 999:>6}-{n:<6} {ms:.2f} ms per order; loads from the store so far: {loads}")
                started = time.perf_counter()
            if n >= args.orders:
                break
    finally:
        svc.close()
        shutil.rmtree(os.path.dirname(copy), ignore_errors=True)


if __name__ == "__main__":
    main()
