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


def takes_effect_within(base: str, key: str, wanted: int, seconds: float = 1.0) -> bool:
    """Whether every request sent `seconds` or more after the change is answered `wanted`.

    A request's own round trip is not counted against the server: on a loaded machine a request
    sent at 0.98 s may be answered after 1 s, and that answer is still within the contract. The
    first request sent at or after `seconds` must see the change, and so must the one after it."""
    changed = time.monotonic()
    while True:
        sent = time.monotonic() - changed
        status = status_with(base, key)
        if status == wanted:
            return status_with(base, key) == wanted  # and it stays changed
        if sent >= seconds:
            return False
        time.sleep(0.02)


def test_a_key_made_elsewhere_works_within_a_second_and_stops_within_a_second(served: str, settings: Settings) -> None:
    engine: sa.Engine = make_engine(settings)
    other_process = KeyRing(engine, admin_key=None)  # what `o2c keys` does, on the same database
    try:
        key = other_process.create("webshop", frozenset({"read"}))
        assert takes_effect_within(served, key, 200)

        assert other_process.revoke("webshop")
        assert takes_effect_within(served, key, 401)
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
        assert takes_effect_within(served, old, 200)
        new, _, _ = admin.rotate(ctx, "portal", 0)
        assert takes_effect_within(served, new, 200)
        assert takes_effect_within(served, old, 401)
        admin.revoke(ctx, "portal")
        assert takes_effect_within(served, new, 401)
    finally:
        elsewhere.close()
