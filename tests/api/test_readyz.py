"""GET /readyz answers 503 while any read model or workflow is stuck on an error, whatever its lag
(API.md, Corrections to the first edition), in the process that runs it and in processes that
only serve the API; it is ready again as soon as the follower applies the log again. An event a
read model cannot store does not make it stuck at all: it is parked and the read model moves on.
Both stores."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import TestClient

from api.app import READY_MAX_LAG, create_app
from domain import catalog
from infra.ledger.kinds import PRODUCT
from infra.ledger.unitofwork import Context, UnitOfWork
from infra.service import Service
from infra.settings import Settings
from tests.conftest import Api, seed, wait_until


def service_of(api: Api) -> Service:
    svc: Service = api.client.app.state.service  # type: ignore[union-attr]
    return svc


def ready(api: Api) -> tuple[int, dict[str, Any]]:
    r = api.client.get("/readyz")
    return r.status_code, r.json()


def keep_failing(monkeypatch: pytest.MonkeyPatch, svc: Service, name: str) -> None:
    """The read model `name` fails every batch from now on (a bug, a table it cannot write)."""

    def failing(records: Any, upto: int) -> None:
        raise RuntimeError(f"{name} cannot write its batch")

    monkeypatch.setattr(svc.read[name], "process", failing)


def put_product(api: Api, sku: str, name: str) -> int:
    r = api.put(f"/v1/products/{sku}", {"name": name, "unit_price": "1.00"})
    assert r.status_code in (200, 201), r.text
    position: int = r.json()["position"]
    return position


def test_readyz_is_503_while_a_read_model_is_stuck_on_an_error_whatever_its_lag_and_200_once_it_follows(
    seeded: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = seeded
    svc = service_of(api)
    assert wait_until(lambda: ready(api)[0] == 200, timeout=10), ready(api)

    keep_failing(monkeypatch, svc, "orders")
    put_product(api, "WASHER-1", "Washer")  # one event: the orders read model trails by 1

    def stuck() -> tuple[int, dict[str, Any]] | None:
        status, body = ready(api)
        return (status, body) if status == 503 else None

    found = wait_until(stuck, timeout=10)
    assert found, ready(api)
    _, body = found
    assert body["status"] == "not_ready"
    assert body["stuck"] == {"orders": "RuntimeError: orders cannot write its batch"}
    assert 0 < body["projection_lag"]["orders"] <= READY_MAX_LAG  # not behind: stuck
    assert svc.runner is not None and svc.runner.stuck() == body["stuck"]

    monkeypatch.undo()  # the bug is fixed: the next retry applies the batch
    assert wait_until(lambda: ready(api)[0] == 200, timeout=10), ready(api)
    assert "stuck" not in ready(api)[1]


def test_a_product_name_with_nul_recorded_past_the_edge_is_parked_by_atp_which_goes_on_and_stays_ready(
    seeded: Api,
) -> None:
    """Issue 11: on PostgreSQL the ATP batch failed for good on the NUL while /readyz said ready."""
    api = seeded
    svc = service_of(api)

    def bad(uow: UnitOfWork) -> None:
        event = catalog.ProductDefined(sku="BAD-1", name="Bad\x00name", unit_price=Decimal("1.00"), uom="EA")
        uow.record(PRODUCT, "BAD-1", [event])

    parked_at = svc.ledger.run(Context(actor="test", correlation_id="c-nul", causation_id="test"), bad).position
    after = put_product(api, "WASHER-1", "Washer")

    atp = api.get("/v1/atp/WASHER-1", min_position=after)
    assert atp.status_code == 200, atp.text  # ATP went past the bad event
    assert [(p["event_type"], p["position"]) for p in svc.read["atp"].parked()] == [("ProductDefined", parked_at)]
    signals = api.get("/v1/ops/signals", min_position=after).json()
    assert signals["parked_events"]["atp"] == 1 and signals["projection_lag"]["atp"] == 0
    assert wait_until(lambda: ready(api)[0] == 200, timeout=10), ready(api)
    _, body = ready(api)
    assert "stuck" not in body and body["projection_lag"]["atp"] == 0


@pytest.fixture
def workers(settings: Settings) -> Iterator[Service]:
    """A process that runs the read models and workflows (`o2c worker`)."""
    svc = Service.start(settings)
    svc.start_workers()
    yield svc
    svc.close()


def test_an_api_only_process_answers_503_while_the_worker_process_has_a_stuck_read_model(
    settings: Settings, workers: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(settings, workers=False)) as client:  # `o2c serve --no-workers`
        api = Api(client)
        seed(api)
        assert wait_until(lambda: ready(api)[0] == 200, timeout=10), ready(api)
        assert service_of(api).runner is None

        keep_failing(monkeypatch, workers, "balances")
        put_product(api, "WASHER-1", "Washer")
        assert wait_until(lambda: ready(api)[0] == 503, timeout=10), ready(api)
        assert ready(api)[1]["stuck"] == {"balances": "RuntimeError: balances cannot write its batch"}

        monkeypatch.undo()
        assert wait_until(lambda: ready(api)[0] == 200, timeout=10), ready(api)
        assert "stuck" not in ready(api)[1]
