"""The SQLAlchemy engine every part of the service shares: pooled PostgreSQL, or SQLite in WAL mode."""

from __future__ import annotations

import sqlalchemy as sa

from infra.settings import Settings


def make_engine(settings: Settings) -> sa.Engine:
    if settings.is_postgres:
        engine = sa.create_engine(
            settings.sqlalchemy_url(),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 5},  # an unreachable server fails fast (503), never hangs
        )
        # Batch executemany INSERTs into multi-row VALUES pages (read-model writes), not row by row.
        engine.dialect.use_insertmanyvalues_wo_returning = True  # type: ignore[attr-defined]
        return engine
    engine = sa.create_engine(settings.sqlalchemy_url(), connect_args={"timeout": 30, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    return engine
