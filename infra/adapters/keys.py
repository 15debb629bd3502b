"""API keys: stored as SHA-256 hashes only, with scopes; cached briefly by running servers."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from domain.values import is_valid_id

SCOPES = frozenset(
    {"catalog:write", "orders:write", "inventory:write", "shipments:write", "finance:write", "read", "admin"}
)

metadata = sa.MetaData()
api_keys = sa.Table(
    "o2c_api_keys",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("scopes", sa.String(400), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

log = logging.getLogger("o2c.keys")


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return "admin" in self.scopes or scope in self.scopes


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


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


class KeyRing:
    """Looks up presented keys; reloads from the database at most `ttl` seconds apart."""

    def __init__(self, engine: sa.Engine, admin_key: str | None, ttl: float = 0.5) -> None:
        self.engine = engine
        self.admin_key_hash = _hash(admin_key) if admin_key else None
        self.ttl = ttl
        self._by_hash: dict[str, Principal] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        self._install = threading.Lock()
        self._changes = 0
        metadata.create_all(engine)

    def create(self, name: str, scopes: frozenset[str]) -> str:
        if not is_valid_id(name):  # the name is the actor of every event the key records
            raise ValueError(f"a key name is 1-64 characters of A-Z a-z 0-9 . _ : - (got {name!r})")
        key = "o2c_" + secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            existing = conn.execute(sa.select(api_keys.c.name).where(api_keys.c.name == name)).first()
            if existing:
                raise ValueError(f"a key named {name!r} already exists")
            conn.execute(
                api_keys.insert().values(
                    name=name, key_hash=_hash(key), scopes=",".join(sorted(scopes)), created_at=datetime.now(UTC)
                )
            )
        self._changed()
        return key

    def revoke(self, name: str) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(
                api_keys.update()
                .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        self._changed()
        return bool(result.rowcount)

    def list(self) -> list[dict[str, object]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.name)).mappings().all()
        return [
            {"name": r["name"], "scopes": r["scopes"], "created_at": r["created_at"], "revoked_at": r["revoked_at"]}
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
                sa.select(api_keys.c.name, api_keys.c.key_hash, api_keys.c.scopes).where(
                    api_keys.c.revoked_at.is_(None)
                )
            ).all()
        loaded = {r.key_hash: Principal(r.name, frozenset(r.scopes.split(","))) for r in rows}
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
        return self._by_hash.get(digest)
