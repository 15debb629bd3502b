"""A read with `min_position=N` never answers from a read model behind N, while rebuilds run in
another process's way (`o2c rebuild --all` against a running server's database) and swap tables."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

from litestar.testing import TestClient

from api.app import create_app
from infra.readside.rebuild import rebuild_together
from infra.service import Service
from infra.settings import Settings
from tests.conftest import Api, seed
from tests.http import line, ok, place, read, receive

SECONDS = 6.0


def test_min_position_reads_never_answer_behind_while_another_process_rebuilds(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        api = Api(client)
        seed(api)
        receive(api, "R-1", "W-A", "BOLT-10", 1_000_000)
        for i in range(40):
            ok(place(api, f"PRE-{i}", [line("BOLT-10", 1)], customer_id="C2"))

        stop = threading.Event()
        rebuilt: list[int] = []
        errors: list[BaseException] = []

        def rebuild_elsewhere() -> None:  # what `o2c rebuild --all` does, with its own service and engine
            other = Service.start(settings)
            try:
                while not stop.is_set():
                    rebuild_together(list(other.read.projections.values()))
                    rebuilt.append(1)
            except BaseException as exc:  # noqa: BLE001 - reported by the test
                errors.append(exc)
            finally:
                other.close()

        thread = threading.Thread(target=rebuild_elsewhere, daemon=True)
        thread.start()
        placed = 0
        stale: list[Any] = []
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline or not rebuilt:
            placed += 1
            answer = ok(place(api, f"SO-{placed}", [line("BOLT-10", 1)]))
            position = answer["position"]
            listed = read(api, "/v1/orders", position, customer_id="C1", limit=1000)["items"]
            if len(listed) != placed:
                stale.append(("orders", placed, len(listed)))
            balance = read(api, "/v1/customers/C1/balance", position)
            if Decimal(balance["unbilled"]) != Decimal("8.50") * placed:
                stale.append(("balance", placed, balance["unbilled"]))
            atp = read(api, "/v1/atp/BOLT-10", position)
            if atp["reserved"] != placed + 40:
                stale.append(("atp", placed, atp["reserved"]))
        stop.set()
        thread.join(60)
        assert not errors, errors
        assert rebuilt, "no rebuild finished while the reads ran"
        assert not stale, stale[:10]
