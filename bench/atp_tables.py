"""What an ATP read costs from the read model's tables (a process that does not run the ATP
projection, such as `o2c serve --no-workers` beside `o2c worker`) against from memory (the process
that runs it), in one thread, without HTTP.

    python -m bench.atp_tables [--reads 500] [--stores sqlite,postgres]

Per store: a fresh database with the benchmark's reference data and stock, then N reads of
`ReadModels.atp` for one SKU each, and N reads of the `atp` position (what an ATP answer reports),
first with the projection not running here (tables), then with it running here (memory).
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from bench.__main__ import prepare
from bench.db import temp_database
from infra.readside.readmodels import ReadModels
from infra.service import Service
from infra.settings import Settings


def per_read_ms(reads: ReadModels, n: int) -> tuple[float, float]:
    today = date.today()
    for i in range(50):  # warm: connections, statement caches
        reads.atp([f"SKU-{i % 200:05d}"], None, today)
    started = time.perf_counter()
    for i in range(n):
        reads.atp([f"SKU-{i % 200:05d}"], None, today)
    atp = (time.perf_counter() - started) / n * 1000
    started = time.perf_counter()
    for _ in range(n):
        reads.position("atp")
    return atp, (time.perf_counter() - started) / n * 1000


def bench_store(store: str, n: int) -> None:
    with temp_database(store) as url:
        prepare(url, 0)
        svc = Service.start(Settings(database_url=url))
        try:
            atp, position = per_read_ms(svc.read, n)
            print(f"{store:<10} from the tables: ATP {atp:.3f} ms, position {position:.3f} ms per read")
            svc.read.follow("atp", here=True)  # as the process running the projection holds it
            atp, position = per_read_ms(svc.read, n)
            print(f"{store:<10} from memory:     ATP {atp:.3f} ms, position {position:.3f} ms per read")
        finally:
            svc.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reads", type=int, default=500)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    for store in [s.strip() for s in args.stores.split(",") if s.strip()]:
        bench_store(store, args.reads)


if __name__ == "__main__":
    main()
