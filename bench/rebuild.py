"""Rebuild benchmark: N events of a realistic workload in PostgreSQL (or SQLite), then time a
rebuild of every read model. Prints events/s per read model.

    python -m bench.rebuild --events 200000 [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

The events are decided by the real domain and ledger against an in-memory eventsourcing (POPO)
recorder, then copied into the target store in large batches, so generating 200,000 events takes
seconds rather than the minutes that one HTTP request per command would.
"""

from __future__ import annotations

import argparse
import time
import uuid
from urllib.parse import urlparse

import sqlalchemy as sa
from eventsourcing.persistence import InfrastructureFactory, StoredEvent
from eventsourcing.utils import Environment

from bench.workload import commands_stream, run_command, setup
from infra.ledger import Ledger
from infra.service import Service
from infra.settings import Settings


def generate(target: Service, events: int) -> int:
    """Decide a workload in memory, then copy its events into the target store."""
    memory = InfrastructureFactory.construct(Environment(env={"PERSISTENCE_MODULE": "eventsourcing.popo"}))
    recorder = memory.application_recorder()
    original = target.store.recorder
    target.store.recorder = recorder
    if target.ledger.group is not None:
        target.ledger.group.stop()
    target.ledger = Ledger(target.store)
    try:
        skus, customers = setup(target)
        for kind, payload in commands_stream(skus, customers):
            if run_command(target, kind, payload) >= events:
                break
    finally:
        target.store.recorder = original
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
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    temp_db = None
    url = args.database_url
    if url.startswith("postgresql"):
        parsed = urlparse(url)
        temp_db = f"o2c_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(f"postgresql+psycopg://{parsed.netloc}{parsed.path}", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{temp_db}"'))
        url = f"postgresql://{parsed.netloc}/{temp_db}"
    try:
        svc = Service.start(Settings(database_url=url))
        started = time.perf_counter()
        copied = generate(svc, args.events)
        print(f"generated and stored {copied:,} events in {time.perf_counter() - started:.1f} s")
        rows = []
        total_seconds = 0.0
        for name, projection in svc.read.projections.items():
            t0 = time.perf_counter()
            result = projection.rebuild()
            seconds = time.perf_counter() - t0
            total_seconds += seconds
            rows.append((name, result["events"], seconds))
        print(f"\n{'read model':<12}{'events':>10}{'seconds':>10}{'events/s':>12}")
        for name, count, seconds in rows:
            print(f"{name:<12}{count:>10,}{seconds:>10.2f}{count / seconds:>12,.0f}")
        print(
            f"{'all (serial)':<12}{copied:>10,}{total_seconds:>10.2f}{copied / total_seconds:>12,.0f}  (log events / total time)"
        )
        svc.close()
    finally:
        if temp_db:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{temp_db}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
