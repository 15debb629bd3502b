"""How long a cold load of a hot inventory position takes, with and without its snapshot.

    python -m bench.snapshots [--events 100000] [--stores sqlite,postgres]

Records N events on one position (receipts, reservations, releases) through the real ledger, then
loads it the way a restarted process would (an empty in-memory cache): once from the persisted
snapshot plus the events after it, once by replaying the whole stream. Prints median and p99 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from bench.db import temp_database
from domain import inventory
from infra.ledger.cache import StateCache, load_state
from infra.ledger.kinds import POSITION, position_key
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from infra.settings import Settings

KEY = position_key("HOT-1", "W-1")
CTX = Context(actor="bench", correlation_id="bench-snapshots", causation_id="bench")


def fill(svc: Service, events: int, per_command: int = 3000) -> None:
    done = 0
    while done < events:
        n = min(per_command, events - done) // 3 * 3 or 3

        def handle(uow: UnitOfWork, base: int = done, n: int = n) -> None:
            out: list[Any] = []
            ids = {"sku": "HOT-1", "warehouse_id": "W-1"}
            for i in range(base, base + n, 3):
                out.append(inventory.StockReceived(**ids, receipt_id=f"R-{i}", qty=5))
                out.append(inventory.StockReserved(**ids, order_id=f"SO-{i}", line_id="1", qty=2))
                out.append(inventory.ReservationReleased(**ids, order_id=f"SO-{i}", line_id="1", qty=2, reason="x"))
            uow.record(POSITION, KEY, out)

        svc.ledger.run_alone(CTX, handle)
        done += n


def timed_loads(svc: Service, snapshots: bool, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        cache = StateCache(snapshots=svc.ledger.cache.snapshots if snapshots else None)
        started = time.perf_counter()
        load_state(svc.store, cache, POSITION, KEY)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def bench_store(store: str, events: int) -> list[str]:
    with temp_database(store) as url:
        svc = Service.start(Settings(database_url=url, group_commit=False))
        try:
            started = time.perf_counter()
            fill(svc, events)
            filled = time.perf_counter() - started
            assert svc.ledger.cache.snapshots is not None
            svc.ledger.cache.snapshots.flush()
            with_snap = timed_loads(svc, True, 50)
            without = timed_loads(svc, False, 3)
        finally:
            svc.close()
    p99 = with_snap[min(len(with_snap) - 1, int(len(with_snap) * 0.99))]
    return [
        f"| {store} | {events:,} events recorded in {filled:.1f} s | "
        f"with snapshot: median {statistics.median(with_snap):.2f} ms, p99 {p99:.2f} ms | "
        f"full replay: median {statistics.median(without):.0f} ms |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    print("| store | history | cold load | without snapshots |")
    print("|---|---|---|---|")
    for store in args.stores.split(","):
        for line in bench_store(store.strip(), args.events):
            print(line, flush=True)


if __name__ == "__main__":
    main()
