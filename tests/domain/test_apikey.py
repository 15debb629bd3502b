"""API keys as an audited aggregate: a name is used once, only a live key rotates, revoking twice records nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain import apikey
from domain.errors import DuplicateIdError, NotFoundError
from tests.spec import spec

T0 = datetime(2026, 12, 1, 9, tzinfo=UTC)
LATER = T0 + timedelta(hours=1)
keys = spec(apikey.decider, "portal-acme")
CREATED = apikey.ApiKeyCreated(name="portal-acme", scopes=("read",), customers=("C1",), expires_at=None, at=T0)


def test_a_new_name_creates_a_key_with_its_scopes_customers_and_expiry() -> None:
    until = T0 + timedelta(days=30)
    keys.when(apikey.CreateApiKey("portal-acme", ("orders:write", "read"), ("C1", "C2"), until, T0)).then(
        apikey.ApiKeyCreated(
            name="portal-acme", scopes=("orders:write", "read"), customers=("C1", "C2"), expires_at=until, at=T0
        )
    )


def test_a_name_is_used_once_even_after_revocation() -> None:
    create = apikey.CreateApiKey("portal-acme", ("read",), None, None, LATER)
    keys.given(CREATED).when(create).then_raises(DuplicateIdError, name="portal-acme")
    revoked = apikey.ApiKeyRevoked(name="portal-acme", at=T0)
    keys.given(CREATED, revoked).when(create).then_raises(DuplicateIdError)


def test_rotation_records_until_when_the_old_key_still_works() -> None:
    keys.given(CREATED).when(apikey.RotateApiKey("portal-acme", 600, LATER)).then(
        apikey.ApiKeyRotated(name="portal-acme", previous_valid_until=LATER + timedelta(seconds=600), at=LATER)
    )


def test_only_a_live_key_rotates() -> None:
    rotate = apikey.RotateApiKey("portal-acme", 0, LATER)
    keys.when(rotate).then_raises(NotFoundError, name="portal-acme")
    keys.given(CREATED, apikey.ApiKeyRevoked(name="portal-acme", at=T0)).when(rotate).then_raises(
        apikey.KeyRevokedError
    )
    expiring = apikey.ApiKeyCreated(name="portal-acme", scopes=("read",), expires_at=T0 + timedelta(minutes=5), at=T0)
    keys.given(expiring).when(rotate).then_raises(apikey.KeyExpiredError)


def test_revoking_twice_records_nothing_the_second_time_and_an_unknown_key_is_not_found() -> None:
    revoke = apikey.RevokeApiKey("portal-acme", LATER)
    state = keys.given(CREATED).when(revoke).then(apikey.ApiKeyRevoked(name="portal-acme", at=LATER))
    assert state is not None and state.revoked_at == LATER
    keys.given(CREATED, apikey.ApiKeyRevoked(name="portal-acme", at=LATER)).when(revoke).then()
    keys.when(revoke).then_raises(NotFoundError)


def test_a_key_older_than_the_audit_trail_gets_its_creation_recorded_before_its_first_change() -> None:
    old = apikey.ApiKey("portal-acme", ("read",), None, None, T0)
    adopted = apikey.ApiKeyCreated(name="portal-acme", scopes=("read",), customers=None, expires_at=None, at=T0)
    keys.when(apikey.RevokeApiKey("portal-acme", LATER, existing=old)).then(
        adopted, apikey.ApiKeyRevoked(name="portal-acme", at=LATER)
    )
    keys.when(apikey.RotateApiKey("portal-acme", 0, LATER, existing=old)).then(
        adopted, apikey.ApiKeyRotated(name="portal-acme", previous_valid_until=LATER, at=LATER)
    )
