"""Database faults under a running service: killed connections, a store that cannot be reached, a
locked SQLite file. The service answers 503 `store_unavailable` with Retry-After (never a 500)
while it cannot reach the store, recovers by itself, and loses nothing it acknowledged.

PostgreSQL faults touch only this test's own database (its backends, or a proxy in front of it),
never the shared server.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from infra.eventstore.store import unreachable
from infra.settings import Settings
from tests.conftest import ADMIN_KEY, PG_HOST, PG_PORT, PG_USER, TEST_POOL, Api, make_settings, seed, wait_until
from tests.http import line, place, receive
from tests.reliability.harness import (
    Proxy,
    check_invariants,
    database_name,
    serve,
    terminate_backends,
    unavailable,
)

RATES = {"CA": Decimal("0.0725")}


def is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def place_edi(api: Api, order_id: str, qty: int) -> httpx.Response:
    """An EDI order of BOLT-10 for C1 that may backorder, with an Idempotency-Key of its own (any answer)."""
    headers = {"Idempotency-Key": f"key-{order_id}"}
    return place(api, order_id, [line("BOLT-10", qty)], "C1", headers, channel="edi", allow_backorder=True)


def describe(responses: list[httpx.Response]) -> str:
    counts = Counter(r.status_code for r in responses)
    odd = [f"{r.status_code} {r.text[:200]}" for r in responses if r.status_code >= 500 and not unavailable(r)]
    return f"statuses={dict(counts)} other_errors={odd[:5]}"


def assert_acknowledged_orders_are_recorded(api: Api, placed: dict[str, int]) -> None:
    """Every order answered 201 is in the log with the quantity asked for."""
    for order_id, qty in placed.items():
        r = api.get(f"/v1/orders/{order_id}")
        assert r.status_code == 200, (order_id, r.text)
        assert r.json()["lines"][0]["qty"] == qty, r.json()


def test_connections_killed_under_load_lose_nothing_acknowledged(database_url: str) -> None:
    if not is_postgres(database_url):
        pytest.skip("PostgreSQL only: SQLite has no server connections to kill")
    with serve(make_settings(database_url, tax_rates=RATES)) as app, httpx.Client(base_url=app.base, timeout=60) as c:
        api = Api(c)
        seed(api)
        receive(api, "R-1", "W-A", "BOLT-10", 300)
        receive(api, "R-2", "W-B", "BOLT-10", 300)

        stop = threading.Event()
        answers: list[tuple[str, int, httpx.Response]] = []

        def client(n: int) -> None:
            with httpx.Client(base_url=app.base, timeout=60) as own:
                mine = Api(own)
                i = 0
                while not stop.is_set():
                    i += 1
                    order_id, qty = f"SO-{n}-{i}", 1 + (n + i) % 3
                    answers.append((order_id, qty, place_edi(mine, order_id, qty)))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
        for t in threads:
            t.start()
        killed = 0
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline:
            time.sleep(0.5)
            killed += terminate_backends(database_name(database_url))
        stop.set()
        for t in threads:
            t.join(60)
        assert killed > 0

        responses = [r for _, _, r in answers]
        print(f"killed {killed} backends under load: {describe(responses)}")
        assert all(r.status_code == 201 or unavailable(r) for r in responses), describe(responses)
        # A client retries a 503 with the same Idempotency-Key: the order is recorded once.
        for order_id, qty, r in answers:
            if r.status_code != 201:
                again = place_edi(api, order_id, qty)
                assert again.status_code == 201, again.text
        assert_acknowledged_orders_are_recorded(api, {order_id: qty for order_id, qty, _ in answers})
        check_invariants(app.svc)


def test_an_unreachable_store_answers_503_and_the_service_recovers_by_itself(database_url: str) -> None:
    if not is_postgres(database_url):
        pytest.skip("PostgreSQL only; SQLite's fault is a lock (below)")
    proxy = Proxy((PG_HOST, PG_PORT))
    via_proxy = f"postgresql://{PG_USER}@127.0.0.1:{proxy.port}/{database_name(database_url)}"
    try:
        with serve(make_settings(via_proxy, tax_rates=RATES)) as app, httpx.Client(base_url=app.base, timeout=60) as c:
            api = Api(c)
            seed(api)
            receive(api, "R-1", "W-A", "BOLT-10", 50)
            assert place_edi(api, "SO-1", 2).status_code == 201
            shipment = {"shipment_id": "SH-1", "order_id": "SO-1", "warehouse_id": "W-A"}
            assert api.post("/v1/shipments", {**shipment, "lines": [{"sku": "BOLT-10", "qty": 2}]}).status_code == 201

            proxy.cut()
            # Commands from several clients at once, and reads: each a retryable 503, none a 500.
            during: list[httpx.Response] = []

            def try_order(n: int) -> None:
                with httpx.Client(base_url=app.base, timeout=60) as own:
                    during.append(place_edi(Api(own), f"SO-OUT-{n}", 1))

            threads = [threading.Thread(target=try_order, args=(n,)) for n in range(8)]
            cut_at = time.monotonic()
            for t in threads:
                t.start()
            reads = [api.get("/v1/orders/SO-1"), api.get("/v1/invoices", order_id="SO-1"), api.get("/v1/events")]
            for t in threads:
                t.join(60)
            assert len(during) == 8 and all(unavailable(r) for r in during), describe(during)
            print(f"store cut off: 8 commands and 3 reads answered 503 within {time.monotonic() - cut_at:.1f} s")
            assert all(unavailable(r) for r in reads), describe(reads)
            ready = httpx.get(f"{app.base}/readyz", timeout=30)
            assert ready.status_code == 503 and ready.headers.get("retry-after"), ready.text

            proxy.restore()
            restored_at = time.monotonic()
            # No restart, no operator: the next attempt of the same command goes through.
            recovered = wait_until(lambda: place_edi(api, "SO-OUT-0", 1).status_code == 201, timeout=30, interval=0.5)
            assert recovered, "the service did not recover after the store came back"
            print(f"store back: first command accepted after {time.monotonic() - restored_at:.1f} s")
            for n in range(1, 8):
                assert place_edi(api, f"SO-OUT-{n}", 1).status_code == 201
            assert place_edi(api, "SO-2", 3).status_code == 201
            assert_acknowledged_orders_are_recorded(api, {"SO-1": 2, "SO-2": 3} | {f"SO-OUT-{n}": 1 for n in range(8)})
            # The runner and workflows kept going: SH-1 was invoiced, the read models caught up.
            rows = check_invariants(app.svc)
            assert [r["shipment_id"] for r in rows["invoices.invoices"]] == ["SH-1"]
    finally:
        proxy.close()


@dataclass(frozen=True)
class ShortLockSettings(Settings):
    """The service with SQLite's lock timeout lowered from 30 s to 1 s, so a lock can outlast it in a test."""

    def eventsourcing_env(self) -> dict[str, str]:
        return {**super().eventsourcing_env(), "SQLITE_LOCK_TIMEOUT": "1"}


def test_a_locked_sqlite_database_is_waited_out_and_a_lasting_lock_answers_503(database_url: str) -> None:
    if is_postgres(database_url):
        pytest.skip("SQLite only: a file lock held by another connection")
    settings = ShortLockSettings(database_url=database_url, admin_key=ADMIN_KEY, tax_rates=RATES, **TEST_POOL)
    path = settings.sqlite_path
    with serve(settings) as app, httpx.Client(base_url=app.base, timeout=60) as c:
        api = Api(c)
        seed(api)
        receive(api, "R-1", "W-A", "BOLT-10", 50)
        assert place_edi(api, "SO-1", 2).status_code == 201
        blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            # A lock longer than the busy timeout but shorter than the ledger's patience: retried, then saved.
            blocker.execute("BEGIN IMMEDIATE")
            threading.Timer(2.0, lambda: blocker.execute("ROLLBACK")).start()
            r = place_edi(api, "SO-2", 1)
            assert r.status_code == 201, r.text

            # A lock that outlasts the patience: 503 with Retry-After; reads still answer (WAL).
            wait_until(lambda: not blocker.in_transaction, timeout=10)
            blocker.execute("BEGIN IMMEDIATE")
            r = place_edi(api, "SO-3", 1)
            assert unavailable(r), f"{r.status_code} {r.text}"
            assert api.get("/v1/orders/SO-1").status_code == 200
            blocker.execute("ROLLBACK")
        finally:
            if blocker.in_transaction:
                blocker.execute("ROLLBACK")
            blocker.close()
        assert place_edi(api, "SO-3", 1).status_code == 201
        assert_acknowledged_orders_are_recorded(api, {"SO-1": 2, "SO-2": 1, "SO-3": 1})
        check_invariants(app.svc)


def test_only_connectivity_errors_count_as_an_unreachable_store(tmp_path: Any) -> None:
    """The errors come from the real drivers: a missing table is a bug (500), a lock or a refused
    connection is the store being away (503)."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}", connect_args={"timeout": 0.1})
    with pytest.raises(sa.exc.OperationalError) as missing:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT * FROM no_such_table"))
    assert not unreachable(missing.value)

    holder = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(sa.exc.OperationalError) as locked:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    holder.execute("ROLLBACK")
    holder.close()
    engine.dispose()
    assert "locked" in str(locked.value) and unreachable(locked.value)

    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    refused = sa.create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/x")
    with pytest.raises(sa.exc.OperationalError) as away:
        refused.connect()
    assert unreachable(away.value)
