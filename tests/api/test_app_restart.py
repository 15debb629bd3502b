"""One app, started again: every start is a new service on the settings it is given, and nothing of
a run outlives it (rate-limit buckets, the service). The test fixtures rely on this to build the
routes once per process (tests/conftest.py `app_for`, docs/decisions/0030)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from litestar.testing import TestClient

from api.app import create_app, rebind
from infra.settings import RateLimit
from tests.conftest import ADMIN_KEY, make_settings

AUTH = {"Authorization": f"Bearer {ADMIN_KEY}"}
TINY = RateLimit(per_second=0.01, burst=2)  # nothing refills while the test runs


def test_a_stopped_app_starts_again_on_another_database_with_nothing_of_its_last_run(
    database_url: str, tmp_path: Path
) -> None:
    first = make_settings(database_url, rate_limit=TINY)
    app = create_app(first)
    with TestClient(app) as client:
        assert client.put("/v1/warehouses/W-A", json={"name": "A"}, headers=AUTH).status_code == 201
        assert client.get("/v1/warehouses/W-A", headers=AUTH).status_code == 200
        assert client.get("/v1/warehouses/W-A", headers=AUTH).status_code == 429  # the burst is spent
        first_service = client.app.state.service
    assert app.state.provided.started is None  # stopped: nothing of the run is held

    other = replace(first, database_url=f"sqlite:///{tmp_path / 'other.db'}")
    rebind(app, other)
    with TestClient(app) as client:
        assert client.app.state.service is not first_service
        assert client.app.state.service.settings.database_url == other.database_url
        assert client.get("/v1/warehouses/W-A", headers=AUTH).status_code == 404  # the other database
        assert client.get("/v1/warehouses/W-A", headers=AUTH).status_code == 404  # a full bucket again
        assert client.get("/v1/warehouses/W-A", headers=AUTH).status_code == 429

    rebind(app, first)
    with TestClient(app) as client:
        assert client.get("/v1/warehouses/W-A", headers=AUTH).status_code == 200  # what the first run wrote


def test_a_running_app_cannot_be_pointed_elsewhere_nor_rebuilt_with_other_tracing(database_url: str) -> None:
    settings = make_settings(database_url)
    app = create_app(settings, workers=False)
    with TestClient(app):
        with pytest.raises(RuntimeError, match="running"):
            rebind(app, settings)
    with pytest.raises(ValueError, match="traces"):
        rebind(app, replace(settings, otlp_endpoint="http://127.0.0.1:4318"))
