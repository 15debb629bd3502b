"""O2C_DB_POOL_SIZE and O2C_DB_MAX_OVERFLOW: the PostgreSQL connections each of the service's two pools
(the event store's and the read side's) keeps open, and how many more it opens under load."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from infra.service import Service
from infra.settings import ConfigError, load_settings
from tests.conftest import _admin_engine, make_settings, wait_until


def test_defaults_are_10_kept_and_20_more_on_demand() -> None:
    settings = load_settings({})
    assert (settings.db_pool_size, settings.db_max_overflow) == (10, 20)


def test_accepted_values_reach_both_pools() -> None:
    settings = load_settings(
        {"O2C_DATABASE_URL": "postgresql://u@h:5432/d", "O2C_DB_POOL_SIZE": " 4 ", "O2C_DB_MAX_OVERFLOW": "0"}
    )
    assert (settings.db_pool_size, settings.db_max_overflow) == (4, 0)
    env = settings.eventsourcing_env()
    assert (env["POSTGRES_POOL_SIZE"], env["POSTGRES_MAX_OVERFLOW"]) == ("4", "0")


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("O2C_DB_POOL_SIZE", "0"),
        ("O2C_DB_POOL_SIZE", "201"),
        ("O2C_DB_POOL_SIZE", "-3"),
        ("O2C_DB_POOL_SIZE", "ten"),
        ("O2C_DB_MAX_OVERFLOW", "1001"),
        ("O2C_DB_MAX_OVERFLOW", "2.5"),
    ],
)
def test_bad_values_stop_start_up_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


def backends(database: str) -> int:
    admin = _admin_engine()
    try:
        with admin.connect() as conn:
            found = conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db"), {"db": database})
            return int(found.scalar() or 0)
    finally:
        admin.dispose()


def test_a_service_under_load_holds_no_more_connections_than_its_two_pools_allow(database_url: str) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has no connection pool to size")
    database = database_url.rsplit("/", 1)[1]
    service = Service.start(make_settings(database_url, db_pool_size=2, db_max_overflow=1))
    try:
        # The event store's pool opens its kept connections at start (the default would be 10).
        assert wait_until(lambda: backends(database) >= 2, timeout=10)
        highest = 0

        def read(_: int) -> None:
            nonlocal highest
            service.read.list_orders(None, None, 5, None)
            service.store.head()
            highest = max(highest, backends(database))

        with ThreadPoolExecutor(12) as pool:
            list(pool.map(read, range(60)))
        assert 2 <= highest <= 2 * (2 + 1)
    finally:
        service.close()
