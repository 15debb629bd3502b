"""Verification runs where the read models are fed (decision 0024): the process holding every read
model's lock claims the pending verification and pins the live rows under the projections' own locks;
an API process that feeds none hands it over, and runs it itself only when nobody claims it."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from api import cli
from api.app import create_app
from infra.readside import verifications as verifying
from infra.readside.verifications import Verifications
from infra.service import Service
from infra.settings import Settings
from infra.workers.verifying import process_name
from tests.api.test_verify import _business, _corrupt
from tests.conftest import ADMIN_KEY, Api, settle, wait_until
from tests.http import ok


def _done(svc: Service, verification_id: str, timeout: float = 30) -> dict[str, Any]:
    found = Verifications(svc.engine)
    row = wait_until(lambda: (r := found.get(verification_id)) is not None and r["status"] == "done" and r, timeout)
    assert row, found.get(verification_id)
    assert row["error"] is None, row["error"]
    result: dict[str, Any] = row
    return result


def test_a_pending_verification_is_claimed_by_the_process_that_feeds_the_read_models(
    api: Api, client: TestClient[Any]
) -> None:
    svc: Service = client.app.state.service
    assert svc.verifier is not None
    svc.verifier.by = "the feeder"
    position = _business(api)
    verification_id = Verifications(svc.engine).open()  # as a request records it, without its fallback
    svc.verifier.wake()
    row = _done(svc, verification_id)
    assert row["runs_in"] == "the feeder"
    assert row["position"] >= position
    assert all(m["mismatches"] == 0 for m in row["read_models"].values()), row["read_models"]
    assert set(row["read_models"]) == set(svc.read.projections)


def test_nobody_feeding_the_read_models_the_asking_process_runs_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(settings)) as client:
        _business(Api(client))
        settle(client.app.state.service)
    monkeypatch.setattr(verifying, "GRACE", 0.5)
    with TestClient(create_app(settings, workers=False)) as client:  # an API process, no worker anywhere
        svc: Service = client.app.state.service
        assert svc.verifier is None
        started = ok(Api(client).post("/v1/admin/verify"), 202)
        path = f"/v1/admin/verify/{started['verification_id']}"
        assert ok(Api(client).get(path), 200)["status"] == "running"  # pending is running to the API
        row = _done(svc, started["verification_id"])
        assert row["runs_in"] == process_name()
        assert all(m["mismatches"] == 0 for m in row["read_models"].values())


def test_on_postgres_the_worker_holding_the_locks_runs_what_an_api_process_asks(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not settings.is_postgres:
        pytest.skip("one process on SQLite")
    with TestClient(create_app(settings)) as worker_client:  # holds every lock: feeds the read models
        worker: Service = worker_client.app.state.service
        assert worker.verifier is not None
        worker.verifier.by = "the worker"
        _business(Api(worker_client))
        settle(worker)
        with TestClient(create_app(settings, workers=False)) as api_client:
            api = Api(api_client)
            started = ok(api.post("/v1/admin/verify"), 202)
            row = _done(worker, started["verification_id"])
            assert row["runs_in"] == "the worker"
            assert all(m["mismatches"] == 0 for m in row["read_models"].values())
            _corrupt(worker)
            started = ok(api.post("/v1/admin/verify"), 202)
            path = f"/v1/admin/verify/{started['verification_id']}"
            body = wait_until(lambda: (b := ok(api.get(path), 200))["status"] == "done" and b, timeout=30)
            assert body and set(body) == {"verification_id", "status", "position", "read_models", "error"}
            assert Verifications(worker.engine).get(started["verification_id"])["runs_in"] == "the worker"  # type: ignore[index]
            assert body["read_models"]["orders"]["mismatches"] == 1
        monkeypatch.setenv("O2C_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("O2C_ADMIN_KEY", ADMIN_KEY)
        assert cli.main(["verify"]) == 1  # handed to the worker too, which finds the same drift
        captured = capsys.readouterr()
        assert "(run by the worker the worker)" in captured.out
        assert "mismatches in atp, orders" in captured.err
