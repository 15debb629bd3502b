"""How fast one writer decides and saves orders, without HTTP: `Ledger.run_alone` in a loop.

    python -m bench.decide [--orders 1000] [--stores sqlite,postgres]

Places N 3-line orders (after 300 warm-up orders) one command per transaction, on a fresh
database per store, and prints orders/s. This is the ceiling of one process's writer thread for
this command; HTTP, group commit and the read side come on top (see `python -m bench`).
"""

from __future__ import annotations

import argparse
import time
from itertools import islice

from bench.__main__ import stock
from bench.db import temp_database
from bench.workload import commands_stream, setup
from infra import commands
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from infra.settings import Settings

CTX = Context(actor="bench", correlation_id="bench-decide", causation_id="bench")


def place(svc: Service, cmd: commands.PlaceOrderInput) -> None:
    def handle(uow: UnitOfWork) -> None:
        commands.place_order(uow, cmd)

    svc.ledger.run_alone(CTX, handle)


def bench_store(store: str, orders: int) -> float:
    with temp_database(store) as url:
        svc = Service.start(Settings(database_url=url, group_commit=False))
        try:
            skus, customers = setup(svc)
            stock(svc, skus)
            stream = (payload for kind, payload in commands_stream(skus, customers) if kind == "order")
            for cmd in islice(stream, 300):
                place(svc, cmd)
            batch = list(islice(stream, orders))
            started = time.perf_counter()
            for cmd in batch:
                place(svc, cmd)
            return len(batch) / (time.perf_counter() - started)
        finally:
            svc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    for store in args.stores.split(","):
        rate = bench_store(store.strip(), args.orders)
        print(f"{store.strip():<10} {rate:8.1f} orders/s  ({1000 / rate:.2f} ms per 3-line order, one writer)")


if __name__ == "__main__":
    main()
