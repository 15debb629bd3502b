"""Rebuild benchmark: N events of a realistic workload in PostgreSQL (or SQLite), then time a
rebuild of every read model. Prints events/s per read model.

    python -m bench.rebuild --events 200000 [--store postgres|sqlite] [--only orders]

The events are decided by the real domain and ledger against an in-memory eventsourcing (POPO)
recorder, then copied into the target store in large batches (about 2,000-4,000 events/s here,
far faster than one HTTP request per command). Prints each read model rebuilt on its own, then
every read model in one pass over the log (`o2c rebuild --all` does the same).
"""

from __future__ import annotations

import argparse
import time

from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment

from bench.db import temp_database
from bench.workload import commands_stream, run_command, setup
from infra.ledger.ledger import Ledger
from infra.readside.rebuild import rebuild, rebuild_together
from infra.service import Service
from infra.settings import Settings


def generate(target: Service, events: int) -> int:
    """Decide a workload in memory, then copy its events into the target store."""
    memory = InfrastructureFactory.construct(Environment(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    recorder = memory.application_recorder()
    original = target.store.use_recorder(recorder)
    if target.ledger.group is not None:
        target.ledger.group.stop()
    target.ledger = Ledger(target.store)
    try:
        skus, customers = setup(target)
        for kind, payload in commands_stream(skus, customers):
            if run_command(target, kind, payload) >= events:
                break
    finally:
        target.store.use_recorder(original)
    copied, after = 0, 0
    while True:
        batch = recorder.select_notifications(after, 5000, inclusive_of_start=False)
        if not batch:
            return copied
        original.insert_events([StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n in batch])
        copied += len(batch)
        after = batch[-1].id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--store", default="postgres", choices=("postgres", "sqlite"))
    parser.add_argument("--only", help="rebuild this read model alone (and not all together), e.g. to profile it")
    args = parser.parse_args()

    with temp_database(args.store) as url:
        svc = Service.start(Settings(database_url=url))
        try:
            started = time.perf_counter()
            copied = generate(svc, args.events)
            print(f"generated and stored {copied:,} events in {time.perf_counter() - started:.1f} s")
            print(f"\n{'read model':<26}{'events':>10}{'seconds':>10}{'events/s':>12}")
            projections = [p for p in svc.read.projections.values() if args.only in (None, p.name)]
            for projection in projections:
                t0 = time.perf_counter()
                result = rebuild(projection)
                seconds = time.perf_counter() - t0
                print(
                    f"{projection.name:<26}{result['events']:>10,}{seconds:>10.2f}{result['events'] / seconds:>12,.0f}"
                )
            if args.only:
                return
            t0 = time.perf_counter()
            results = rebuild_together(projections)
            seconds = time.perf_counter() - t0
            events = max(r["events"] for r in results.values())
            print(
                f"{'all together, one pass':<26}{events:>10,}{seconds:>10.2f}{events / seconds:>12,.0f}  (log events/s)"
            )
        finally:
            svc.close()


if __name__ == "__main__":
    main()
