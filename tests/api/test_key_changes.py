"""Keys created or revoked by another process (`o2c keys`) take effect on a running server within
1 s (API.md), without the requests that arrive meanwhile waiting for the key list. Both stores."""

from __future__ import annotations

import time

import httpx
import sqlalchemy as sa

from infra.adapters.keys import KeyRing
from infra.eventstore.engine import make_engine
from infra.settings import Settings


def status_with(base: str, key: str) -> int:
    return httpx.get(f"{base}/v1/orders", headers={"Authorization": f"Bearer {key}"}, timeout=5).status_code


def first_time(base: str, key: str, wanted: int, limit: float = 3.0) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if status_with(base, key) == wanted:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"the key never answered {wanted}")


def test_a_key_made_elsewhere_works_within_a_second_and_stops_within_a_second(served: str, settings: Settings) -> None:
    engine: sa.Engine = make_engine(settings)
    other_process = KeyRing(engine, admin_key=None)  # what `o2c keys` does, on the same database
    try:
        key = other_process.create("webshop", frozenset({"read"}))
        assert first_time(served, key, 200) <= 1.0

        assert other_process.revoke("webshop")
        assert first_time(served, key, 401) <= 1.0
    finally:
        engine.dispose()


def test_a_key_name_is_an_id_because_it_becomes_the_actor_of_every_event(settings: Settings) -> None:
    engine: sa.Engine = make_engine(settings)
    try:
        ring = KeyRing(engine, admin_key=None)
        for bad in ("", "web shop", "portal\n", "x" * 65, "<script>"):
            try:
                ring.create(bad, frozenset({"read"}))
            except ValueError as exc:
                assert "key name" in str(exc)
            else:
                raise AssertionError(f"{bad!r} was accepted as a key name")
        assert ring.create("portal:acme-1", frozenset({"read"})).startswith("o2c_")
    finally:
        engine.dispose()


def test_a_rotation_and_a_revocation_made_elsewhere_take_effect_within_a_second(
    served: str, settings: Settings
) -> None:
    from api.keys import KeyAdmin
    from infra.ledger.unitofwork import Context
    from infra.service import Service

    elsewhere = Service.start(settings)  # what `o2c keys create|rotate|revoke` runs, on the same database
    try:
        admin, ctx = KeyAdmin(elsewhere), Context("ops", "rotation-test", "test")
        old, _ = admin.create(ctx, "portal", frozenset({"read"}), None, None)
        assert first_time(served, old, 200) <= 1.0
        new, _, _ = admin.rotate(ctx, "portal", 0)
        assert first_time(served, new, 200) <= 1.0
        assert first_time(served, old, 401) <= 1.0
        admin.revoke(ctx, "portal")
        assert first_time(served, new, 401) <= 1.0
    finally:
        elsewhere.close()
