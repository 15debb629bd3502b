"""API keys: stored as SHA-256 hashes only, with scopes, customers and an expiry; cached briefly by running servers.

The table is what authentication reads; every change to it is first recorded as an event on the key's stream
(domain/apikey.py, written by api/keys.py), so the table never holds a key the audit trail does not know.
A rotated key's old hash stays valid in `o2c_api_key_grace` until its grace ends."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from domain.apikey import SCOPES
from domain.values import is_valid_id
from infra.schema import create_missing, present_columns

__all__ = ["SCOPES", "KeyRing", "Principal", "api_keys", "parse_scopes"]

metadata = sa.MetaData()
api_keys = sa.Table(
    "o2c_api_keys",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.String(400), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("customers", sa.Text, nullable=True),  # comma-separated customer ids; NULL: every customer
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
)
grace = sa.Table(
    "o2c_api_key_grace",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(64), nullable=False, index=True),
    sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
)
ADDED_COLUMNS = ("customers", "expires_at")  # columns newer than the first edition of the table

log = logging.getLogger("o2c.keys")


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a key's name (the actor of what it records), its scopes and, for a key
    scoped to customers, those customers alone."""

    name: str
    scopes: frozenset[str]
    customers: frozenset[str] | None = None
    valid_until: datetime | None = None  # the key's expiry, or the end of a rotated key's grace

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _aware(value: datetime | None) -> datetime | None:
    """Every stored time is UTC: SQLite hands it back naive, PostgreSQL in the session's time zone."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_scopes(text: str) -> frozenset[str]:
    if text.strip() == "*":
        return frozenset({"admin"})
    scopes = frozenset(s.strip() for s in text.split(",") if s.strip())
    unknown = scopes - SCOPES
    if not scopes or unknown:
        raise ValueError(
            f"unknown scopes: {', '.join(sorted(unknown)) or '(none given)'}; choose from {', '.join(sorted(SCOPES))}"
        )
    return scopes


def check_name(name: str) -> None:
    if not is_valid_id(name):  # the name is the actor of every event the key records
        raise ValueError(f"a key name is 1-64 characters of A-Z a-z 0-9 . _ : - (got {name!r})")


def _add_new_columns(engine: sa.Engine) -> None:
    """A key table made by an older version gains the new columns (nullable: old keys see every customer)."""
    with engine.begin() as conn:
        present = present_columns(conn, [api_keys.name])[api_keys.name]
        for name in ADDED_COLUMNS:
            if name not in present:
                column = api_keys.c[name]
                kind = column.type.compile(dialect=engine.dialect)
                conn.execute(sa.text(f"ALTER TABLE {api_keys.name} ADD COLUMN {name} {kind}"))


class KeyRing:
    """Looks up presented keys; reloads from the database at most `ttl` seconds apart."""

    def __init__(self, engine: sa.Engine, admin_key: str | None, ttl: float = 0.5) -> None:
        self.engine = engine
        self.admin_key_hash = _hash(admin_key) if admin_key else None
        self.ttl = ttl
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)  # the service puts its clock here
        self._by_hash: dict[str, Principal] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        self._install = threading.Lock()
        self._changes = 0
        create_missing(engine, metadata)
        _add_new_columns(engine)

    def create(
        self,
        name: str,
        scopes: frozenset[str],
        customers: frozenset[str] | None = None,
        expires_at: datetime | None = None,
        created_at: datetime | None = None,
    ) -> str:
        check_name(name)
        key = "o2c_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            existing = conn.execute(sa.select(api_keys.c.name).where(api_keys.c.name == name)).first()
            if existing:
                raise ValueError(f"a key named {name!r} already exists")
            conn.execute(
                api_keys.insert().values(
                    name=name,
                    key_hash=_hash(key),
                    scopes=",".join(sorted(scopes)),
                    created_at=created_at or self.now(),
                    customers=",".join(sorted(customers)) if customers is not None else None,
                    expires_at=expires_at,
                )
            )
        self._changed()
        return key

    def rotate(self, name: str, previous_valid_until: datetime) -> str:
        """A new key for `name`; the one it replaces keeps working until `previous_valid_until`."""
        key = "o2c_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            row = conn.execute(
                sa.select(api_keys.c.key_hash).where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
            ).first()
            if row is None:
                raise ValueError(f"no active key named {name!r}")
            conn.execute(grace.delete().where(grace.c.valid_until <= self.now()))  # graces that have ended
            if previous_valid_until > self.now():
                conn.execute(grace.insert().values(key_hash=row.key_hash, name=name, valid_until=previous_valid_until))
            conn.execute(api_keys.update().where(api_keys.c.name == name).values(key_hash=_hash(key)))
        self._changed()
        return key

    def revoke(self, name: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                api_keys.update()
                .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=self.now())
            )
            conn.execute(grace.delete().where(grace.c.name == name))  # a revoked key's old key stops too
        self._changed()
        return bool(result.rowcount)

    def list(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.name)).mappings().all()
        return [
            {
                "name": r["name"],
                "scopes": r["scopes"],
                "customers": [c for c in r["customers"].split(",") if c] if r["customers"] is not None else None,
                "expires_at": _aware(r["expires_at"]),
                "created_at": _aware(r["created_at"]),
                "revoked_at": _aware(r["revoked_at"]),
            }
            for r in rows
        ]

    def _changed(self) -> None:
        """This process changed the keys: reload now, and let no reload that read before the change
        install its older list afterwards (the background reload races with create and revoke)."""
        self._changes += 1
        self._refresh()

    def _refresh(self) -> None:
        seen = self._changes
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    api_keys.c.name, api_keys.c.key_hash, api_keys.c.scopes, api_keys.c.customers, api_keys.c.expires_at
                ).where(api_keys.c.revoked_at.is_(None))
            ).all()
            retiring = conn.execute(sa.select(grace)).all()
        loaded: dict[str, Principal] = {}
        by_name: dict[str, Principal] = {}
        for r in rows:
            customers = frozenset(c for c in r.customers.split(",") if c) if r.customers is not None else None
            principal = Principal(r.name, frozenset(r.scopes.split(",")), customers, _aware(r.expires_at))
            loaded[r.key_hash] = by_name[r.name] = principal
        for g in retiring:
            current = by_name.get(g.name)
            if current is None:
                continue
            until = _aware(g.valid_until) or datetime.min.replace(tzinfo=UTC)
            expiry = current.valid_until
            loaded[g.key_hash] = Principal(
                current.name, current.scopes, current.customers, until if expiry is None else min(expiry, until)
            )
        with self._install:
            if seen != self._changes:
                return  # a change was made while this list was read: the newer reload installs its own
            self._by_hash = loaded
            self._loaded_at = time.monotonic()

    def keep_fresh(self, stop: threading.Event) -> None:
        """Reload the key list every `ttl` seconds in a background thread, so requests never wait
        for it (nor pile into worker threads the moment it expires)."""

        def loop() -> None:
            while not stop.wait(self.ttl / 2):
                try:
                    self._refresh()
                except Exception:
                    log.warning("reloading API keys failed; will retry", exc_info=True)

        threading.Thread(target=loop, name="o2c-keys", daemon=True).start()

    @property
    def fresh(self) -> bool:
        """Whether the cached key list is recent enough to answer without the database."""
        return time.monotonic() - self._loaded_at <= self.ttl

    def authenticate(self, key: str) -> Principal | None:
        digest = _hash(key)
        if self.admin_key_hash is not None and hmac.compare_digest(digest, self.admin_key_hash):
            return Principal("admin", frozenset({"admin"}))
        if time.monotonic() - self._loaded_at > self.ttl:
            with self._lock:
                if time.monotonic() - self._loaded_at > self.ttl:
                    self._refresh()
        # Only SHA-256 digests are compared, so lookup timing reveals nothing about stored keys.
        found = self._by_hash.get(digest)
        if found is not None and found.valid_until is not None and found.valid_until <= self.now():
            return None  # expired, or a rotated key past its grace: as unknown as a key never issued
        return found
